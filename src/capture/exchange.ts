import type { WireEventBody } from '../wire/events.js';
import type { Leniency } from '../http/leniency.js';

/** One socket read: where it starts in the response stream, its size, and when (ms after open). */
export interface ReadBoundary {
  offset: number;
  size: number;
  t: number;
}

/** What the TLS handshake agreed (the wire `tls` event's facts), and how the peer closed. */
export type CaptureTls = Omit<Extract<WireEventBody, { type: 'tls' }>, 'type'> & {
  /**
   * true: the peer sent close_notify before closing; false: it closed TCP without one (a possible
   * truncation); null: the peer's close was not seen before the response was complete (a
   * Content-Length or chunked response ends first), or an error came first.
   */
  closeNotify: boolean | null;
};

/** Milliseconds after the connection began (the `open` event); absent when the phase never happened. */
export interface PhaseTimings {
  /** Name resolved (absent for an IP literal). */
  dns?: number;
  /** TCP connected. */
  connect?: number;
  /** TLS handshake done. */
  tls?: number;
  /** Request bytes handed to the OS. */
  written?: number;
  /** First response byte read. */
  firstByte?: number;
  /** Final response head parsed. */
  headersEnd?: number;
  /** Last response byte parsed. */
  bodyEnd?: number;
  /** Connection closed. */
  closed: number;
}

export interface CaptureError {
  /** A RawcrawlError code (ERR_INVALID_CHUNK, ERR_TIMEOUT, …). */
  code: string;
  message: string;
  /** Byte offset in the response stream, for errors found in the received bytes. */
  offset?: number;
  /** Hex/ASCII excerpt around `offset`. */
  excerpt?: string;
}

/**
 * One request/response on one connection, exactly as it crossed the wire. A redirect chain is
 * one CapturedExchange per hop.
 */
export interface CapturedExchange {
  /** Connection id in the capturing process. */
  conn: number;
  url: string;
  /** From the request line ("GET", "HEAD"). */
  method: string;
  host: string;
  port: number;
  tls: boolean;
  /** When the connection began, ISO 8601 with milliseconds. */
  startedAt: string;
  /** Peer IP address (no port), null when the connection never came up. */
  remoteAddress: string | null;
  /**
   * The HTTP proxy the connection went to (`http://host:port`), or null for a direct one. With
   * a proxy, `remoteAddress` is the proxy's; an http:// request was sent in absolute form, with
   * any Proxy-Authorization; an https:// one went through a CONNECT tunnel, whose bytes are not
   * part of `request` or `response`.
   */
  proxy: string | null;
  timings: PhaseTimings;
  /** Every socket read of the response, in order; their sizes add up to response.length. */
  reads: ReadBoundary[];
  tlsInfo: CaptureTls | null;
  /** The peer ended its side (FIN or close_notify) while rawcrawl was still reading. */
  peerEof: boolean;
  /** Where the parser was lenient, by response stream offset. */
  leniencies: Leniency[];
  error: CaptureError | null;
  /** "complete" or "error CODE". */
  closeReason: string;
  /** Response stream offset just past the response, when it was complete; later bytes were not parsed. */
  responseEnd: number | null;
  /** The request bytes as sent. */
  request: Buffer;
  /** The response bytes as received: chunk framing, trailers and content coding intact. */
  response: Buffer;
}

/** An exchange without its bytes: what crosses to the WARC thread and goes into its metadata record. */
export type ExchangeFacts = Omit<CapturedExchange, 'request' | 'response'>;

/**
 * The facts of an exchange as one literal of one shape, every field named in order: it
 * serialises (JSON, structured clone) in under half the time of a rest-and-spread copy, which
 * V8 builds as a dictionary. A field added to CapturedExchange must be added here (checked).
 */
export function exchangeFacts(ex: ExchangeFacts): ExchangeFacts {
  return {
    conn: ex.conn,
    url: ex.url,
    method: ex.method,
    host: ex.host,
    port: ex.port,
    tls: ex.tls,
    startedAt: ex.startedAt,
    remoteAddress: ex.remoteAddress,
    proxy: ex.proxy,
    timings: ex.timings,
    reads: ex.reads,
    tlsInfo: ex.tlsInfo,
    peerEof: ex.peerEof,
    leniencies: ex.leniencies,
    error: ex.error,
    closeReason: ex.closeReason,
    responseEnd: ex.responseEnd,
  } satisfies Required<ExchangeFacts>;
}

/**
 * Facts and bytes as one CapturedExchange, built as exchangeFacts() builds its literal: on the
 * WARC thread, a spread of the parsed facts took 5 µs more per exchange than this.
 */
export function withBytes(facts: ExchangeFacts, request: Buffer, response: Buffer): CapturedExchange {
  const ex = exchangeFacts(facts) as CapturedExchange;
  ex.request = request;
  ex.response = response;
  return ex;
}
