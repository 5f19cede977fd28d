import { RawcrawlError } from '../errors.js';
import { fieldValue } from '../http/abnf.js';
import { quote } from '../http/excerpt.js';
import type { Framing } from '../http/framing.js';
import type { ParserEvent, RawHeader, ResponseHead } from '../http/response-parser.js';
import { BodyDecoder, isKnownCoding, MAX_CODINGS, parseCodings } from './decode.js';

/**
 * Body pieces shorter than this are copied into a stage (a buffer of up to STAGE_BYTES) rather than
 * kept (or written to the decoder) one by one, once DIRECT_PIECES have been. A chunked body of
 * 1-byte chunks gives one 'data' event per byte, each a view of the read it came in: kept as they
 * were, 16 MiB of body was 16 million Buffer objects (2.2 GB of heap) and held every read they
 * sat in (a 4 KB chunk extension around each byte held 4 KB per body byte, without limit but the
 * total timeout).
 */
const SMALL_PIECE = 4096;
/**
 * Pieces passed on as they came, whatever their size, before small ones go by way of the stage:
 * a body in a handful of reads (the common case) is copied once, by body(), and not into a stage.
 */
const DIRECT_PIECES = 16;
/** The first stage; each next one is twice the last, up to STAGE_BYTES. */
const FIRST_STAGE_BYTES = 2 * SMALL_PIECE;
const STAGE_BYTES = 64 * 1024;

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
  /** Where small pieces are copied: stage[0, staged) is body not yet passed on. */
  private stage: Buffer | null = null;
  private staged = 0;
  /** The size of the next stage. */
  private nextStage = FIRST_STAGE_BYTES;
  /** Pieces passed on (to the chunk list or the decoder). */
  private passed = 0;

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
            throw new RawcrawlError('ERR_INVALID_TRANSFER_ENCODING', `transfer coding ${quote(tc)} is not supported`, { offset });
          }
        }
        const content = this.o.decompress ? parseCodings(fieldValue(ev.head.rawHeaders, 'content-encoding')) : [];
        // (No array made for the common response with neither coding.)
        const all = content.length > 0 && content.every(isKnownCoding) ? [...content, ...ev.transferCodings] : ev.transferCodings;
        const codings = all.length === 0 ? all : all.filter((c) => c !== 'identity');
        if (codings.length > MAX_CODINGS) {
          throw new RawcrawlError('ERR_DECOMPRESS', `the body is coded ${codings.length} times: more than ${MAX_CODINGS} codings are not decoded`, { offset });
        }
        if (codings.length > 0) this.decoder = new BodyDecoder(codings, this.o.maxBodyBytes, this.o.truncate);
        if (ev.framing.kind === 'length' && ev.framing.length > this.o.maxBodyBytes && !this.o.truncate) {
          throw new RawcrawlError('ERR_BODY_TOO_LARGE', `Content-Length ${ev.framing.length} exceeds maxBodyBytes (--max-body): ${this.o.maxBodyBytes} bytes`, { offset });
        }
        break;
      }
      case 'data': {
        if (this.full) break;
        let data = ev.data;
        this.received += data.length;
        if (this.received > this.o.maxBodyBytes) {
          if (!this.o.truncate) {
            throw new RawcrawlError('ERR_BODY_TOO_LARGE', `body exceeds maxBodyBytes (--max-body): ${this.o.maxBodyBytes} bytes`, { offset });
          }
          data = data.subarray(0, data.length - (this.received - this.o.maxBodyBytes));
          this.received = this.o.maxBodyBytes;
          this.cut = true;
          this.decoder?.cutInput();
        }
        this.o.onPayload?.(data);
        this.keep(data);
        break;
      }
      case 'end':
        this.flushStage();
        this.trailers = ev.trailers;
        break;
    }
  }

  /** Passes a piece of body on, a small one by way of the stage (see SMALL_PIECE). */
  private keep(data: Buffer): void {
    if (data.length === 0) return;
    if (data.length >= SMALL_PIECE || this.passed < DIRECT_PIECES) {
      this.flushStage();
      this.pass(data);
      return;
    }
    if (this.stage === null || this.stage.length - this.staged < data.length) {
      this.flushStage();
      this.stage = Buffer.allocUnsafe(this.nextStage);
      this.nextStage = Math.min(STAGE_BYTES, this.nextStage * 2);
    }
    data.copy(this.stage, this.staged);
    this.staged += data.length;
  }

  /** Passes on what the stage holds; the rest of its room takes the next small pieces. */
  private flushStage(): void {
    if (this.stage === null || this.staged === 0) return;
    const staged = this.stage.subarray(0, this.staged);
    this.stage = this.stage.subarray(this.staged);
    this.staged = 0;
    this.pass(staged);
  }

  private pass(data: Buffer): void {
    this.passed++;
    if (this.decoder) this.decoder.write(data);
    else this.chunks.push(data);
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
    this.flushStage();
    if (this.decoder) return this.decoder.end();
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received);
  }

  destroy(): void {
    this.stage = null;
    this.decoder?.destroy();
  }
}
