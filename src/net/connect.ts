import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { RawcrawlError } from '../errors.js';
import type { WireEventBody } from '../wire/events.js';
import { watchCloseNotify, type CloseNotifyWatch } from './close-notify.js';
import { listenAbort, type AbortLike } from './cancel.js';
import { StreamReader } from './stream-reader.js';
import { StreamWriter } from './stream-writer.js';
import { DNS_CACHE_MS, dnsCache, lookupUncached, pinnedAddresses, type ResolvedAddress } from './dns-cache.js';
import { tlsErrorText, tlsEvent, tlsHandshake, type Handshake, type TlsOptions } from './tls-handshake.js';

export interface ConnectOptions {
  /** Speak TLS over the TCP connection. */
  tls?: boolean | TlsOptions;
  /**
   * Dial this host and port instead of the host's (an HTTP proxy in front of it); `label` names
   * it in errors ("proxy http://p:3128"). TLS, if any, is still with the host (its name, SNI,
   * session): over a tunnel that `beforeTls` opens. With `tls` (an https:// proxy), TLS with
   * the proxy itself comes first, checked against the proxy's name, and all else goes inside it.
   */
  via?: { host: string; port: number; label: string; tls?: TlsOptions } | null;
  /**
   * Addresses to use for a host and port instead of looking the name up ("host:port" or "host:*"
   * → addresses), as curl's --resolve: the connection goes there, while Host, SNI and the
   * certificate check still use the name. Applies to the host dialled (a proxy, when there is one).
   */
  resolve?: ReadonlyMap<string, ResolvedAddress[]>;
  /**
   * Runs on the TCP connection once it is up, before TLS, within the connect time limit and the
   * abort signal (a proxy's CONNECT tunnel). It must leave no byte of the socket unread.
   */
  beforeTls?: (socket: net.Socket) => Promise<void>;
  /** Limit on DNS + TCP + TLS (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * Reuse the addresses a host name resolved to for this long (default 60 000 ms; 0 looks the
   * name up for every connection). If none of them answers, the name is looked up again next time.
   */
  dnsCacheMs?: number;
  /**
   * Destroy the connection (ERR_TIMEOUT) after this long with no byte received or sent (default
   * 30 s; 0 = none). Node's socket timeout: a write handed to the OS, or finished by it, counts as
   * a read does, so a peer taking an upload slowly is not idle, while one that stops reading is.
   */
  idleTimeoutMs?: number;
  signal?: AbortLike;
  highWaterMark?: number;
  maxLineLength?: number;
  /**
   * Receives connection events (dns, connected, tls, eof); the caller stamps id and time.
   * With it, a TLS connection also finds out whether the peer sent close_notify.
   */
  trace?: (event: WireEventBody) => void;
}

export interface ConnectTimings {
  /** ms spent resolving the name (0 for an IP literal). */
  dns: number;
  /** ms from start until the TCP connection was up. */
  connect: number;
  /** ms from start until the TLS handshake finished (equal to connect without TLS). */
  tls: number;
}

export interface Connection {
  reader: StreamReader;
  writer: StreamWriter;
  socket: net.Socket;
  remoteAddress: string;
  remotePort: number;
  timings: ConnectTimings;
  /** The exchange has read the peer's EOF (an empty read): its trace event goes out now. */
  eofRead(): void;
  /** Destroys the socket; later reads see `reason` if given. */
  close(reason?: Error): void;
  /**
   * Done with the connection, and the peer is expected to close it (a response sent with
   * `Connection: close`): closes at once if the peer's FIN is already in, else as soon as it
   * arrives, and at the latest after `graceMs`. The socket no longer keeps the process alive.
   * Letting the server close first puts TIME_WAIT on the server's side, not on a client port:
   * a crawler that closed first would use up its ephemeral ports, and pays for it in connect().
   */
  release(graceMs?: number): void;
}

/** RFC 8305 §5: the delay before the next address of a name is tried (its recommended value). */
const ATTEMPT_DELAY_MS = 250;

/** How long release() waits for the peer's FIN before closing anyway. */
export const RELEASE_GRACE_MS = 1000;

const SOCKET_CODES: Record<string, 'ERR_CONNECTION_RESET'> = {
  ECONNRESET: 'ERR_CONNECTION_RESET',
  EPIPE: 'ERR_CONNECTION_RESET',
  ECONNABORTED: 'ERR_CONNECTION_RESET',
};

/** Errors from a live socket, in rawcrawl's codes. */
export function mapSocketError(err: Error): RawcrawlError {
  if (err instanceof RawcrawlError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const mapped = SOCKET_CODES[code];
  if (mapped) return new RawcrawlError(mapped, `connection reset by peer (${code})`, { cause: err });
  // After the handshake: an alert (a TLS 1.3 server refusing the client's certificate, or
  // its lack of one, says so only now), a record that does not decrypt.
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return new RawcrawlError('ERR_TLS', `TLS error: ${tlsErrorText(err)}`, { cause: err });
  return new RawcrawlError('ERR_CONNECTION_RESET', `socket error: ${err.message}`, { cause: err });
}

/** The signal's reason when it is one of ours (a total timeout, say), else ERR_ABORTED. */
export function abortError(signal: AbortLike, message: string): RawcrawlError {
  return signal.reason instanceof RawcrawlError ? signal.reason : new RawcrawlError('ERR_ABORTED', message);
}

/** An IPv6 literal as URLs write it ("[::1]") without its brackets; any other host as it is. */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** `address:port`, an IPv6 address in brackets (`[::1]:80`), as URLs and curl write it. */
function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The `connected` trace event. `local` costs a getsockname(), so it is asked of the socket only
 * when read. A class with the getter on its prototype, not an object literal with a getter that
 * closes over the socket: V8 keeps a getter made in an object literal alive through minor GCs
 * (measured on Node 20: a getter that closed over a buffer kept it, a method or a getter using
 * `this` did not), so every traced socket, with the bytes it had read, outlived its connection
 * until the next full GC: 16–33 MB of buffers in a 5,000-page crawl with --warc, and seven times
 * the full GCs (BENCHMARKS.md, ninth session; test/net/trace-retention.test.ts). toJSON() keeps
 * `local` in JSON.stringify(), as an own property would be.
 */
class ConnectedEvent {
  readonly type = 'connected' as const;
  readonly #socket: net.Socket;
  #local: string | undefined;
  constructor(
    socket: net.Socket,
    readonly remote: string,
  ) {
    this.#socket = socket;
  }

  get local(): string {
    return (this.#local ??= hostPort(this.#socket.localAddress ?? '', this.#socket.localPort ?? 0));
  }

  toJSON(): object {
    return { ...this, local: this.local };
  }
}

/**
 * asyncio.open_connection for Node: resolves, connects (and handshakes TLS), then returns a
 * StreamReader/StreamWriter pair over the socket.
 */
export async function openConnection(hostIn: string, port: number, options: ConnectOptions = {}): Promise<Connection> {
  const host = unbracket(hostIn);
  const { signal, trace } = options;
  const via = options.via ?? null;
  // Where the TCP connection goes: the host, or the proxy in front of it.
  const dialHost = via ? unbracket(via.host) : host;
  const dialPort = via ? via.port : port;
  const dialName = via ? via.label : `${hostIn}:${port}`;
  const t0 = performance.now();
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  if (signal?.aborted) throw abortError(signal, 'aborted before connecting');

  // Set by the connect step's callback; typed by a cast so that TypeScript does not take the
  // initial null for its type after that step is awaited.
  let socket = null as net.Socket | null;
  let timer: NodeJS.Timeout | undefined;
  let stopAbort: (() => void) | undefined;
  // One deadline and one abort for all connect steps: they reject whichever step is pending.
  // (A callback, not a promise raced against each step: that was a measurable share of a
  // request to a local server.)
  let failure: RawcrawlError | null = null;
  let failStep: ((err: Error) => void) | null = null;
  const fail = (err: RawcrawlError): void => {
    failure ??= err;
    socket?.destroy(err);
    failStep?.(err);
  };
  timer = setTimeout(() => {
    fail(new RawcrawlError('ERR_TIMEOUT', `connect to ${hostIn}:${port}${via ? ` through ${via.label}` : ''} timed out after ${connectTimeoutMs} ms`));
  }, connectTimeoutMs);
  if (signal) {
    stopAbort = listenAbort(signal, () => fail(abortError(signal, 'aborted while connecting')));
  }
  const step = <T>(start: (resolve: (v: T) => void, reject: (err: unknown) => void) => void): Promise<T> => {
    if (failure) return Promise.reject(failure);
    return new Promise<T>((resolve, reject) => {
      failStep = reject;
      start(resolve, reject);
    });
  };
  try {
    let addresses: ResolvedAddress[];
    let dnsMs = 0;
    /** The addresses came from the cache, or went into it. */
    let viaCache = false;
    let cached = false;
    const pinned = pinnedAddresses(options.resolve, dialHost, dialPort);
    if (pinned) {
      addresses = pinned;
      trace?.({ type: 'dns', host: dialHost, address: addresses[0]!.address, family: addresses[0]!.family, ms: 0, cached: false, pinned: true });
    } else if (net.isIP(dialHost)) {
      addresses = [{ address: dialHost, family: net.isIP(dialHost) }];
    } else {
      const ttl = options.dnsCacheMs ?? DNS_CACHE_MS;
      viaCache = ttl > 0;
      const hit = viaCache ? dnsCache.get(dialHost) : undefined;
      if (hit) {
        addresses = hit;
        cached = true;
      } else {
        try {
          const resolving = viaCache ? dnsCache.lookup(dialHost, ttl) : lookupUncached(dialHost);
          addresses = await step((resolve, reject) => void resolving.then(resolve, reject));
        } catch (err) {
          if (err instanceof RawcrawlError) throw err;
          throw new RawcrawlError('ERR_DNS', `cannot resolve ${dialHost}${via ? ` (${via.label})` : ''}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
        }
      }
      dnsMs = performance.now() - t0;
      trace?.({ type: 'dns', host: dialHost, address: addresses[0]!.address, family: addresses[0]!.family, ms: dnsMs, cached });
    }

    try {
      // Resolved with no value: resolving with the socket would make the promise look up
      // `then` along the whole Socket prototype chain (a thenable check) on every connect.
      await step<void>((resolve, reject) => {
        // noDelay here, not setNoDelay() after: one less call per connection. A name with
        // several addresses is connected to as RFC 8305 (Happy Eyeballs) says, by Node: the
        // next address is tried when one has not answered within ATTEMPT_DELAY_MS, families
        // alternating, so an address that swallows packets (a broken IPv6 route) costs a
        // quarter of a second, not the whole connect timeout.
        const s =
          addresses.length === 1
            ? net.connect({ host: addresses[0]!.address, port: dialPort, noDelay: true })
            : net.connect({
                host: dialHost,
                port: dialPort,
                noDelay: true,
                autoSelectFamily: true,
                autoSelectFamilyAttemptTimeout: ATTEMPT_DELAY_MS,
                lookup: (_name, o, callback) => {
                  if (o.all) callback(null, addresses);
                  else callback(null, addresses[0]!.address, addresses[0]!.family);
                },
              });
        socket = s;
        const onError = (err: Error): void => {
          s.destroy();
          socket = null;
          reject(err);
        };
        s.once('error', onError);
        s.once('connect', () => {
          s.off('error', onError);
          resolve();
        });
      });
    } catch (err) {
      // None of the addresses answered: the name may have moved, so the next connection looks
      // it up again, whether they were kept from before or just looked up. (With several
      // addresses Node's error is an AggregateError with their code.) So too when they did not
      // answer in time: an old address that drops SYNs says nothing else.
      if (viaCache && (!(err instanceof RawcrawlError) || err.code === 'ERR_TIMEOUT')) dnsCache.forget(dialHost);
      if (err instanceof RawcrawlError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new RawcrawlError('ERR_CONNECT', `cannot connect to ${dialName}: ${code}`, { cause: err });
    }
    // (The step resolves only once `socket` has connected; this tells TypeScript so.)
    if (socket === null) throw new RawcrawlError('ERR_CONNECT', `cannot connect to ${dialName}`);
    // With one address it is the one connected to: asking the socket costs a getpeername()
    // per connection (≈ 2 % of a crawl's CPU per page here). With several, Node picked one.
    const remoteAddress = addresses.length === 1 ? addresses[0]!.address : (socket.remoteAddress ?? addresses[0]!.address);
    const connectMs = performance.now() - t0;
    if (trace) {
      // The remote end is the address just connected to; the local end costs a getsockname(),
      // made only for a listener that reads it (the trace does, a capture does not).
      trace(new ConnectedEvent(socket, hostPort(remoteAddress, dialPort)));
    }

    if (via?.tls) {
      const pt = via.tls;
      const tcp = socket;
      let shake: Handshake;
      try {
        shake = await step<Handshake>((resolve, reject) => void tlsHandshake(tcp, dialHost, dialPort, pt).then(resolve, reject));
      } catch (err) {
        // Named, so that a proxy's certificate is not taken for the target's.
        if (err instanceof RawcrawlError && (err.code === 'ERR_TLS' || err.code === 'ERR_CONNECTION_RESET' || err.code === 'ERR_PREMATURE_CLOSE')) {
          throw new RawcrawlError(err.code, `${via.label}: ${err.message}`, { cause: err });
        }
        throw err;
      }
      socket = shake.secure;
      if (trace) trace(tlsEvent(shake, true));
    }

    if (options.beforeTls) {
      const before = options.beforeTls;
      const connected = socket;
      await step<void>((resolve, reject) => void before(connected).then(resolve, reject));
    }

    let tlsMs = connectMs;
    let watch: CloseNotifyWatch | null = null;
    if (options.tls) {
      const t: TlsOptions = options.tls === true ? {} : options.tls;
      const plain = socket;
      if (trace) watch = watchCloseNotify(plain);
      const under = watch ? watch.duplex : plain;
      const shake = await step<Handshake>((resolve, reject) => void tlsHandshake(under, host, port, t).then(resolve, reject));
      socket = shake.secure;
      tlsMs = performance.now() - t0;
      if (trace) trace(tlsEvent(shake, false));
    }

    const sock = socket;
    // The peer's EOF goes to the trace after the bytes before it: when the exchange reads it
    // (eofRead()), or when it ends the connection with the EOF in (release(), close()). Traced at
    // the socket's 'end', it came before them over TLS, whose socket gives the last bytes and
    // the end in one turn, ahead of the reads the exchange traces as it takes them. Whether it
    // came with close_notify is known only at that moment.
    let onEof: (() => void) | undefined;
    let eof: WireEventBody | null = null;
    const traceEof = (): void => {
      if (eof === null || !trace) return;
      trace(eof);
      eof = null;
      onEof = undefined;
    };
    if (trace) {
      const w = watch;
      onEof = () => {
        eof = { type: 'eof', closeNotify: w ? !w.tcpEnded() : null };
      };
      sock.once('end', onEof);
    }
    const idle = options.idleTimeoutMs ?? 30_000;
    const onIdle = (): void => {
      sock.destroy(new RawcrawlError('ERR_TIMEOUT', `no byte received or sent for ${idle} ms`));
    };
    if (idle > 0) sock.setTimeout(idle, onIdle);
    if (signal) {
      const abortLive = (): void => {
        sock.destroy(abortError(signal, 'aborted'));
      };
      sock.once('close', listenAbort(signal, abortLive));
    }
    const reader = new StreamReader(sock, {
      ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
      ...(options.maxLineLength !== undefined ? { maxLineLength: options.maxLineLength } : {}),
      mapError: mapSocketError,
    });
    return {
      reader,
      writer: new StreamWriter(sock, { mapError: mapSocketError }),
      socket: sock,
      remoteAddress,
      remotePort: dialPort,
      timings: { dns: dnsMs, connect: connectMs, tls: tlsMs },
      eofRead: traceEof,
      close: (reason?: Error) => {
        traceEof();
        sock.destroy(reason);
      },
      release: (graceMs = RELEASE_GRACE_MS) => {
        traceEof();
        // The exchange is over: nothing more goes to its trace.
        if (onEof) sock.off('end', onEof);
        if (sock.readableEnded || sock.destroyed || graceMs <= 0) {
          sock.destroy();
          return;
        }
        sock.unref();
        sock.once('end', () => sock.destroy());
        // Replaces the idle timer: still one timer per socket.
        sock.off('timeout', onIdle);
        sock.setTimeout(graceMs, () => sock.destroy());
      },
    };
  } catch (err) {
    socket?.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
    stopAbort?.();
  }
}
