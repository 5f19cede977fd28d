import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { ResponseParser, type SegmentKind } from '../../src/http/response-parser.js';
import { drain, splitAt } from '../helpers/feed.js';
import { RawcrawlError } from '../../src/errors.js';

// A head that is all buffered is decoded at once (decodeHead()), and its plain field lines are
// checked all at once; otherwise it is decoded line by line. Both must give the same results.

const NGINX =
  'HTTP/1.1 200 OK\r\n' +
  'Server: nginx/1.24.0\r\n' +
  'Date: Tue, 14 Jan 2025 10:00:00 GMT\r\n' +
  'Content-Type: text/html\r\n' +
  'Content-Length: 5\r\n' +
  'Last-Modified: Mon, 13 Jan 2025 09:00:00 GMT\r\n' +
  'Connection: keep-alive\r\n' +
  'ETag: "6784d9d0-5"\r\n' +
  'Accept-Ranges: bytes\r\n' +
  '\r\n';
const NGINX_HEADERS = [
  ['Server', 'nginx/1.24.0'],
  ['Date', 'Tue, 14 Jan 2025 10:00:00 GMT'],
  ['Content-Type', 'text/html'],
  ['Content-Length', '5'],
  ['Last-Modified', 'Mon, 13 Jan 2025 09:00:00 GMT'],
  ['Connection', 'keep-alive'],
  ['ETag', '"6784d9d0-5"'],
  ['Accept-Ranges', 'bytes'],
];

interface Outcome {
  /** Every event but 'data', with the parser offset after it. */
  events: unknown[];
  body: string;
  leniencies: Array<[string, number]>;
  error: { code: string; message: string; offset: number | undefined } | null;
  offset: number;
  /** Bytes left unconsumed at the end (only compared without an error: feeding stops there). */
  unconsumed: number;
  /** Segments as [kind, bytes, offset], consecutive body segments merged. */
  segments: Array<[SegmentKind, string, number]>;
}

interface Options {
  method?: string;
  maxHeaderBytes?: number;
  segments?: boolean;
}

/** Latin1 without Buffer#toString, which latin1Decodes() counts. */
function latin1(bytes: Buffer): string {
  let s = '';
  for (const c of bytes) s += String.fromCharCode(c);
  return s;
}

function run(pieces: Buffer[], opts: Options): Outcome {
  const segments: Array<[SegmentKind, string, number]> = [];
  const parser = new ResponseParser({
    ...(opts.method !== undefined ? { method: opts.method } : {}),
    ...(opts.maxHeaderBytes !== undefined ? { maxHeaderBytes: opts.maxHeaderBytes } : {}),
    ...(opts.segments
      ? {
          onSegment: (kind: SegmentKind, bytes: Buffer, offset: number) => {
            const last = segments[segments.length - 1];
            if (kind === 'body' && last !== undefined && last[0] === 'body') last[1] += latin1(bytes);
            else segments.push([kind, latin1(bytes), offset]);
          },
        }
      : {}),
  });
  const out: Outcome = { events: [], body: '', leniencies: [], error: null, offset: 0, unconsumed: 0, segments };
  let done = false;
  const pull = (): void => {
    done = drain(parser, (ev) => {
      if (ev.type === 'data') out.body += latin1(ev.data);
      else out.events.push([JSON.parse(JSON.stringify(ev)) as unknown, parser.offset]);
    });
  };
  try {
    for (const p of pieces) {
      parser.feed(p);
      pull();
    }
    if (!done) {
      parser.feedEof();
      pull();
    }
  } catch (err) {
    if (!(err instanceof RawcrawlError)) throw err;
    out.error = { code: err.code, message: err.message, offset: err.offset };
  }
  out.leniencies = parser.leniencies.map((l) => [l.kind, l.offset]);
  out.offset = parser.offset;
  out.unconsumed = out.error === null ? parser.unconsumed : -1;
  return out;
}

const bytewise = (wire: Buffer): Buffer[] => [...wire].map((b) => Buffer.from([b]));

/** Counts the latin1 decodes of received bytes while `fn` runs. */
function latin1Decodes(fn: () => void): number {
  const spy = vi.spyOn(Buffer.prototype, 'toString');
  try {
    fn();
    return spy.mock.calls.filter((args) => args[0] === 'latin1').length;
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a head that is all buffered is decoded at once', () => {
  const wire = Buffer.from(`${NGINX}hello`, 'latin1');

  it('one decode for the whole head, fed whole', () => {
    let got: Outcome | undefined;
    expect(latin1Decodes(() => (got = run([wire], {})))).toBe(1);
    expect(got!.error).toBeNull();
    expect(got!.events[0]).toEqual([
      { type: 'head', head: { httpVersion: '1.1', status: 200, statusText: 'OK', rawHeaders: NGINX_HEADERS }, framing: { kind: 'length', length: 5 }, transferCodings: [] },
      NGINX.length,
    ]);
    expect(got!.body).toBe('hello');
  });

  it('one decode per line, fed byte by byte, with the same results', () => {
    let got: Outcome | undefined;
    // Ten lines: the status line, eight fields and the empty line.
    expect(latin1Decodes(() => (got = run(bytewise(wire), {})))).toBe(10);
    expect(got).toEqual(run([wire], {}));
  });

  it('line by line until the rest of the head arrives, then at once', () => {
    const cut = NGINX.indexOf('Content-Type') + 4;
    const pieces = [wire.subarray(0, cut), wire.subarray(cut)];
    let got: Outcome | undefined;
    // The status line, Server and Date each alone; then Content-Type and all after it.
    expect(latin1Decodes(() => (got = run(pieces, {})))).toBe(4);
    expect(got).toEqual(run([wire], {}));
  });

  it('also with onSegment, which still sees one segment per line', () => {
    let got: Outcome | undefined;
    expect(latin1Decodes(() => (got = run([wire], { segments: true })))).toBe(1);
    const lines = NGINX.split(/(?<=\n)/);
    expect(got!.segments).toEqual([...lines.map((l, i) => ['head', l, lines.slice(0, i).join('').length]), ['body', 'hello', NGINX.length]]);
  });

  it('each interim head at once too', () => {
    const early = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nLink: </b.js>\r\n\r\n';
    const twice = Buffer.from(`${early}${early}${NGINX}hello`, 'latin1');
    let got: Outcome | undefined;
    expect(latin1Decodes(() => (got = run([twice], {})))).toBe(3);
    expect(got!.events.map((e) => (e as [{ type: string }, number])[0].type)).toEqual(['informational', 'informational', 'head', 'end']);
    expect(got).toEqual(run(bytewise(twice), {}));
  });

  it('a head that is not plain (obs-fold, bare LF, bad bytes) is still parsed exactly as line by line', () => {
    for (const head of [
      'HTTP/1.1 200 OK\r\nX-Long: one\r\n   two\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\r\n\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\r\nNoColon\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\r\n : x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\nBad Name: x\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\nX-B: a\x00b\r\n\r\n',
    ]) {
      const wire = Buffer.from(head, 'latin1');
      let whole: Outcome | undefined;
      expect(latin1Decodes(() => (whole = run([wire], {}))), head).toBeLessThanOrEqual(2);
      expect(whole, head).toEqual(run(bytewise(wire), {}));
    }
  });
});

// Random heads, valid and not, fed whole, byte by byte and split at random points: the same events,
// leniencies (with offsets), errors (code, message, offset) and offsets each way.

// Mostly plain lines, so that a head is often plain but for one or two odd lines or line ends.
const eol = fc.oneof({ arbitrary: fc.constant('\r\n'), weight: 12 }, fc.constantFrom('\n', '\r\r\n'));
const statusLine = fc.oneof(
  { arbitrary: fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.0 200 OK', 'HTTP/1.1 404 Not \xe9 Found', 'HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified'), weight: 6 },
  { arbitrary: fc.constantFrom('HTTP/1.1 100 Continue', 'HTTP/1.1 103 Early Hints'), weight: 2 },
  fc.constantFrom(
    'HTTP/1.1 200', 'HTTP/1.1 200 ', 'HTTP/1.1 101 Switching Protocols', 'HTTP/2.0 200 OK', 'HTTP/1.1 20 OK', 'HTTP/1.1 200 O\x00K',
    'HTTP/1.1 200 O\rK', 'http/1.1 200 OK', '',
  ),
);
const name = fc.oneof(
  { arbitrary: fc.constantFrom('Content-Length', 'content-length', 'CONTENT-LENGTH', 'Transfer-Encoding', 'transfer-encoding', 'Server', 'X-A', 'Set-Cookie'), weight: 6 },
  { arbitrary: fc.string({ unit: fc.constantFrom('a', 'Z', '-', '!', '~', '0', '_', '`'), minLength: 1, maxLength: 8 }), weight: 6 },
  fc.constantFrom('Bad Name', 'X(y)', '', 'Content-Length ', 'x\xe9', ' folded', '\tfolded', 'a\x00'),
);
const value = fc.oneof(
  fc.constantFrom('0', '5', '005', '5, 5', '5, 6', ' 12 ', '\t3\t', '', '99999999999999999999', '5\xa0', 'chunked', 'gzip, CHUNKED', 'chunked, gzip', 'gzip'),
  { arbitrary: fc.string({ unit: fc.constantFrom('a', ' ', '\t', ',', '1', '\xe9', ':', '\x01'), maxLength: 12 }), weight: 4 },
  fc.string({ unit: fc.constantFrom('a', ' ', '\x00', '\r', '\n', '\r\n'), maxLength: 6 }),
  // A bare LF, then a line that is not a plain field line.
  fc.constantFrom('1\nBad Name: x', '1\nX(y):1', '1\n\tfolded', '1\nX-B: a\x00b', '1\nX-B: a\rb', '1\nNoColon', '1\n'),
);
const fieldLine = fc.oneof(
  { arbitrary: fc.tuple(name, fc.constantFrom(':', ':', ':', ': ', ''), value).map(([n, sep, v]) => `${n}${sep}${v}`), weight: 12 },
  fc.tuple(fc.constantFrom(' ', '\t', '  '), value).map(([ows, v]) => `${ows}${v}`),
);
const head = fc
  .tuple(fc.array(eol, { maxLength: 2 }), statusLine, eol, fc.array(fc.tuple(fieldLine, eol), { maxLength: 8 }), eol)
  .map(([before, status, statusEol, fields, end]) => `${before.join('')}${status}${statusEol}${fields.map(([l, e]) => l + e).join('')}${end}`);
const body = fc.constantFrom('', 'hi', 'hello', '5\r\nhello\r\n0\r\n\r\n', '0\r\nT: 1\r\n\r\n', '2\nhi\n0\n\n', 'hello world, and more', '\r\nHTTP/1.1 200 OK\r\n\r\n');
const wireArb = fc.tuple(fc.array(head, { minLength: 1, maxLength: 3 }), body).map(([heads, b]) => Buffer.from(heads.join('') + b, 'latin1'));
const optionsArb = fc.record(
  {
    method: fc.constantFrom('GET', 'HEAD'),
    maxHeaderBytes: fc.integer({ min: 8, max: 300 }),
    segments: fc.boolean(),
  },
  { requiredKeys: ['segments'] },
);

describe('whole head at once and line by line agree', () => {
  it('a bad version past maxHeaderBytes is a head too large, whole or byte by byte (stray line ends count)', () => {
    // Found by the property below: whole, the version was checked past the limit the bytes
    // one by one never reach.
    const wire = Buffer.from('\r\n\r\nHTTP/2.0 200 OK\r\n\r\n', 'latin1');
    const whole = run([wire], { maxHeaderBytes: 8 });
    expect(whole.error).toEqual({ code: 'ERR_HEADERS_TOO_LARGE', message: 'response head exceeds maxHeaderBytes (8)', offset: 4 });
    expect(run(bytewise(wire), { maxHeaderBytes: 8 })).toEqual(whole);
    // With room for the version, both say what is wrong with it.
    const roomy = run([wire], { maxHeaderBytes: 12 });
    expect(roomy.error).toMatchObject({ code: 'ERR_INVALID_STATUS_LINE', offset: 9 });
    expect(run(bytewise(wire), { maxHeaderBytes: 12 })).toEqual(roomy);
  });

  it('on random heads: events, leniencies, errors and offsets', () => {
    fc.assert(
      fc.property(wireArb, optionsArb, fc.array(fc.nat(), { maxLength: 6 }), (wire, opts, points) => {
        const whole = run([wire], opts);
        expect(run(bytewise(wire), opts)).toEqual(whole);
        expect(run(splitAt(wire, points), opts)).toEqual(whole);
      }),
      { numRuns: 1000 },
    );
  });

  it('on random plain heads, which all parse', () => {
    const plainName = fc.string({ unit: fc.constantFrom('a', 'Z', '-', '!', '~', '0', '_'), minLength: 1, maxLength: 10 });
    const plainValue = fc.string({ unit: fc.constantFrom('a', ' ', '\t', ',', '1', '\xe9', ':', '\x01', '"'), maxLength: 20 });
    const plain = fc
      .tuple(fc.array(fc.tuple(plainName, plainValue), { maxLength: 12 }), fc.nat({ max: 40 }))
      .map(([fields, n]) => Buffer.from(`HTTP/1.1 200 OK\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}Content-Length: ${n}\r\n\r\n${'b'.repeat(n)}`, 'latin1'));
    fc.assert(
      fc.property(plain, (wire) => {
        let whole: Outcome | undefined;
        expect(latin1Decodes(() => (whole = run([wire], {})))).toBe(1);
        expect(whole!.error).toBeNull();
        expect(run(bytewise(wire), {})).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
