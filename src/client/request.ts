import { performance } from 'node:perf_hooks';
import { RawcrawlError } from '../errors.js';
import { isFieldName } from '../http/abnf.js';
import { clip } from '../http/excerpt.js';
import { buildRequestHead, validateHeaders, type HeaderPairs } from '../http/request-writer.js';
import { NEED_DATA, DONE, ResponseParser, type RawHeader, type ResponseHead } from '../http/response-parser.js';
import type { Leniency } from '../http/leniency.js';
import { Canceller, listenAbort, untilCancelled, type AbortLike } from '../net/cancel.js';
import { openConnection, unbracket } from '../net/connect.js';
import type { TlsOptions } from '../net/tls-handshake.js';
import type { WireEvent, WireEventBody, WireListener } from '../wire/events.js';
import { ResponseAssembler } from './assemble.js';
import { REQUEST_DEFAULTS, type RequestOptions } from './options.js';
import { isHttpProxy, openTunnel, prepareProxy, proxyRoute, type PreparedProxy } from './proxy.js';
import { openSocks } from './socks.js';
import { decideRedirect } from './redirect.js';
import { parseResolve } from './resolve.js';
import { basicAuthorization, urlCredentials, withoutUserinfo } from './userinfo.js';
import { pinnedAddresses, type ResolvedAddress } from '../net/dns-cache.js';
import { HttpResponse, type RedirectHop, type Timings } from './response.js';

let nextConnectionId = 0;

/** Milliseconds to microsecond precision. */
const ms = (v: number): number => Math.round(v * 1000) / 1000;

/** Parses and checks a request URL: http or https, with a host. */
export function parseRequestUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new RawcrawlError('ERR_INVALID_URL', `not a valid absolute URL: ${JSON.stringify(withoutUserinfo(String(input)))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RawcrawlError('ERR_INVALID_URL', `scheme ${url.protocol.slice(0, -1)} is not http or https: ${withoutUserinfo(url.href)}`);
  }
  if (url.hostname === '') throw new RawcrawlError('ERR_INVALID_URL', `no host in ${withoutUserinfo(url.href)}`);
  return url;
}

/** ERR_ABORTED for the caller's signal, naming its reason when that is an Error (a TimeoutError, say). */
function abortedByCaller(reason: unknown): RawcrawlError {
  const why = reason instanceof Error ? `: ${reason.name}: ${reason.message}` : '';
  return new RawcrawlError('ERR_ABORTED', `request aborted by the caller${why}`.replace(/[\r\n]+/g, ' '), { cause: reason });
}

/** Basic credentials a URL carried, for requests to its origin. */
interface Userinfo {
  origin: string;
  authorization: string;
}

/**
 * Takes the user name and password out of `url` (into `Basic` credentials for its origin, as
 * curl sends them): the URL's href then goes into the response, traces, captures and errors
 * without them. Null when it has none.
 */
function takeUserinfo(url: URL): Userinfo | null {
  const credentials = urlCredentials(url, (problem) => new RawcrawlError('ERR_INVALID_URL', `${withoutUserinfo(url.href)}: ${problem}`));
  if (!credentials) return null;
  url.username = '';
  url.password = '';
  return { origin: url.origin, authorization: basicAuthorization(credentials) };
}

interface Resolved {
  method: string;
  headers: HeaderPairs;
  connectTimeoutMs: number;
  dnsCacheMs: number;
  idleTimeoutMs: number;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  truncateBody: boolean;
  decompress: boolean;
  tls: TlsOptions;
  proxy: PreparedProxy;
  proxyTls: TlsOptions;
  resolve: ReadonlyMap<string, ResolvedAddress[]> | undefined;
  signal: AbortLike;
  onWire: WireListener | undefined;
  onRequestSent: (() => void) | undefined;
}

function checkLimit(name: string, value: number | undefined, fallback: number, min = 0, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value;
}

/** An option that must be of one kind when given: a boolean, a function, an object or a string. */
function checkKind(name: string, value: unknown, kind: 'boolean' | 'function' | 'object' | 'string'): void {
  if (value === undefined) return;
  if (kind === 'object' ? typeof value === 'object' && value !== null : typeof value === kind) return;
  throw new RawcrawlError('ERR_INVALID_OPTION', `${name} must be ${kind === 'object' ? 'an object' : `a ${kind}`}, got ${value === null ? 'null' : typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
}

/** An AbortSignal, or what passes for one: aborted, reason, addEventListener, removeEventListener. */
function checkSignal(signal: unknown): void {
  if (signal === undefined) return;
  const s = signal as Partial<AbortLike> | null;
  if (typeof s !== 'object' || s === null || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function') {
    throw new RawcrawlError('ERR_INVALID_OPTION', `signal must be an AbortSignal, got ${s === null ? 'null' : typeof s}`);
  }
}

/**
 * Checks every option's kind (a caller in plain JavaScript has no compiler to do it): a wrong one
 * is ERR_INVALID_OPTION before anything starts. The numeric limits are checked where request()
 * reads them. crawl() runs this once for the options it gives every request.
 */
export function checkRequestOptions(options: RequestOptions): void {
  if (typeof options !== 'object' || options === null) checkKind('options', options, 'object');
  for (const name of ['decompress', 'truncateBody'] as const) checkKind(name, options[name], 'boolean');
  for (const name of ['onWire', 'onRequestSent'] as const) checkKind(name, options[name], 'function');
  for (const name of ['tls', 'proxyTls', 'resolve'] as const) checkKind(name, options[name], 'object');
  for (const name of ['tls', 'proxyTls'] as const) {
    const t = options[name];
    if (!t) continue;
    for (const field of ['rejectUnauthorized', 'sessionCache'] as const) checkKind(`${name}.${field}`, t[field], 'boolean');
    checkKind(`${name}.servername`, t.servername, 'string');
  }
  checkSignal(options.signal);
}

/**
 * One HTTP/1.1 request over a fresh connection (Connection: close), following redirects.
 * Resolves with the complete, decoded response or rejects with a RawcrawlError.
 */
export async function request(input: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
  // A URL of its own (the caller's URL object keeps its credentials).
  checkRequestOptions(options);
  let url = parseRequestUrl(input);
  let userinfo = takeUserinfo(url);
  const method = typeof options.method === 'string' ? options.method.toUpperCase() : options.method === undefined ? REQUEST_DEFAULTS.method : '';
  if (method !== 'GET' && method !== 'HEAD') {
    throw new RawcrawlError('ERR_INVALID_OPTION', `method ${JSON.stringify(options.method)} is not GET or HEAD`);
  }
  let headers = validateHeaders(options.headers);
  // An Authorization field the caller gives wins over credentials in the URL.
  const callerAuthorization = headers.some(([n]) => isFieldName(n, 'authorization'));
  const timeoutMs = checkLimit('timeoutMs', options.timeoutMs, REQUEST_DEFAULTS.timeoutMs, 1);
  const maxRedirects = checkLimit('maxRedirects', options.maxRedirects, REQUEST_DEFAULTS.maxRedirects, 0, true);
  const proxy = prepareProxy(options.proxy);
  const resolve = options.resolve === undefined ? undefined : parseResolve(options.resolve);

  // Every option is checked before the timer starts: a bad one must not leave it pending.
  const cancel = new Canceller();
  const opts: Resolved = {
    method,
    headers,
    connectTimeoutMs: checkLimit('connectTimeoutMs', options.connectTimeoutMs, REQUEST_DEFAULTS.connectTimeoutMs, 1),
    dnsCacheMs: checkLimit('dnsCacheMs', options.dnsCacheMs, REQUEST_DEFAULTS.dnsCacheMs),
    idleTimeoutMs: checkLimit('idleTimeoutMs', options.idleTimeoutMs, REQUEST_DEFAULTS.idleTimeoutMs),
    maxHeaderBytes: checkLimit('maxHeaderBytes', options.maxHeaderBytes, REQUEST_DEFAULTS.maxHeaderBytes, 1, true),
    maxBodyBytes: checkLimit('maxBodyBytes', options.maxBodyBytes, REQUEST_DEFAULTS.maxBodyBytes, 0, true),
    truncateBody: options.truncateBody ?? false,
    decompress: options.decompress ?? REQUEST_DEFAULTS.decompress,
    tls: options.tls ?? {},
    proxy,
    proxyTls: options.proxyTls ?? {},
    resolve,
    signal: cancel,
    onWire: options.onWire,
    onRequestSent: options.onRequestSent,
  };
  // One cancel for the whole request: the caller's abort, or the total time limit.
  const timer = setTimeout(
    () => cancel.cancel(new RawcrawlError('ERR_TIMEOUT', `request took longer than timeoutMs (--timeout): ${timeoutMs} ms`)),
    timeoutMs,
  );
  const outer = options.signal;
  // The caller's reason (AbortSignal.timeout()'s TimeoutError, say) is the error's cause.
  const onOuterAbort = (): void => cancel.cancel(abortedByCaller(outer?.reason));
  let stopOuter: (() => void) | undefined;
  if (outer) {
    if (outer.aborted) onOuterAbort();
    else stopOuter = listenAbort(outer, onOuterAbort);
  }
  const redirects: RedirectHop[] = [];
  try {
    for (;;) {
      // The URL's credentials go to its origin only: not to another one a redirect leads to.
      opts.headers = userinfo && !callerAuthorization && url.origin === userinfo.origin ? [...headers, ['Authorization', userinfo.authorization]] : headers;
      const ex = await exchange(url, opts);
      const status = ex.head.status;
      const location = status >= 300 && status < 400 ? (ex.head.rawHeaders.find(([n]) => isFieldName(n, 'location'))?.[1] ?? null) : null;
      const decision = decideRedirect(status, location, url, opts.method, maxRedirects);
      if (!decision.follow) return toResponse(url, ex, redirects);
      if (redirects.length >= maxRedirects) {
        throw new RawcrawlError('ERR_TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirect${maxRedirects === 1 ? '' : 's'} (last: ${ex.head.status} to ${clip(withoutUserinfo(decision.url.href))})`, { url: url.href });
      }
      redirects.push({ url: url.href, status: ex.head.status, location: location ?? '' });
      if (decision.crossOrigin) {
        // Credentials are for the origin they were given to (as fetch does on a cross-origin hop).
        headers = headers.filter(([n]) => !['authorization', 'cookie', 'proxy-authorization'].includes(n.toLowerCase()));
      }
      opts.method = decision.method;
      url = decision.url;
      // A Location with credentials of its own (http://user:pass@host/) gives them for its origin.
      userinfo = takeUserinfo(url) ?? userinfo;
    }
  } finally {
    clearTimeout(timer);
    stopOuter?.();
  }
}

interface Exchange {
  head: ResponseHead;
  body: Buffer;
  trailers: RawHeader[];
  timings: Timings;
  leniencies: Leniency[];
  remoteAddress: string;
  truncated: boolean;
}

function toResponse(url: URL, ex: Exchange, redirects: RedirectHop[]): HttpResponse {
  let final = url.href;
  if (url.hash !== '') {
    const u = new URL(final);
    u.hash = '';
    final = u.href;
  }
  return new HttpResponse({
    url: final,
    status: ex.head.status,
    statusText: ex.head.statusText,
    httpVersion: ex.head.httpVersion,
    rawHeaders: ex.head.rawHeaders,
    rawTrailers: ex.trailers,
    body: ex.body,
    redirects,
    timings: ex.timings,
    leniencies: ex.leniencies,
    remoteAddress: ex.remoteAddress,
    truncated: ex.truncated,
  });
}

const DEFAULT_HEADERS: HeaderPairs = [
  ['User-Agent', REQUEST_DEFAULTS.userAgent],
  ['Accept', REQUEST_DEFAULTS.accept],
];
const DEFAULT_HEADERS_DECOMPRESS: HeaderPairs = [...DEFAULT_HEADERS, ['Accept-Encoding', 'gzip, deflate, br']];

function defaultHeaders(decompress: boolean): HeaderPairs {
  return decompress ? DEFAULT_HEADERS_DECOMPRESS : DEFAULT_HEADERS;
}

/** One request/response on one new connection. */
async function exchange(url: URL, o: Resolved): Promise<Exchange> {
  const t0 = performance.now();
  const conn = ++nextConnectionId;
  const onWire = o.onWire;
  /**
   * What the caller's onWire or onRequestSent threw: the request fails with it as it is (a bug in
   * the caller's code is not a network error), and the listener hears nothing more.
   */
  const caller: { failed: boolean; error?: unknown } = { failed: false };
  const callCaller = (fn: () => void): void => {
    if (caller.failed) return;
    try {
      fn();
    } catch (error) {
      caller.failed = true;
      caller.error = error;
      throw error;
    }
  };
  // Each event is a fresh literal: stamping it in place is cheaper than a spread copy per event.
  const emit = onWire
    ? (ev: WireEventBody): void => {
        const stamped = ev as WireEvent;
        stamped.conn = conn;
        stamped.t = performance.now() - t0;
        callCaller(() => onWire(stamped));
      }
    : undefined;
  const isTls = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : isTls ? 443 : 80;
  // A proxy choice is made per hop: a redirect may go to another scheme or a host it excludes.
  let route;
  try {
    route = proxyRoute(o.proxy, url);
  } catch (err) {
    if (err instanceof RawcrawlError) err.url ??= url.href;
    throw err;
  }
  emit?.(route ? { type: 'open', url: url.href, host: url.hostname, port, tls: isTls, proxy: route.href } : { type: 'open', url: url.href, host: url.hostname, port, tls: isTls });

  let connection;
  try {
    connection = await openConnection(url.hostname, port, {
      ...(route
        ? {
            via: { host: route.host, port: route.port, label: `proxy ${route.href}`, ...(route.kind === 'https' ? { tls: o.proxyTls } : {}) },
            ...(!isHttpProxy(route)
              ? { beforeTls: (socket) => openSocks(socket, unbracket(url.hostname), port, route, o.dnsCacheMs, emit, pinnedAddresses(o.resolve, unbracket(url.hostname), port)) }
              : route.tunnel
                ? { beforeTls: (socket) => openTunnel(socket, `${url.hostname}:${port}`, route, emit) }
                : {}),
          }
        : {}),
      tls: isTls ? o.tls : false,
      ...(o.resolve ? { resolve: o.resolve } : {}),
      connectTimeoutMs: o.connectTimeoutMs,
      dnsCacheMs: o.dnsCacheMs,
      idleTimeoutMs: o.idleTimeoutMs,
      signal: o.signal,
      ...(emit ? { trace: emit } : {}),
    });
  } catch (err) {
    if (err instanceof RawcrawlError && !caller.failed) {
      err.url ??= url.href;
      emit?.({ type: 'error', code: err.code, message: err.message });
      emit?.({ type: 'close', reason: `error ${err.code}` });
    }
    throw err;
  }
  const { reader, writer } = connection;
  const parser = new ResponseParser({
    method: o.method,
    maxHeaderBytes: o.maxHeaderBytes,
    // A raw-only listener keeps the reads themselves: no labelled segments are cut for it.
    ...(emit && !onWire?.rawOnly ? { onSegment: (part, data, offset) => emit({ type: 'recv', part, data, offset }) } : {}),
  });
  const assembler = new ResponseAssembler({ method: o.method, decompress: o.decompress, maxBodyBytes: o.maxBodyBytes, truncate: o.truncateBody });
  let closeReason = 'complete';
  /**
   * `written` goes to the trace once: when the write's callback says the request reached the OS,
   * or, if a response byte comes first, just before that byte, and never after the close. (Over
   * TLS the callback can come after the whole response: the request was in the kernel as soon as
   * write() returned, but the callback waits for bookkeeping behind the reads.)
   */
  let writtenTraced = false;
  /** The leniency events went out with the whole response (a decoding can still fail after). */
  let leniencyTraced = false;
  const markWritten = (): void => {
    if (writtenTraced) return;
    writtenTraced = true;
    emit?.({ type: 'written' });
  };
  try {
    // To a proxy (not a tunnel), the target is the absolute URL (RFC 9112 §3.2.2), and its
    // credentials go with every request.
    const forward = route !== null && isHttpProxy(route) && !route.tunnel ? route : null;
    const requestHead = buildRequestHead({
      method: o.method,
      target: forward ? `${url.protocol}//${url.host}${url.pathname}${url.search}` : url.pathname + url.search,
      host: url.host,
      defaults: forward?.authorization ? [...defaultHeaders(o.decompress), ['Proxy-Authorization', forward.authorization]] : defaultHeaders(o.decompress),
      headers: o.headers,
    });
    if (emit) {
      emit({ type: 'send', part: 'head', data: requestHead });
      writer.write(requestHead).then(
        () => {
          try {
            markWritten();
          } catch {
            // The listener threw: caller.error has it, and the exchange fails with it below.
          }
        },
        () => {
          // A failed write shows up as a read error (reset) or as the server's early response.
        },
      );
    } else {
      // Nobody asked when the bytes reach the OS: no promise and no callback for it.
      writer.send(requestHead);
    }
    const sent = o.onRequestSent;
    if (sent) callCaller(sent);

    let firstByte = 0;
    let offset = 0;
    for (;;) {
      const ev = parser.next();
      if (ev === DONE) break;
      if (ev === NEED_DATA) {
        // truncateBody: the decoder may have filled maxBodyBytes while the last read was decoded.
        if (assembler.full) break;
        const chunk = await reader.read(1 << 20);
        if (chunk.length === 0) {
          connection.eofRead();
          parser.feedEof();
          continue;
        }
        if (firstByte === 0) {
          firstByte = performance.now() - t0;
          if (emit) {
            markWritten();
            emit({ type: 'first-byte' });
          }
        }
        emit?.({ type: 'read', size: chunk.length, offset, data: chunk });
        offset += chunk.length;
        parser.feed(chunk);
        continue;
      }
      assembler.accept(ev, parser.offset);
      if (emit) {
        if (ev.type === 'head') emit({ type: 'head-end', offset: parser.offset });
        else if (ev.type === 'end') emit({ type: 'body-end', offset: parser.offset });
      }
      // truncateBody: maxBodyBytes of body are in; the rest is not read.
      if (assembler.full) break;
    }
    if (assembler.full) {
      closeReason = 'truncated';
      connection.close();
    } else {
      // The response is complete. The server was asked to close (Connection: close): let it, so
      // that TIME_WAIT stays on its side; release() closes at once if its FIN is already in.
      connection.release();
    }
    if (emit) {
      leniencyTraced = true;
      for (const l of parser.leniencies) emit({ type: 'leniency', kind: l.kind, offset: l.offset });
      if (parser.unconsumed > 0) {
        // Bytes the server sent past the end of the response: shown once, never parsed.
        const at = parser.offset;
        emit({ type: 'recv', part: 'unparsed', offset: at, data: parser.takeUnconsumed() });
      }
    }
    if (caller.failed) throw caller.error;
    const decoded = assembler.body();
    // A body still being decoded once the last coded byte is in (a long one streams through
    // zlib) is part of the request: the total timeout or the caller's abort ends the wait (the
    // catch then destroys the decoders), as it ends a read. Two stacked layers whose inner one
    // decodes to nothing (empty deflate blocks) turn 16 MiB of body into a minute of CPU without
    // ever reaching maxBodyBytes.
    const body = decoded instanceof Promise ? await untilCancelled(decoded, o.signal) : decoded;
    const total = performance.now() - t0;
    const { dns, connect, tls } = connection.timings;
    return {
      head: assembler.head!,
      body,
      trailers: assembler.trailers,
      timings: { dns: ms(dns), connect: ms(connect), tls: ms(tls), firstByte: ms(firstByte), total: ms(total) },
      leniencies: parser.leniencies,
      remoteAddress: connection.remoteAddress,
      truncated: assembler.truncated,
    };
  } catch (err) {
    if (caller.failed) {
      connection.close();
      throw caller.error;
    }
    const e = err instanceof RawcrawlError ? err : new RawcrawlError('ERR_CONNECTION_RESET', String(err), { cause: err });
    e.url ??= url.href;
    if (e.offset !== undefined && e.excerpt === undefined) e.excerpt = parser.excerptAt(e.offset) || undefined;
    closeReason = `error ${e.code}`;
    assembler.destroy();
    if (emit) {
      const at = parser.offset;
      const rest = parser.takeUnconsumed();
      if (rest.length > 0) emit({ type: 'recv', part: 'unparsed', offset: at, data: rest });
      // (Traced already when the response was whole and its decoding failed after.)
      if (!leniencyTraced) for (const l of parser.leniencies) emit({ type: 'leniency', kind: l.kind, offset: l.offset });
      emit({
        type: 'error',
        code: e.code,
        message: e.message,
        ...(e.offset !== undefined ? { offset: e.offset } : {}),
        ...(e.excerpt ? { excerpt: e.excerpt } : {}),
      });
    }
    connection.close();
    throw e;
  } finally {
    writtenTraced = true;
    emit?.({ type: 'close', reason: closeReason });
  }
}
