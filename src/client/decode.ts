import buffer from 'node:buffer';
import zlib from 'node:zlib';
import { RawcrawlError } from '../errors.js';

/** Content codings rawcrawl decodes (RFC 9110 §8.4.1). */
const KNOWN = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity']);

/**
 * At most this many codings are undone for one body, content and transfer codings together, as
 * curl (since CVE-2022-32206) and undici allow. Real responses apply one, rarely two; each is a
 * zlib or brotli decoder, and a 64 KB head can name 20,000 (700 MB of decoders for one response;
 * past 3,000 or so chained zlib streams Node stops delivering their end, and the request hung).
 */
export const MAX_CODINGS = 5;

export function isKnownCoding(coding: string): boolean {
  return KNOWN.has(coding);
}

// Content-Encoding list parsing is HTTP grammar (the WARC writer uses it too): it lives in http/.
export { parseCodings } from '../http/abnf.js';

interface StageCallbacks {
  data(b: Buffer): void;
  end(): void;
  error(err: Error): void;
}

/** One decoding step; its output goes to the callbacks. */
interface Stage {
  write(b: Buffer): void;
  end(): void;
  /** Decodes what was written so far (its output delivered before `done`), without ending. */
  flush(done: () => void): void;
  destroy(): void;
}

function zlibStage(stream: zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress, cb: StageCallbacks): Stage {
  stream.on('data', cb.data);
  stream.on('end', cb.end);
  stream.on('error', cb.error);
  return {
    write: (b) => void stream.write(b),
    end: () => void stream.end(),
    flush: (done) => stream.flush(done),
    destroy: () => void stream.destroy(),
  };
}

/**
 * "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but many servers send raw deflate:
 * the first two bytes (RFC 1950 §2.2: CM = 8 and a multiple of 31) tell them apart.
 */
function isZlibWrapped(head: Buffer): boolean {
  return head.length >= 2 && (head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0;
}

function deflateStage(cb: StageCallbacks): Stage {
  let inner: Stage | null = null;
  let pending: Buffer | null = null;
  /** The inflater, made once the bytes held so far tell which kind (or there are no more). */
  const started = (): Stage | null => {
    if (!inner && pending !== null) {
      const head = pending;
      pending = null;
      inner = zlibStage(isZlibWrapped(head) ? zlib.createInflate() : zlib.createInflateRaw(), cb);
      inner.write(head);
    }
    return inner;
  };
  return {
    write(b) {
      if (inner) return inner.write(b);
      pending = pending ? Buffer.concat([pending, b]) : b;
      if (pending.length >= 2) started();
    },
    end() {
      const s = started();
      if (s) s.end();
      else cb.end();
    },
    flush(done) {
      const s = started();
      if (s) s.flush(done);
      else done();
    },
    destroy() {
      inner?.destroy();
    },
  };
}

function makeStage(coding: string, cb: StageCallbacks): Stage | null {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlibStage(zlib.createGunzip(), cb);
    case 'br':
      return zlibStage(zlib.createBrotliDecompress(), cb);
    case 'deflate':
      return deflateStage(cb);
    default:
      return null;
  }
}

/** The body decoded so far exceeds the caller's limit. */
function tooLarge(maxBytes: number): RawcrawlError {
  return new RawcrawlError('ERR_BODY_TOO_LARGE', `decoded body exceeds maxBodyBytes (--max-body): ${maxBytes} bytes`);
}

/**
 * Streaming decoder for stacked codings. Output is counted as it is produced, so a gzip bomb
 * fails with ERR_BODY_TOO_LARGE after at most `maxBytes` (plus one zlib chunk) of memory; with
 * `truncate`, the output is cut at `maxBytes` instead and decoding stops there (`full`).
 */
class StreamingDecoder {
  /** Truncate mode: the output reached maxBytes and was cut there; later input is ignored. */
  full = false;
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private failure: RawcrawlError | null = null;
  private readonly stages: Stage[] = [];
  private readonly finished: Promise<void>;
  private readonly head: StageCallbacks;

  constructor(codings: string[], maxBytes: number, truncate = false) {
    let resolveDone!: () => void;
    let rejectDone!: (e: unknown) => void;
    this.finished = new Promise<void>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    this.finished.catch(() => {});
    const fail = (err: RawcrawlError): void => {
      if (this.failure) return;
      this.failure = err;
      for (const s of this.stages) s.destroy();
      rejectDone(err);
    };
    let next: StageCallbacks = {
      data: (b) => {
        if (this.failure || this.full) return;
        this.outBytes += b.length;
        if (this.outBytes > maxBytes) {
          if (!truncate) {
            fail(tooLarge(maxBytes));
            return;
          }
          this.out.push(b.subarray(0, b.length - (this.outBytes - maxBytes)));
          this.outBytes = maxBytes;
          this.full = true;
          for (const s of this.stages) s.destroy();
          resolveDone();
          return;
        }
        this.out.push(b);
      },
      end: () => resolveDone(),
      error: () => {},
    };
    // Build from the innermost (first applied, decoded last) outwards.
    for (const coding of codings) {
      const downstream = next;
      const stage = makeStage(coding, {
        data: downstream.data,
        end: downstream.end,
        error: (err) => fail(decompressError(coding, err)),
      });
      if (!stage) continue;
      this.stages.unshift(stage);
      let fed = 0;
      next = {
        data: (b) => {
          // Decoded by a stage outside this one: limited as decodeWhole() limits each coding, or
          // a layer that decodes to nothing (empty deflate blocks) under one that multiplies
          // its input a thousandfold burns minutes of CPU without output. (The outermost
          // stage's input is the received body, limited already.)
          fed += b.length;
          if (fed > maxBytes && this.stages[0] !== stage) {
            if (!truncate) return fail(tooLarge(maxBytes));
            if (this.failure || this.full) return;
            this.full = true;
            for (const s of this.stages) s.destroy();
            resolveDone();
            return;
          }
          stage.write(b);
        },
        end: () => stage.end(),
        error: () => {},
      };
    }
    this.head = next;
  }

  write(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    if (!this.full) this.head.data(chunk);
  }

  async end(): Promise<Buffer> {
    if (this.failure) throw this.failure;
    if (!this.full) this.head.end();
    await this.finished;
    return Buffer.concat(this.out, this.outBytes);
  }

  /**
   * For input that stops before its real end (cut at a limit): each stage, outermost first,
   * decodes what it was given, and the output so far is the result. Its missing end is not an
   * error, and nothing after it is waited for.
   */
  async endCut(): Promise<Buffer> {
    if (this.failure) throw this.failure;
    for (const stage of this.stages) {
      if (this.full || this.failure) break;
      await new Promise<void>((resolve) => stage.flush(resolve));
    }
    if (this.failure) throw this.failure;
    for (const s of this.stages) s.destroy();
    return Buffer.concat(this.out, this.outBytes);
  }

  destroy(): void {
    for (const s of this.stages) s.destroy();
  }
}

function decompressError(coding: string, err: Error): RawcrawlError {
  return new RawcrawlError('ERR_DECOMPRESS', `cannot decode ${coding} body: ${err.message}`, { cause: err });
}

/** One coding undone in one synchronous zlib call, its output capped at `maxOutputLength`. */
function decodeWhole(coding: string, input: Buffer, maxOutputLength: number): Buffer {
  const o = { maxOutputLength };
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(input, o);
    case 'br':
      return zlib.brotliDecompressSync(input, o);
    case 'deflate':
      return isZlibWrapped(input) ? zlib.inflateSync(input, o) : zlib.inflateRawSync(input, o);
    default:
      return input;
  }
}

/**
 * Coded bodies up to this many bytes are held and decoded in one synchronous zlib call per
 * coding when they end; a longer one is handed to the streaming decoder as it passes this
 * size. A 20 KB page of HTML served gzipped took 160 µs of CPU through zlib streams (their
 * set-up, and a thread-pool round trip per write and per end) and 50 µs in one call. A bomb
 * still fails after at most this many coded bytes, with at most maxBodyBytes decoded.
 */
export const WHOLE_BODY_MAX = 256 * 1024;

/**
 * The content decoder for one response: stacked codings undone last-applied first. The decoded
 * size is limited to `maxBytes` (ERR_BODY_TOO_LARGE); corrupt or truncated data is
 * ERR_DECOMPRESS. With `truncate`, the decoded body is cut at `maxBytes` instead (`full` tells
 * when, so the caller can stop reading), and the coded input may be cut short (`cutInput()`).
 */
export class BodyDecoder {
  private held: Buffer[] = [];
  private inBytes = 0;
  private streaming: StreamingDecoder | null = null;
  private inputCut = false;

  /** @param codings in the order they were applied (known ones only); decoded last-applied first. */
  constructor(
    private readonly codings: string[],
    private readonly maxBytes: number,
    truncate = false,
  ) {
    // Truncate mode streams from the first byte: a bomb fills maxBytes early, and reading stops.
    if (truncate) this.streaming = new StreamingDecoder(codings, maxBytes, true);
  }

  /** Truncate mode: the decoded body reached maxBytes; more input is not needed. */
  get full(): boolean {
    return this.streaming?.full ?? false;
  }

  /** Truncate mode: the body is not whole (cut at maxBytes, decoded or coded). */
  get truncated(): boolean {
    return this.full || this.inputCut;
  }

  /** Truncate mode: the coded input ends here, before its real end; end() decodes what came. */
  cutInput(): void {
    this.inputCut = true;
  }

  write(chunk: Buffer): void {
    this.inBytes += chunk.length;
    if (this.streaming) return this.streaming.write(chunk);
    this.held.push(chunk);
    if (this.inBytes <= WHOLE_BODY_MAX) return;
    const streaming = (this.streaming = new StreamingDecoder(this.codings, this.maxBytes));
    const held = this.held;
    this.held = [];
    for (const b of held) streaming.write(b);
  }

  /**
   * The decoded body, once the coded body is complete: at once (or a throw) for a body of up to
   * WHOLE_BODY_MAX coded bytes, else a promise of it.
   */
  end(): Buffer | Promise<Buffer> {
    // No body at all (HEAD, 204, 304, Content-Length: 0) is an empty body, not a truncated stream.
    if (this.inBytes === 0) return Buffer.alloc(0);
    if (this.streaming) return this.inputCut ? this.streaming.endCut() : this.streaming.end();
    let data = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.inBytes);
    this.held = [];
    const cap = Math.min(Math.max(this.maxBytes, 1), buffer.constants.MAX_LENGTH);
    for (let i = this.codings.length - 1; i >= 0; i--) {
      const coding = this.codings[i]!;
      try {
        data = decodeWhole(coding, data, cap);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(this.maxBytes);
        throw decompressError(coding, err as Error);
      }
    }
    if (data.length > this.maxBytes) throw tooLarge(this.maxBytes);
    return data;
  }

  destroy(): void {
    this.held = [];
    this.streaming?.destroy();
  }
}
