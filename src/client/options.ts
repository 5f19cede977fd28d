import type { HeadersInit } from '../http/request-writer.js';
import type { ProxySetting } from './proxy.js';
import type { ResolveMap } from './resolve.js';
import type { TlsOptions } from '../net/tls-handshake.js';
import { DNS_CACHE_MS } from '../net/dns-cache.js';
import type { WireListener } from '../wire/events.js';

export interface RequestOptions {
  /** 'GET' (default) or 'HEAD'. */
  method?: 'GET' | 'HEAD';
  /** Extra request fields; they replace rawcrawl's defaults of the same name. */
  headers?: HeadersInit;
  /** Limit on the whole request, redirects included (default 30 000 ms). */
  timeoutMs?: number;
  /** Limit on DNS + TCP + TLS for each connection (default 10 000 ms). */
  connectTimeoutMs?: number;
  /**
   * Reuse a host name's addresses for this long, across requests (default 60 000 ms; 0 looks the
   * name up for every connection).
   */
  dnsCacheMs?: number;
  /**
   * Connect to these addresses instead of looking names up, as curl's --resolve:
   * `{ 'example.org:443': '127.0.0.1' }` ("host:*" for any port). Host, SNI and the certificate
   * check still use the name; the `dns` wire event says `pinned`.
   */
  resolve?: ResolveMap;
  /**
   * Fail when no byte is received or sent for this long (default 15 000 ms; 0 turns it off): for
   * a request, whose one write is its head, when no byte of the response arrives for this long.
   */
  idleTimeoutMs?: number;
  /** Limit on status line + headers, and separately on trailers (default 64 KiB). */
  maxHeaderBytes?: number;
  /** Limit on the body after decoding, and on the bytes received for it (default 16 MiB). */
  maxBodyBytes?: number;
  /**
   * A body over maxBodyBytes is cut there instead of failing with ERR_BODY_TOO_LARGE (default
   * false): the response holds its first maxBodyBytes bytes (decoded; a coded body is read up to
   * maxBodyBytes coded bytes and decoded as far as they go), `truncated` is true, and the rest
   * is not read: the connection is closed. As RFC 9309 wants for a robots.txt, whose first
   * 500 KiB are to be parsed.
   */
  truncateBody?: boolean;
  /** Redirects followed before ERR_TOO_MANY_REDIRECTS (default 5; 0 returns the 3xx as is). */
  maxRedirects?: number;
  /** Ask for and decode gzip, deflate and br (default true). */
  decompress?: boolean;
  tls?: TlsOptions;
  /**
   * An http:// proxy (`http://user:pass@proxy:3128`), an https:// one (spoken to over TLS), a
   * socks5://, socks5h://, socks4:// or socks4a:// one, or a function choosing one per URL (each redirect hop asks
   * again; proxyFromEnv() reads http_proxy, https_proxy and no_proxy). Through an HTTP(S) proxy
   * https URLs go through a CONNECT tunnel, TLS end to end; http URLs are sent to the proxy in
   * absolute form. Default: none, whatever the environment says.
   */
  proxy?: ProxySetting;
  /**
   * TLS with an https:// proxy: its certificate is checked against the system's CAs (or `ca`, instead)
   * unless `rejectUnauthorized` is false; `cert`/`key` for a proxy that asks for a client
   * certificate; `servername` for SNI and the check (default: the proxy's host name).
   */
  proxyTls?: TlsOptions;
  signal?: AbortSignal;
  /** Called with every wire event of every connection this request opens. */
  onWire?: WireListener | undefined;
  /**
   * Called each time a request head has been handed to the socket (once per hop). The crawler
   * uses it to count politeness delays from the real start of a request.
   */
  onRequestSent?: () => void;
}

export const REQUEST_DEFAULTS = {
  method: 'GET',
  timeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  dnsCacheMs: DNS_CACHE_MS,
  idleTimeoutMs: 15_000,
  maxHeaderBytes: 64 * 1024,
  maxBodyBytes: 16 * 1024 * 1024,
  maxRedirects: 5,
  decompress: true,
  userAgent: 'rawcrawl/0.1 (+https://github.com/rawcrawl/rawcrawl)',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
} as const;
