/**
 * Every error rawcrawl raises is a RawcrawlError with a stable `code`.
 * Callers switch on the code, never on the message.
 */
export const ERROR_CODES = {
  ERR_INVALID_URL: 'the URL cannot be parsed, or its scheme is not http/https',
  ERR_INVALID_OPTION: 'an option has a value rawcrawl cannot use',
  ERR_DNS: 'the host name could not be resolved',
  ERR_CONNECT: 'the TCP connection could not be opened',
  ERR_PROXY: 'the proxy refused or broke the tunnel (a non-2xx answer to CONNECT, a SOCKS5 refusal)',
  ERR_TLS: 'the TLS handshake failed (certificate, protocol)',
  ERR_TIMEOUT: 'a connect, idle or total time limit ran out',
  ERR_ABORTED: 'the caller aborted the request (AbortSignal)',
  ERR_CONNECTION_RESET: 'the peer reset the connection',
  ERR_INVALID_STATUS_LINE: 'the response does not start with a valid HTTP/1.x status line',
  ERR_INVALID_HEADER: 'a header field (sent or received) is malformed',
  ERR_HEADERS_TOO_LARGE: 'the response head is larger than maxHeaderBytes',
  ERR_LINE_TOO_LONG: 'a line is longer than the reader allows',
  ERR_INVALID_CONTENT_LENGTH: 'Content-Length is not one valid non-negative decimal number',
  ERR_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding cannot be honoured (chunked twice)',
  ERR_INVALID_CHUNK: 'chunked framing is malformed',
  ERR_PREMATURE_CLOSE: 'the peer closed the connection before the message was complete',
  ERR_BODY_TOO_LARGE: 'the (decoded) body is larger than maxBodyBytes',
  ERR_DECOMPRESS: 'the body could not be decoded with its Content-Encoding (corrupt, or more than 5 codings)',
  ERR_TOO_MANY_REDIRECTS: 'more redirects than maxRedirects',
  ERR_UNEXPECTED_RESPONSE: 'the server sent a response the request could not have asked for',
  ERR_EXTRACT: 'the page could not be parsed for links and fields',
  ERR_STORAGE: 'the storage (MySQL, file) failed',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface RawcrawlErrorDetails {
  /** Byte offset in the received stream where the problem was found. */
  offset?: number;
  /** The URL being fetched when the error happened. */
  url?: string;
  /** The bytes around `offset`, hex and ASCII (see formatExcerpt in src/http/excerpt.ts). */
  excerpt?: string;
  /** The bytes a StreamReader read before the stream ended short (asyncio's IncompleteReadError.partial). */
  partial?: Buffer;
  /** How many buffered bytes a too-long line takes (asyncio's LimitOverrunError.consumed). */
  consumed?: number;
  cause?: unknown;
}

export class RawcrawlError extends Error {
  readonly code: ErrorCode;
  readonly offset: number | undefined;
  url: string | undefined;
  /** Hex/ASCII view of the received bytes around `offset`, set by the client where it has them. */
  excerpt: string | undefined;
  /** ERR_PREMATURE_CLOSE from readexactly()/readuntil(): the bytes read before the end, no longer buffered. */
  readonly partial: Buffer | undefined;
  /**
   * ERR_LINE_TOO_LONG from a StreamReader: the line's bytes up to and including its separator,
   * or, the separator not in yet, the bytes scanned without finding it. readuntil() leaves them
   * buffered (readexactly(consumed) skips them); readline() has already discarded them.
   */
  readonly consumed: number | undefined;

  constructor(code: ErrorCode, message: string, details: RawcrawlErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RawcrawlError';
    this.code = code;
    this.offset = details.offset;
    this.url = details.url;
    this.excerpt = details.excerpt;
    this.partial = details.partial;
    this.consumed = details.consumed;
  }
}

export function isRawcrawlError(err: unknown): err is RawcrawlError {
  return err instanceof RawcrawlError;
}
