import { isIP, type Socket } from 'node:net';
import { RawcrawlError } from '../errors.js';
import { mapSocketError } from '../net/connect.js';
import { dnsCache, lookupUncached } from '../net/dns-cache.js';
import type { WireEventBody } from '../wire/events.js';
import { listenForHandshake, type ProxyRoute } from './proxy.js';

/** RFC 1928 §6 reply codes. */
const REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** The address part of a SOCKS5 request or reply (RFC 1928 §4): ATYP, then the address. */
function encodeAddress(host: string): Buffer {
  const family = isIP(host);
  if (family === 4) return Buffer.from([0x01, ...host.split('.').map(Number)]);
  if (family === 6) {
    // The URL parser writes an embedded IPv4 part as two hex groups; then "::" is expanded.
    const hex = new URL(`http://[${host}]/`).hostname.slice(1, -1);
    const [head, tail] = hex.includes('::') ? hex.split('::') : [hex, undefined];
    const a = head ? head.split(':') : [];
    const b = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? a : [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b];
    const out = Buffer.alloc(17);
    out[0] = 0x04;
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 1 + i * 2));
    return out;
  }
  const name = Buffer.from(host, 'ascii');
  if (name.length > 255) throw new RawcrawlError('ERR_PROXY', `host name ${host} is too long for SOCKS5 (255 bytes at most)`);
  return Buffer.concat([Buffer.from([0x03, name.length]), name]);
}

/**
 * SOCKS5 CONNECT (RFC 1928) to host:port over `socket`, a connection to the SOCKS server, with
 * no authentication or, given credentials, user name and password (RFC 1929). socks5 resolves
 * the host name here and sends the address; socks5h sends the name for the proxy to resolve
 * (what Tor needs). Resolves once the server replied success: the socket then carries the
 * target's bytes (paused, none of them read). Refusals are ERR_PROXY with the server's reason.
 * `trace` gets the bytes of the handshake as one `tunnel` event.
 */
export async function openSocks5(socket: Socket, host: string, port: number, route: ProxyRoute, dnsCacheMs: number, trace?: (event: WireEventBody) => void): Promise<void> {
  let destination = host;
  if (route.kind === 'socks5' && isIP(host) === 0) {
    try {
      destination = (await (dnsCacheMs > 0 ? dnsCache.lookup(host, dnsCacheMs) : lookupUncached(host)))[0]!.address;
    } catch (err) {
      throw new RawcrawlError('ERR_DNS', `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  }
  const address = encodeAddress(destination);
  const sent: Buffer[] = [];
  const received: Buffer[] = [];
  let buffered: Buffer = Buffer.alloc(0);
  let waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  let failure: Error | null = null;
  const deliver = (): void => {
    if (!waiting) return;
    if (failure) {
      waiting.reject(failure);
      waiting = null;
    } else if (buffered.length >= waiting.n) {
      const w = waiting;
      waiting = null;
      const out = buffered.subarray(0, w.n);
      buffered = buffered.subarray(w.n);
      received.push(out);
      w.resolve(out);
    }
  };
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    deliver();
  };
  const onEnd = (): void => {
    failure ??= new RawcrawlError('ERR_PROXY', `SOCKS proxy ${route.href} closed the connection during its handshake for ${host}:${port}`);
    deliver();
  };
  const onError = (err: Error): void => {
    failure ??= mapSocketError(err);
    deliver();
  };
  const read = (n: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      waiting = { n, resolve, reject };
      deliver();
    });
  const send = (bytes: Buffer): void => {
    sent.push(bytes);
    socket.write(bytes);
  };
  const refuse = (why: string): RawcrawlError => new RawcrawlError('ERR_PROXY', `SOCKS proxy ${route.href} ${why} (connecting to ${host}:${port})`);
  const stop = listenForHandshake(socket, onData, onEnd, onError);
  let reply = -1;
  try {
    const credentials = route.credentials;
    send(Buffer.from(credentials ? [0x05, 2, 0x00, 0x02] : [0x05, 1, 0x00]));
    const [version, method] = await read(2);
    if (version !== 0x05) throw refuse(`answered as SOCKS version ${version}, not 5`);
    if (method === 0xff) throw refuse(`accepts none of the offered ways to authenticate (${credentials ? 'none, user name and password' : 'none: it may want socks5://user:pass@host'})`);
    if (method === 0x02) {
      if (!credentials) throw refuse('asked for a user name and password that were not given');
      const user = Buffer.from(credentials.user, 'utf8');
      const password = Buffer.from(credentials.password, 'utf8');
      if (user.length > 255 || password.length > 255) throw refuse('cannot take a user name or password longer than 255 bytes');
      send(Buffer.concat([Buffer.from([0x01, user.length]), user, Buffer.from([password.length]), password]));
      const [, status] = await read(2);
      if (status !== 0x00) throw refuse('refused the user name and password');
    } else if (method !== 0x00) {
      throw refuse(`chose authentication method ${method}, which was not offered`);
    }
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16BE(port);
    send(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), address, portBytes]));
    const head = await read(4);
    if (head[0] !== 0x05) throw refuse(`answered the CONNECT as SOCKS version ${head[0]}, not 5`);
    reply = head[1]!;
    if (reply !== 0x00) throw refuse(`could not connect: ${REPLIES[reply] ?? `reply ${reply}`}`);
    // The bound address and port, of no use here, but part of the reply.
    const atyp = head[3];
    const rest = atyp === 0x01 ? 4 : atyp === 0x04 ? 16 : atyp === 0x03 ? (await read(1))[0]! : -1;
    if (rest < 0) throw refuse(`sent an address of unknown type ${atyp}`);
    await read(rest + 2);
    if (buffered.length > 0) throw refuse(`sent ${buffered.length} bytes after its reply, before the client spoke`);
  } finally {
    stop();
    trace?.({ type: 'tunnel', protocol: 'socks5', request: Buffer.concat(sent), response: Buffer.concat(received), status: reply });
  }
}
