import { describe, expect, it } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { StreamReader } from '../../src/net/stream-reader.js';
import { RawcrawlError } from '../../src/errors.js';
import { failure } from '../helpers/failure.js';

/** A source we push to by hand; `end()` is EOF. */
function source(): { src: Readable; push(s: string | Buffer): void; end(): void; fail(e: Error): void } {
  const src = new Readable({ read() {} });
  return {
    src,
    push: (s) => src.push(typeof s === 'string' ? Buffer.from(s) : s),
    end: () => src.push(null),
    fail: (e) => src.destroy(e),
  };
}

function reader(chunks: string[], options = {}): StreamReader {
  return new StreamReader(Readable.from(chunks.map((c) => Buffer.from(c))), options);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RawcrawlError) return e.code;
    throw e;
  }
  return 'resolved';
}


const s = (b: Buffer): string => b.toString('latin1');

/** What `p` settles with by the next turn of the event loop ('pending' if it has not): a hang fails fast. */
async function soon<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, tick().then(() => 'pending' as const)]);
}

describe('readline', () => {
  it('returns each line with its LF, the last partial line at EOF, then empty', async () => {
    const r = reader(['one\ntw', 'o\r\nthr', 'ee']);
    expect(s(await r.readline())).toBe('one\n');
    expect(s(await r.readline())).toBe('two\r\n');
    expect(s(await r.readline())).toBe('three');
    expect(s(await r.readline())).toBe('');
    expect(r.atEof()).toBe(true);
  });

  it('waits for the LF across many reads', async () => {
    const { src, push, end } = source();
    const r = new StreamReader(src);
    const line = r.readline();
    for (const c of 'abc') {
      push(c);
      await tick();
    }
    push('\nrest');
    expect(s(await line)).toBe('abc\n');
    end();
    expect(s(await r.readline())).toBe('rest');
  });

  it('fails with ERR_LINE_TOO_LONG past maxLineLength, with or without a line end', async () => {
    expect(await codeOf(reader(['x'.repeat(20) + '\n'], { maxLineLength: 10 }).readline())).toBe('ERR_LINE_TOO_LONG');
    const { src, push } = source();
    const r = new StreamReader(src, { maxLineLength: 10 });
    const p = codeOf(r.readline());
    for (let i = 0; i < 11; i++) {
      push('y');
      await tick();
    }
    expect(await p).toBe('ERR_LINE_TOO_LONG');
  });

  it('discards a too-long line up to its LF, so the next readline() returns the next line', async () => {
    const r = reader(['x'.repeat(15), 'x'.repeat(5) + '\nnext\n'], { maxLineLength: 10 });
    const err = await failure(r.readline());
    expect(err.code).toBe('ERR_LINE_TOO_LONG');
    expect(err.consumed).toBe(21);
    expect(r.buffered).toBe(5);
    expect(s(await r.readline())).toBe('next\n');
    expect(s(await r.readline())).toBe('');
  });

  it('discards what is buffered of a too-long line whose LF has not come; the next readline() returns the rest of it', async () => {
    const { src, push, end } = source();
    const r = new StreamReader(src, { maxLineLength: 10 });
    const p = failure(r.readline());
    for (let i = 0; i < 11; i++) {
      push('y');
      await tick();
    }
    const err = await p;
    expect(err.code).toBe('ERR_LINE_TOO_LONG');
    expect(err.consumed).toBe(11);
    expect(r.buffered).toBe(0);
    push('yy\nok\n');
    end();
    expect(s(await r.readline())).toBe('yy\n');
    expect(s(await r.readline())).toBe('ok\n');
  });

  it('for await ends with ERR_LINE_TOO_LONG at a too-long line; a new loop goes on after it', async () => {
    const r = reader(['a\n' + 'z'.repeat(12) + '\nb\n'], { maxLineLength: 10 });
    const first: string[] = [];
    let code = '';
    try {
      for await (const line of r) first.push(s(line));
    } catch (e) {
      code = (e as RawcrawlError).code;
    }
    expect(first).toEqual(['a\n']);
    expect(code).toBe('ERR_LINE_TOO_LONG');
    const rest: string[] = [];
    for await (const line of r) rest.push(s(line));
    expect(rest).toEqual(['b\n']);
  });

  it('accepts a line of exactly maxLineLength bytes', async () => {
    const r = reader(['123456789\n'], { maxLineLength: 10 });
    expect(s(await r.readline())).toBe('123456789\n');
  });
});

describe('readuntil', () => {
  it('returns bytes up to and including a multi-byte separator split across reads', async () => {
    const r = reader(['HTTP/1.1 200\r\nA: b\r', '\n\r', '\nbody']);
    expect(s(await r.readuntil('\r\n\r\n'))).toBe('HTTP/1.1 200\r\nA: b\r\n\r\n');
    expect(s(await r.read())).toBe('body');
  });

  it('fails with ERR_PREMATURE_CLOSE at EOF without the separator, the bytes read as its partial', async () => {
    const r = reader(['no sep', 'arator\r']);
    const err = await failure(r.readuntil('\r\n'));
    expect(err.code).toBe('ERR_PREMATURE_CLOSE');
    expect(s(err.partial!)).toBe('no separator\r');
    expect(r.atEof()).toBe(true);
    const empty = await failure(r.readuntil('\r\n'));
    expect(empty.code).toBe('ERR_PREMATURE_CLOSE');
    expect(empty.partial!.length).toBe(0);
  });

  it('fails with ERR_LINE_TOO_LONG when the separator is past the limit', async () => {
    expect(await codeOf(reader(['aaaaaaaaaaaa|'], { maxLineLength: 8 }).readuntil('|'))).toBe('ERR_LINE_TOO_LONG');
  });

  it('past the limit leaves the bytes buffered and says how many the line takes (consumed)', async () => {
    const r = reader(['aaaaaa', 'aaaaaa|rest'], { maxLineLength: 8 });
    const err = await failure(r.readuntil('|'));
    expect(err.code).toBe('ERR_LINE_TOO_LONG');
    expect(err.consumed).toBe(13);
    expect(r.buffered).toBe(17);
    expect(s(await r.readexactly(err.consumed!))).toBe('aaaaaaaaaaaa|');
    expect(s(await r.read())).toBe('rest');
  });

  it('past the limit without the separator: consumed counts the bytes that cannot start it', async () => {
    const { src, push } = source();
    const r = new StreamReader(src, { maxLineLength: 8 });
    push('abcdefghij\r');
    const err = await failure(r.readuntil('\r\n'));
    expect(err.code).toBe('ERR_LINE_TOO_LONG');
    expect(err.consumed).toBe(10);
    expect(r.buffered).toBe(11);
    push('\n');
    await tick();
    expect((await failure(r.readuntil('\r\n'))).consumed).toBe(12);
    expect(r.buffered).toBe(12);
  });

  it('rejects an empty separator', async () => {
    expect(await codeOf(reader(['x']).readuntil(''))).toBe('ERR_INVALID_OPTION');
  });
});

describe('readexactly', () => {
  it('returns exactly n bytes, gathered across chunks', async () => {
    const r = reader(['ab', 'cde', 'fgh']);
    expect(s(await r.readexactly(4))).toBe('abcd');
    expect(s(await r.readexactly(1))).toBe('e');
    expect(s(await r.readexactly(0))).toBe('');
    expect(s(await r.readexactly(3))).toBe('fgh');
    expect(r.atEof()).toBe(true);
  });

  it('fails with ERR_PREMATURE_CLOSE when the stream ends first, the bytes read as its partial', async () => {
    const r = reader(['ab', 'c']);
    const err = await failure(r.readexactly(4));
    expect(err.code).toBe('ERR_PREMATURE_CLOSE');
    expect(s(err.partial!)).toBe('abc');
    expect(err.message).toContain('3 of 4');
    expect(r.atEof()).toBe(true);
  });
});

describe('read', () => {
  it('read(n) returns at most n bytes and at least one', async () => {
    const r = reader(['abcdef']);
    expect(s(await r.read(4))).toBe('abcd');
    const rest = await r.read(100);
    expect(s(rest)).toBe('ef');
    expect(s(await r.read(5))).toBe('');
  });

  it('read() reads until EOF', async () => {
    expect(s(await reader(['a', 'b', 'c']).read())).toBe('abc');
  });

  it('read(0) returns empty without waiting', async () => {
    const { src } = source();
    expect((await new StreamReader(src).read(0)).length).toBe(0);
  });

  it('waits for data instead of returning empty before EOF', async () => {
    const { src, push } = source();
    const r = new StreamReader(src);
    let got: Buffer | null = null;
    const p = r.read(10).then((b) => (got = b));
    await tick();
    expect(got).toBeNull();
    push('x');
    await p;
    expect(s(got!)).toBe('x');
  });
});

describe('byte counts', () => {
  const bad = [-2, 1.5, NaN, Infinity, 2 ** 53, '3' as unknown as number];
  it.each(bad)('read(%o) rejects with ERR_INVALID_OPTION naming n, and leaves the buffer as it was', async (n) => {
    const r = reader(['abc']);
    expect(await soon(failure(r.read(n)))).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^read\(n\): n must be/) });
    expect(s(await r.read())).toBe('abc');
  });

  it.each([-1, ...bad])('readexactly(%o) rejects with ERR_INVALID_OPTION naming n, and leaves the buffer as it was', async (n) => {
    const r = reader(['abc']);
    expect(await soon(failure(r.readexactly(n)))).toMatchObject({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^readexactly\(n\): n must be/) });
    expect(s(await r.read())).toBe('abc');
  });

  it('read(-1) and read() read to EOF', async () => {
    expect(s(await reader(['a', 'b']).read(-1))).toBe('ab');
    expect(s(await reader(['a', 'b']).read(undefined))).toBe('ab');
  });
});

describe('atEof and iteration', () => {
  it('atEof is false while bytes are buffered, true once drained after EOF', async () => {
    const { src, push, end } = source();
    const r = new StreamReader(src);
    push('ab');
    end();
    await tick();
    await tick();
    expect(r.atEof()).toBe(false);
    expect(r.buffered).toBe(2);
    await r.read(1);
    expect(r.atEof()).toBe(false);
    await r.read(1);
    expect(r.atEof()).toBe(true);
  });

  it('for await yields lines, the last one without LF', async () => {
    const lines: string[] = [];
    for await (const line of reader(['a\nb', 'b\n\nc'])) lines.push(s(line));
    expect(lines).toEqual(['a\n', 'bb\n', '\n', 'c']);
  });
});

describe('errors', () => {
  it('a source error reaches the waiting reader, mapped', async () => {
    const { src, push, fail } = source();
    const r = new StreamReader(src, { mapError: (e) => new RawcrawlError('ERR_CONNECTION_RESET', e.message) });
    push('partial');
    const p = codeOf(r.readline());
    await tick();
    fail(Object.assign(new Error('boom'), { code: 'ECONNRESET' }));
    expect(await p).toBe('ERR_CONNECTION_RESET');
  });
});

describe('a read(n) waiting for bytes', () => {
  it('gets the first chunk, at most n bytes, and leaves the rest buffered', async () => {
    const { src, push } = source();
    const r = new StreamReader(src);
    const p = r.read(3);
    await tick();
    push('abcdef');
    expect(s(await p)).toBe('abc');
    expect(r.buffered).toBe(3);
    expect(s(await r.read(10))).toBe('def');
  });

  it('resumes a source paused with nothing buffered (a high-water mark of 0)', async () => {
    const { src, push } = source();
    const r = new StreamReader(src, { highWaterMark: 0 });
    push('ab');
    await tick();
    expect(src.isPaused()).toBe(true);
    expect(s(await r.read(10))).toBe('ab');
    const p = r.read(10);
    push('cd');
    expect(s(await p)).toBe('cd');
  });

  it('gets an empty Buffer at EOF', async () => {
    const { src, end } = source();
    const r = new StreamReader(src);
    const p = r.read(10);
    await tick();
    end();
    expect((await p).length).toBe(0);
    expect(r.atEof()).toBe(true);
  });

  it('is rejected by a source error, mapped, and so is every later read', async () => {
    const { src, fail } = source();
    const r = new StreamReader(src, { mapError: (e) => new RawcrawlError('ERR_CONNECTION_RESET', e.message) });
    const p = codeOf(r.read(10));
    await tick();
    fail(new Error('reset'));
    expect(await p).toBe('ERR_CONNECTION_RESET');
    expect(await codeOf(r.read(10))).toBe('ERR_CONNECTION_RESET');
  });

  it('bytes that came before an error are still read first', async () => {
    const { src, push, fail } = source();
    const r = new StreamReader(src, { mapError: (e) => new RawcrawlError('ERR_CONNECTION_RESET', e.message) });
    push('ok');
    await tick();
    fail(new Error('reset'));
    await tick();
    expect(s(await r.read(10))).toBe('ok');
    expect(await codeOf(r.read(10))).toBe('ERR_CONNECTION_RESET');
  });
});

describe('one read at a time', () => {
  it('a second readline() while one waits rejects at once with ERR_INVALID_OPTION; the first still gets its line', async () => {
    const { src, push } = source();
    const r = new StreamReader(src);
    const [first, second] = [r.readline(), codeOf(r.readline())];
    expect(await soon(second)).toBe('ERR_INVALID_OPTION');
    push('one\ntwo\n');
    expect(await soon(first.then(s))).toBe('one\n');
    expect(s(await r.readline())).toBe('two\n');
  });

  it('a second read(1) while one waits rejects at once; no byte goes missing', async () => {
    const { src, push } = source();
    const r = new StreamReader(src);
    const first = r.read(1);
    expect(await soon(codeOf(r.read(1)))).toBe('ERR_INVALID_OPTION');
    push('ab');
    expect(await soon(first.then(s))).toBe('a');
    expect(s(await r.read(1))).toBe('b');
  });

  it('no read takes bytes from under a readexactly() still gathering them', async () => {
    const { src, push } = source();
    const r = new StreamReader(src);
    push('abcde');
    await tick();
    const whole = r.readexactly(8);
    const codes = await soon(Promise.all([codeOf(r.read(3)), codeOf(r.readline()), codeOf(r.readuntil('c')), codeOf(r.readexactly(1)), codeOf(r.read())]));
    expect(codes).toEqual(Array(5).fill('ERR_INVALID_OPTION'));
    push('fgh');
    expect(await soon(whole.then(s))).toBe('abcdefgh');
  });

  it('two readline() started together on buffered lines: the second rejects, the first is whole', async () => {
    const r = reader(['a\nbbb\n']);
    const results = await soon(Promise.allSettled([r.readline(), r.readline()]));
    expect(results[0]).toEqual({ status: 'fulfilled', value: Buffer.from('a\n') });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_INVALID_OPTION' } });
    expect(await soon(r.readline().then(s))).toBe('bbb\n');
  });

  it('a read that failed frees the slot', async () => {
    const r = reader(['abc']);
    expect(await codeOf(r.readexactly(4))).toBe('ERR_PREMATURE_CLOSE');
    expect(s(await r.read(1))).toBe('');
  });
});

describe('backpressure', () => {
  it('pauses the source above the high-water mark and resumes it once read below', async () => {
    const pt = new PassThrough();
    const r = new StreamReader(pt, { highWaterMark: 1024 });
    pt.write(Buffer.alloc(600));
    await tick();
    expect(pt.isPaused()).toBe(false);
    pt.write(Buffer.alloc(600));
    await tick();
    expect(r.buffered).toBe(1200);
    expect(pt.isPaused()).toBe(true);
    // More writes stay in the source, not in the reader.
    pt.write(Buffer.alloc(5000));
    await tick();
    expect(r.buffered).toBe(1200);
    await r.readexactly(300);
    expect(pt.isPaused()).toBe(false);
    await tick();
    await tick();
    expect(r.buffered).toBeGreaterThan(900);
    let total = 300;
    while (total < 6200) total += (await r.read(4096)).length;
    expect(total).toBe(6200);
  });

  it('resumes a paused source when a line needs more than the high-water mark', async () => {
    const pt = new PassThrough();
    const r = new StreamReader(pt, { highWaterMark: 100, maxLineLength: 10_000 });
    pt.write(Buffer.alloc(3000, 0x61));
    pt.write('\n');
    const line = await r.readline();
    expect(line.length).toBe(3001);
  });
});
