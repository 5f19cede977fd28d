import zlib from 'node:zlib';
import { RawcrawlError } from '../errors.js';

/** Content codings rawcrawl decodes (RFC 9110 §8.4.1). */
const KNOWN = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity']);

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
  destroy(): void;
}

function zlibStage(stream: zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress, cb: StageCallbacks): Stage {
  stream.on('data', cb.data);
  stream.on('end', cb.end);
  stream.on('error', cb.error);
  return {
    write: (b) => void stream.write(b),
    end: () => void stream.end(),
    destroy: () => void stream.destroy(),
  };
}

/**
 * "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but many servers send raw deflate:
 * the first two bytes (RFC 1950 §2.2: CM = 8 and a multiple of 31) tell them apart.
 */
function deflateStage(cb: StageCallbacks): Stage {
  let inner: Stage | null = null;
  let pending: Buffer | null = null;
  const start = (head: Buffer): void => {
    const wrapped = head.length >= 2 && (head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0;
    inner = zlibStage(wrapped ? zlib.createInflate() : zlib.createInflateRaw(), cb);
    inner.write(head);
  };
  return {
    write(b) {
      if (inner) return inner.write(b);
      pending = pending ? Buffer.concat([pending, b]) : b;
      if (pending.length >= 2) {
        const head = pending;
        pending = null;
        start(head);
      }
    },
    end() {
      if (!inner) {
        if (pending === null) return cb.end();
        start(pending);
        pending = null;
      }
      inner!.end();
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

/**
 * Streaming decoder for stacked codings. Output is counted as it is produced, so a gzip bomb
 * fails with ERR_BODY_TOO_LARGE after at most `maxBytes` (plus one zlib chunk) of memory.
 */
export class BodyDecoder {
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private inBytes = 0;
  private failure: RawcrawlError | null = null;
  private readonly stages: Stage[] = [];
  private readonly finished: Promise<void>;
  private readonly head: StageCallbacks;

  /** @param codings in the order they were applied (known ones only); decoded last-applied first. */
  constructor(
    codings: string[],
    private readonly maxBytes: number,
  ) {
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
        if (this.failure) return;
        this.outBytes += b.length;
        if (this.outBytes > this.maxBytes) {
          fail(new RawcrawlError('ERR_BODY_TOO_LARGE', `decoded body exceeds maxBodyBytes (${this.maxBytes})`));
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
        error: (err) => fail(new RawcrawlError('ERR_DECOMPRESS', `cannot decode ${coding} body: ${err.message}`, { cause: err })),
      });
      if (!stage) continue;
      this.stages.unshift(stage);
      next = { data: (b) => stage.write(b), end: () => stage.end(), error: () => {} };
    }
    this.head = next;
  }

  write(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    this.inBytes += chunk.length;
    this.head.data(chunk);
  }

  /** Finishes decoding and returns the decoded body. */
  async end(): Promise<Buffer> {
    if (this.failure) throw this.failure;
    if (this.inBytes === 0) {
      // No body at all (HEAD, 204, 304, Content-Length: 0) is an empty body, not a truncated stream.
      this.destroy();
      return Buffer.alloc(0);
    }
    this.head.end();
    await this.finished;
    return Buffer.concat(this.out, this.outBytes);
  }

  /** Throws the decoding failure, if one has happened, so the caller stops reading early. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    for (const s of this.stages) s.destroy();
  }
}
