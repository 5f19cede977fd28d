import { expect, it, describe } from 'vitest';
import { ResponseParser } from '../../src/http/response-parser.js';
import { drain } from './feed.js';
import { RawcrawlError, type ErrorCode } from '../../src/errors.js';
import type { LeniencyKind } from '../../src/http/leniency.js';

export interface Parsed {
  informational: number[];
  status: number;
  statusText: string;
  httpVersion: string;
  headers: Array<[string, string]>;
  framing: string;
  transferCodings: string[];
  body: string;
  trailers: Array<[string, string]>;
  leniencies: LeniencyKind[];
  /** Bytes fed but not consumed once the response was complete. */
  unconsumed: number;
}

export interface Case {
  name: string;
  bytes: string | Buffer;
  method?: string;
  maxHeaderBytes?: number;
  /** The peer closes after the bytes (close-delimited bodies, premature-close cases). */
  eof?: boolean;
  expect: Partial<Parsed> | { error: ErrorCode; offset?: number };
}

export class ParseError extends Error {
  constructor(readonly error: RawcrawlError, readonly partial: Parsed) {
    super(error.message);
  }
}

/** Feeds `pieces` to a fresh parser, pulling events after every piece, then EOF if asked. */
export function parse(pieces: Buffer[], opts: { method?: string; maxHeaderBytes?: number; eof?: boolean } = {}): Parsed {
  const parser = new ResponseParser({
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.maxHeaderBytes ? { maxHeaderBytes: opts.maxHeaderBytes } : {}),
  });
  const out: Parsed = {
    informational: [], status: 0, statusText: '', httpVersion: '', headers: [], framing: '', transferCodings: [],
    body: '', trailers: [], leniencies: [], unconsumed: 0,
  };
  const body: Buffer[] = [];
  let done = false;
  const pull = (): void => {
    done = drain(parser, (ev) => {
      switch (ev.type) {
        case 'informational':
          out.informational.push(ev.head.status);
          break;
        case 'head':
          out.status = ev.head.status;
          out.statusText = ev.head.statusText;
          out.httpVersion = ev.head.httpVersion;
          out.headers = ev.head.rawHeaders.map(([n, v]) => [n, v]);
          out.framing = ev.framing.kind;
          out.transferCodings = ev.transferCodings;
          break;
        case 'data':
          expect(ev.data.length).toBeGreaterThan(0);
          body.push(Buffer.from(ev.data));
          break;
        case 'end':
          out.trailers = ev.trailers.map(([n, v]) => [n, v]);
          break;
      }
    });
  };
  try {
    for (const p of pieces) {
      parser.feed(p);
      pull();
    }
    if (opts.eof && !done) {
      parser.feedEof();
      pull();
    }
  } catch (err) {
    out.body = Buffer.concat(body).toString('latin1');
    if (err instanceof RawcrawlError) throw new ParseError(err, out);
    throw err;
  }
  out.body = Buffer.concat(body).toString('latin1');
  out.leniencies = parser.leniencies.map((l) => l.kind);
  out.unconsumed = parser.unconsumed;
  if (!done) throw new Error(`parser wants more data after ${parser.offset} bytes`);
  return out;
}

const GARBAGE = Buffer.from('HTTP/1.1 200 OK\r\nX-Smuggled: yes\r\n\r\n\x00\xff junk');

function bytesOf(c: Case): Buffer {
  return typeof c.bytes === 'string' ? Buffer.from(c.bytes, 'latin1') : c.bytes;
}

function ways(c: Case): Array<[string, Buffer[]]> {
  const b = bytesOf(c);
  const out: Array<[string, Buffer[]]> = [
    ['whole', [b]],
    ['byte by byte', [...b].map((x) => Buffer.from([x]))],
  ];
  // Trailing data only makes sense when the message ends by framing, not by the peer closing.
  if (!c.eof) out.push(['followed by trailing data', [Buffer.concat([b, GARBAGE])]]);
  if (!c.eof) out.push(['byte by byte with trailing data', [...Buffer.concat([b, GARBAGE])].map((x) => Buffer.from([x]))]);
  return out;
}

/** Runs a table of cases whole, byte by byte, and followed by trailing data. */
export function runCases(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      describe(c.name, () => {
        for (const [way, pieces] of ways(c)) {
          it(way, () => {
            const opts = { method: c.method, maxHeaderBytes: c.maxHeaderBytes, eof: c.eof };
            const exp = c.expect;
            if ('error' in exp) {
              let caught: unknown;
              try {
                parse(pieces, opts);
              } catch (err) {
                caught = err;
              }
              expect(caught, 'expected a parse error').toBeInstanceOf(ParseError);
              const e = (caught as ParseError).error;
              expect(e.code).toBe(exp.error);
              expect(typeof e.offset).toBe('number');
              if (exp.offset !== undefined) expect(e.offset).toBe(exp.offset);
              return;
            }
            const got = parse(pieces, opts);
            const { unconsumed, ...rest } = exp;
            expect(got).toMatchObject(rest);
            const trailing = way.includes('trailing') ? GARBAGE.length : 0;
            expect(got.unconsumed).toBe(unconsumed ?? trailing);
          });
        }
      });
    }
  });
}
