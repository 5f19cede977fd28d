import { BlockList, isIP, type Socket } from 'node:net';
import { RawcrawlError } from '../errors.js';
import { DONE, NEED_DATA, ResponseParser } from '../http/response-parser.js';
import { mapSocketError, unbracket } from '../net/connect.js';
import type { WireEventBody } from '../wire/events.js';
import { basicAuthorization, urlCredentials, type Credentials } from './userinfo.js';

/** A proxy URL, checked. */
export interface ProxyUrl {
  /**
   * http: an HTTP proxy; https: an HTTP proxy spoken to over TLS (its certificate checked, as
   * curl does for an https:// proxy); socks5: SOCKS5, names resolved here; socks5h: SOCKS5,
   * names resolved by the proxy; socks4 and socks4a: the same for SOCKS4 (IPv4 only).
   */
  kind: 'http' | 'https' | 'socks4' | 'socks4a' | 'socks5' | 'socks5h';
  host: string;
  port: number;
  /** HTTP(S) proxy: the Proxy-Authorization value (Basic credentials), or null. */
  authorization: string | null;
  /** SOCKS5: user name and password (RFC 1929); SOCKS4: the user id (`user`, no password); or null. */
  credentials: Credentials | null;
  /** The proxy as shown in traces and errors: scheme, host and port, never credentials. */
  href: string;
}

/** How one request reaches its target through a proxy. */
export interface ProxyRoute extends ProxyUrl {
  /**
   * A tunnel to the target first, TLS (if any) end to end through it: CONNECT on an HTTP proxy
   * for https targets, always on SOCKS. false: an http target's requests go to the HTTP proxy
   * itself, in absolute form.
   */
  tunnel: boolean;
}

const DEFAULT_PORTS = { http: 80, https: 443, socks4: 1080, socks4a: 1080, socks5: 1080, socks5h: 1080 } as const;

const isKind = (k: string): k is ProxyUrl['kind'] => Object.hasOwn(DEFAULT_PORTS, k);

/** An HTTP proxy (http:// or https://), not SOCKS: it takes CONNECT, or requests in absolute form. */
export const isHttpProxy = (p: ProxyUrl): boolean => p.kind === 'http' || p.kind === 'https';

/**
 * Where a request goes through: an http:// proxy URL (`http://user:pass@proxy:3128`), or a
 * function that picks one for each URL (redirect hops included), null for a direct connection.
 */
export type ProxySetting = string | URL | null | ((target: URL) => string | URL | null);

/**
 * A proxy URL checked: `http://[user:pass@]host[:port]` (port 80 by default), `https://` (443;
 * TLS with the proxy, inside which go CONNECT tunnels and absolute-form requests),
 * `socks5://` or `socks5h://` (port 1080; socks5h lets the proxy resolve names, as Tor needs),
 * `socks4://` or `socks4a://` (the same for SOCKS4; a user id, no password).
 * Credentials become a Proxy-Authorization value (http) or RFC 1929 credentials (SOCKS5).
 */
export function parseProxyUrl(input: string | URL): ProxyUrl {
  let url: URL;
  try {
    // "proxy:3128" without a scheme means http://, as curl reads it.
    url = new URL(typeof input === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? `http://${input}` : String(input));
  } catch {
    throw new RawcrawlError('ERR_INVALID_OPTION', `proxy ${JSON.stringify(String(input).replace(/\/\/[^/@]*@/, '//…@'))} is not a valid URL`);
  }
  // Named in errors without its credentials, which error lines must not carry into logs.
  const shown = `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}${url.search}`;
  const kind = url.protocol.slice(0, -1);
  if (!isKind(kind)) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `proxy ${shown}: only http://, https://, socks5://, socks5h://, socks4:// and socks4a:// proxies are supported, not ${kind}`);
  }
  if (url.hostname === '') throw new RawcrawlError('ERR_INVALID_OPTION', `proxy ${shown} has no host`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '') {
    throw new RawcrawlError('ERR_INVALID_OPTION', `proxy ${shown}: a proxy URL is scheme, host and port only`);
  }
  const credentials = urlCredentials(url, (problem) => new RawcrawlError('ERR_INVALID_OPTION', `proxy ${shown}: ${problem}`));
  const host = unbracket(url.hostname);
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[kind];
  const href = `${kind}://${url.hostname}:${port}`;
  if (kind === 'http' || kind === 'https') {
    const authorization = credentials ? basicAuthorization(credentials) : null;
    return { kind, host, port, authorization, credentials: null, href };
  }
  if ((kind === 'socks4' || kind === 'socks4a') && credentials && credentials.password !== '') {
    throw new RawcrawlError('ERR_INVALID_OPTION', `proxy ${shown}: SOCKS4 takes a user id (socks4://user@host), not a password`);
  }
  return { kind, host, port, authorization: null, credentials, href };
}

/** A proxy setting with its URL parsed once: a fixed proxy, a function choosing per URL, or none. */
export type PreparedProxy = ProxyUrl | ((target: URL) => string | URL | null) | null;

/** Parses a fixed proxy URL (ERR_INVALID_OPTION when it is bad); a function is checked when it is called. */
export function prepareProxy(setting: ProxySetting | undefined): PreparedProxy {
  if (setting === undefined || setting === null || setting === '') return null;
  return typeof setting === 'function' ? setting : parseProxyUrl(setting);
}

/** Checks a proxy setting before any request is made (see prepareProxy()). */
export function checkProxySetting(setting: ProxySetting | undefined): void {
  prepareProxy(setting);
}

/** How request() reaches `target` through `proxy`: null for a direct connection. */
export function proxyRoute(proxy: PreparedProxy, target: URL): ProxyRoute | null {
  if (proxy === null) return null;
  let p = proxy;
  if (typeof p === 'function') {
    const chosen = p(target);
    if (chosen === null || chosen === '') return null;
    p = parseProxyUrl(chosen);
  }
  // SOCKS always tunnels; on an HTTP proxy https goes through CONNECT (TLS end to end) and http
  // is sent to the proxy in absolute form.
  return { ...p, tunnel: !isHttpProxy(p) || target.protocol === 'https:' };
}

/** A host as the proxy rules compare it: lower case, no IPv6 brackets, no root dot. */
function comparableHost(host: string): string {
  return unbracket(host.toLowerCase()).replace(/\.$/, '');
}

/**
 * True when `host` is excluded by a NO_PROXY list, as curl reads one: comma- or space-separated
 * names, each matching that host and its subdomains (a leading dot or `*.` is the same), IP
 * literals matching exactly, CIDR blocks (`10.0.0.0/8`) the addresses in them, `*` matching
 * everything. Ports in entries are ignored.
 */
export function noProxyMatches(list: string, host: string): boolean {
  const h = comparableHost(host);
  for (const raw of list.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      // An address block (10.0.0.0/8, 2001:db8::/32), as curl 7.86 and later read one.
      const family = isIP(cidr[1]!);
      const bits = Number(cidr[2]);
      if (family !== 0 && family === isIP(h) && bits <= (family === 4 ? 32 : 128)) {
        const block = new BlockList();
        block.addSubnet(cidr[1]!, bits, family === 4 ? 'ipv4' : 'ipv6');
        if (block.check(h, family === 4 ? 'ipv4' : 'ipv6')) return true;
      }
      continue;
    }
    if (entry.startsWith('[')) entry = entry.slice(1, entry.indexOf(']') === -1 ? undefined : entry.indexOf(']'));
    else if (!isIP(entry) && entry.lastIndexOf(':') > 0) entry = entry.slice(0, entry.lastIndexOf(':'));
    entry = entry.replace(/^\*?\./, '').replace(/\.$/, '');
    if (entry === '') continue;
    if (h === entry || (!isIP(h) && h.endsWith(`.${entry}`))) return true;
  }
  return false;
}

/** localhost, names under it, 127.0.0.0/8 and ::1: hosts on this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = comparableHost(host);
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * The proxy the environment names for each URL, as curl and wget read it: `http_proxy` for
 * http:// URLs (lower case only: a CGI program gets a client's `Proxy:` header as HTTP_PROXY),
 * `https_proxy` or `HTTPS_PROXY` for https:// ones, else `all_proxy` / `ALL_PROXY`; none for a
 * host `no_proxy` / `NO_PROXY` excludes, nor (as Go's net/http decides) for a loopback host: a
 * proxy elsewhere cannot reach this machine's servers. Null when the environment names none.
 * Pass it as the `proxy` option (the CLI does).
 */
export function proxyFromEnv(env: Record<string, string | undefined> = process.env): ((target: URL) => string | null) | null {
  const get = (...names: string[]): string => {
    for (const n of names) {
      const v = env[n];
      if (v !== undefined && v.trim() !== '') return v.trim();
    }
    return '';
  };
  const http = get('http_proxy');
  const https = get('https_proxy', 'HTTPS_PROXY');
  const all = get('all_proxy', 'ALL_PROXY');
  const none = get('no_proxy', 'NO_PROXY');
  if (http === '' && https === '' && all === '') return null;
  for (const [name, v] of [['http_proxy', http], ['https_proxy', https], ['all_proxy', all]] as const) {
    try {
      if (v !== '') parseProxyUrl(v);
    } catch (err) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `${name} in the environment: ${(err as Error).message}`);
    }
  }
  return (target) => {
    const chosen = (target.protocol === 'https:' ? https : http) || all;
    if (chosen === '' || isLoopbackHost(target.hostname) || (none !== '' && noProxyMatches(none, target.hostname))) return null;
    return chosen;
  };
}

/** Longest proxy answer to CONNECT read before giving up (its status line and fields). */
const MAX_TUNNEL_HEAD = 64 * 1024;

/**
 * Listens to a socket for a proxy's handshake (CONNECT, SOCKS5). The returned function stops
 * listening and pauses the socket: no byte may be lost between the handshake and whoever reads
 * the socket next (the StreamReader, or the TLS handshake).
 */
export function listenForHandshake(socket: Socket, onData: (chunk: Buffer) => void, onEnd: () => void, onError: (err: Error) => void): () => void {
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('error', onError);
  return () => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onError);
    socket.pause();
  };
}

/**
 * Asks the proxy on `socket` for a tunnel to `authority` (host:port, an IPv6 literal in
 * brackets), RFC 9110 §9.3.6, and resolves once it answered 2xx: the socket then carries the
 * target's bytes. A non-2xx answer is ERR_PROXY naming the status (407: the proxy wants
 * credentials); so is a close before the answer, a malformed one, or bytes after it, which would
 * come from the target before the client spoke. `trace` gets the exchange as one `tunnel` event.
 */
export function openTunnel(socket: Socket, authority: string, route: ProxyRoute, trace?: (event: WireEventBody) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const request = Buffer.from(
      `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${route.authorization ? `Proxy-Authorization: ${route.authorization}\r\n` : ''}\r\n`,
      'latin1',
    );
    const parser = new ResponseParser({ method: 'CONNECT', maxHeaderBytes: MAX_TUNNEL_HEAD });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      stop();
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      received.push(chunk);
      try {
        parser.feed(chunk);
        for (;;) {
          const ev = parser.next();
          if (ev === NEED_DATA || ev === DONE) return;
          if (ev.type !== 'head') continue;
          const { status, statusText } = ev.head;
          trace?.({ type: 'tunnel', protocol: 'http', request, response: Buffer.concat(received).subarray(0, parser.offset), status });
          if (status < 200 || status >= 300) {
            const hint = status === 407 ? ' (the proxy wants credentials: http://user:pass@host:port)' : '';
            finish(new RawcrawlError('ERR_PROXY', `proxy ${route.href} answered CONNECT ${authority} with ${status}${statusText ? ` ${statusText}` : ''}${hint}`));
          } else if (parser.unconsumed > 0) {
            finish(new RawcrawlError('ERR_PROXY', `proxy ${route.href} sent ${parser.unconsumed} bytes after its answer to CONNECT, before the TLS handshake`));
          } else {
            finish(null);
          }
          return;
        }
      } catch (err) {
        const e = err as RawcrawlError;
        finish(new RawcrawlError('ERR_PROXY', `proxy ${route.href} answered CONNECT ${authority} with a malformed response: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' '), { cause: err }));
      }
    };
    const onEnd = (): void => finish(new RawcrawlError('ERR_PROXY', `proxy ${route.href} closed the connection before answering CONNECT ${authority}`));
    const onError = (err: Error): void => finish(mapSocketError(err));
    const stop = listenForHandshake(socket, onData, onEnd, onError);
    socket.write(request);
  });
}
