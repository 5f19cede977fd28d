import { InvalidArgumentError, type Command } from 'commander';
import { checkProxySetting, noProxyMatches, proxyFromEnv, RawcrawlError, type ProxySetting, type RequestOptions } from '../client/index.js';
import { tlsFromFlags, type TlsFlags } from './tls-flags.js';
import { collectResolve } from './values.js';

/** The flags `fetch` and the crawl share for reaching servers. */
export interface ConnectionFlags extends TlsFlags {
  /** Each --proxy given, in order. */
  proxy?: string[];
  proxyCa?: string;
  proxyInsecure?: boolean;
  noproxy?: string;
  resolve?: Record<string, string>;
}

/** Adds the proxy, --resolve and TLS flags to a command (fetch, crawl). */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--proxy <url>', "proxy for every request: http://user:pass@host:3128 (https URLs through CONNECT), https://host:443 (TLS with the proxy), socks5h://host:1080 or socks5://, socks4a://host:1080 or socks4://; repeated, the proxies take turns, each request (and redirect hop) through the next; '' for none. Default: http_proxy, https_proxy or all_proxy from the environment", collectProxy)
    .option('--proxy-ca <file>', 'trust the CA certificate(s) in this PEM file for an https:// proxy')
    .option('--proxy-insecure', "do not verify an https:// proxy's certificate")
    .option('--noproxy <hosts>', 'hosts reached directly, comma-separated, each with its subdomains ("*" for all). Default: no_proxy from the environment')
    .option('--resolve <host:port:addr>', 'connect to ADDR for HOST:PORT instead of looking HOST up (as curl; port * for any; repeatable); Host, SNI and the certificate check keep the name', collectResolve)
    .option('--insecure', 'do not verify server certificates')
    .option('--ca <file>', 'trust the certificate(s) in this PEM file instead of the system CAs (a CA, or the server\'s own certificate)')
    .option('--cert <file>', 'client certificate (PEM) for servers that ask for one; its key too unless --key')
    .option('--key <file>', 'private key (PEM) of --cert')
    .option('--pass <phrase>', 'passphrase of an encrypted --key')
    .option('--no-tls-resume', 'a full TLS handshake on every connection (by default a session of an earlier one to the same server is resumed)');
}

/** The client options those flags give (`proxy` from the environment when there is no --proxy). */
export function connectionFromFlags(flags: ConnectionFlags, env: Record<string, string | undefined>): Pick<RequestOptions, 'tls' | 'proxy' | 'proxyTls' | 'resolve'> {
  const out: Pick<RequestOptions, 'tls' | 'proxy' | 'proxyTls' | 'resolve'> = { tls: tlsFromFlags(flags) };
  if (flags.proxyCa !== undefined || flags.proxyInsecure) out.proxyTls = tlsFromFlags({ ca: flags.proxyCa, insecure: flags.proxyInsecure }, '--proxy-ca');
  const proxy = proxyFromFlags(flags, env);
  if (proxy !== undefined) out.proxy = proxy;
  if (flags.resolve) out.resolve = flags.resolve;
  return out;
}

/** Each --proxy URL checked while the flags are parsed, so a bad one is a usage error ('' is none). */
export function collectProxy(value: string, previous: string[] = []): string[] {
  try {
    if (value.trim() !== '') checkProxySetting(value.trim());
  } catch (err) {
    if (err instanceof RawcrawlError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  return [...previous, value];
}

/**
 * --proxy URL and --noproxy LIST, else the environment (http_proxy, https_proxy, all_proxy,
 * no_proxy), as curl reads them: --proxy '' means none whatever the environment says, and
 * --noproxy (else no_proxy) applies to a --proxy too.
 */
export function proxyFromFlags(flags: { proxy?: string[]; noproxy?: string }, env: Record<string, string | undefined>): ProxySetting | undefined {
  const noProxy = (flags.noproxy ?? env.no_proxy ?? env.NO_PROXY ?? '').trim();
  if (flags.proxy !== undefined) {
    const proxies = flags.proxy.map((p) => p.trim()).filter((p) => p !== '');
    if (proxies.length === 0) return undefined;
    if (proxies.length === 1 && noProxy === '') return proxies[0];
    // Several: round robin, one proxy per request (a retry goes through the next one).
    let turn = 0;
    return (target: URL) => (noProxy !== '' && noProxyMatches(noProxy, target.hostname) ? null : proxies[turn++ % proxies.length]!);
  }
  return proxyFromEnv(flags.noproxy === undefined ? env : { ...env, no_proxy: flags.noproxy, NO_PROXY: undefined }) ?? undefined;
}
