import { RawcrawlError } from '../errors.js';
import { fieldValue } from '../http/abnf.js';
import type { Framing } from '../http/framing.js';
import type { ParserEvent, RawHeader, ResponseHead } from '../http/response-parser.js';
import { BodyDecoder, isKnownCoding, parseCodings } from './decode.js';

export interface AssembleOptions {
  method: string;
  /** Decode the Content-Encoding (gzip, deflate, br). */
  decompress: boolean;
  maxBodyBytes: number;
  /**
   * A body larger than maxBodyBytes (received, or decoded) is cut there instead of failing with
   * ERR_BODY_TOO_LARGE (see RequestOptions.truncateBody).
   */
  truncate?: boolean;
  /** Sees the payload: the body after de-chunking, before any content decoding (WARC's payload). */
  onPayload?: (data: Buffer) => void;
}

/**
 * Turns the parser's events for one response into the response request() returns: the head,
 * the decoded body, the trailers, with request()'s limits. Shared by request() and replay, so a
 * stored response is judged by exactly the rules a live one is.
 */
export class ResponseAssembler {
  head: ResponseHead | null = null;
  framing: Framing | null = null;
  trailers: RawHeader[] = [];
  /** Body bytes received (before content decoding). */
  received = 0;
  /** Truncate mode: maxBodyBytes of body were received (before decoding). */
  private cut = false;
  private decoder: BodyDecoder | null = null;
  private readonly chunks: Buffer[] = [];

  constructor(private readonly o: AssembleOptions) {}

  /** Takes one parser event; `offset` is the parser's offset after it. Throws a RawcrawlError. */
  accept(ev: ParserEvent, offset: number): void {
    switch (ev.type) {
      case 'informational':
        break;
      case 'head': {
        this.head = ev.head;
        this.framing = ev.framing;
        for (const tc of ev.transferCodings) {
          if (!isKnownCoding(tc)) {
            throw new RawcrawlError('ERR_INVALID_TRANSFER_ENCODING', `transfer coding "${tc}" is not supported`, { offset });
          }
        }
        const content = this.o.decompress ? parseCodings(fieldValue(ev.head.rawHeaders, 'content-encoding')) : [];
        const codings = content.every(isKnownCoding) ? [...content, ...ev.transferCodings] : ev.transferCodings;
        if (codings.length > 0) this.decoder = new BodyDecoder(codings, this.o.maxBodyBytes, this.o.truncate);
        if (ev.framing.kind === 'length' && ev.framing.length > this.o.maxBodyBytes && !this.o.truncate) {
          throw new RawcrawlError('ERR_BODY_TOO_LARGE', `Content-Length ${ev.framing.length} exceeds maxBodyBytes (${this.o.maxBodyBytes})`, { offset });
        }
        break;
      }
      case 'data': {
        if (this.full) break;
        let data = ev.data;
        this.received += data.length;
        if (this.received > this.o.maxBodyBytes) {
          if (!this.o.truncate) {
            throw new RawcrawlError('ERR_BODY_TOO_LARGE', `body exceeds maxBodyBytes (${this.o.maxBodyBytes})`, { offset });
          }
          data = data.subarray(0, data.length - (this.received - this.o.maxBodyBytes));
          this.received = this.o.maxBodyBytes;
          this.cut = true;
          this.decoder?.cutInput();
        }
        this.o.onPayload?.(data);
        if (this.decoder) this.decoder.write(data);
        else this.chunks.push(data);
        break;
      }
      case 'end':
        this.trailers = ev.trailers;
        break;
    }
  }

  /**
   * Truncate mode: the body holds maxBodyBytes, received or decoded, and the rest is not
   * wanted: the caller stops reading, and body() is what came.
   */
  get full(): boolean {
    return this.cut || (this.decoder?.full ?? false);
  }

  /** The body is not whole: cut at maxBodyBytes (truncate mode). */
  get truncated(): boolean {
    return this.cut || (this.decoder?.truncated ?? false);
  }

  /**
   * The decoded body, once the parser said DONE: a Buffer at once when there is no coding to
   * undo or the coded body was small enough to decode in one call, else a promise of it (a
   * long coded body streams through zlib, whose last output comes asynchronously). A decoding
   * failure is thrown or rejected.
   */
  body(): Buffer | Promise<Buffer> {
    if (this.decoder) return this.decoder.end();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received);
  }

  destroy(): void {
    this.decoder?.destroy();
  }
}
