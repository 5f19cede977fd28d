import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { request } from '../../src/client/request.js';

import type { WireEvent } from '../../src/wire/events.js';
import { rawServers } from '../helpers/raw-server.js';
import { failure } from '../helpers/failure.js';

const serve = rawServers();
async function timed<T>(p: Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await p;
  return [v, performance.now() - t0];
}

const H = 'HTTP/1.1 200 OK\r\n';

/** `total` zero bytes, gzip-compressed as they are pulled: a bomb that costs nothing to hold. */
async function* gzipZeros(total: number): AsyncGenerator<Buffer> {
  const zeros = Buffer.alloc(1 << 20);
  const src = Readable.from((function* () {
    for (let sent = 0; sent < total; sent += zeros.length) yield zeros;
  })());
  const gz = src.pipe(zlib.createGzip({ level: 9 }));
  try {
    for await (const c of gz) yield c as Buffer;
  } finally {
    gz.destroy();
    src.destroy();
  }
}

describe('time limits', () => {
  it('timeoutMs bounds a server that drips one byte every 50 ms', async () => {
    const s = await serve([{ send: `${H}Content-Length: 100000\r\n\r\n` }, { drip: 'x', everyMs: 50 }]);
    const [e, ms] = await timed(failure(request(`${s.origin}/`, { timeoutMs: 400, idleTimeoutMs: 1000 })));
    expect(e.code).toBe('ERR_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(800);
    await s.closed(1);
  });

  it('timeoutMs bounds a server that drips the head', async () => {
    const s = await serve([{ send: H }, { drip: 'X-A: 1\r\n', everyMs: 30 }]);
    const [e, ms] = await timed(failure(request(`${s.origin}/`, { timeoutMs: 300 })));
    expect(e.code).toBe('ERR_TIMEOUT');
    expect(e.message).toBe('request took longer than timeoutMs (--timeout): 300 ms');
    expect(ms).toBeLessThan(600);
  });

  it('idleTimeoutMs fails a connection that goes quiet', async () => {
    const s = await serve([{ send: `${H}Content-Length: 10\r\n\r\nabc` }, { hold: true }]);
    const [e, ms] = await timed(failure(request(`${s.origin}/`, { timeoutMs: 5000, idleTimeoutMs: 250 })));
    expect(e.code).toBe('ERR_TIMEOUT');
    expect(e.message).toMatch(/250/);
    expect(ms).toBeGreaterThanOrEqual(240);
    expect(ms).toBeLessThan(500);
  });

  it('idle timeout is reset by every byte', async () => {
    const s = await serve([{ send: `${H}Content-Length: 8\r\n\r\n` }, { drip: 'x', everyMs: 60, max: 8 }, { hold: true }]);
    const res = await request(`${s.origin}/`, { timeoutMs: 3000, idleTimeoutMs: 200 });
    expect(res.body.toString()).toBe('xxxxxxxx');
  });
});

describe('abort', () => {
  it('an AbortSignal aborting mid-response is ERR_ABORTED', async () => {
    const s = await serve([{ send: `${H}Content-Length: 10\r\n\r\nabc` }, { hold: true }]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const [e, ms] = await timed(failure(request(`${s.origin}/`, { signal: ac.signal })));
    expect(e.code).toBe('ERR_ABORTED');
    expect(ms).toBeLessThan(1000);
    await s.closed(1);
  });

  it('one signal shared by 30 requests at once: no listener warning, all aborted, no listener left', async () => {
    const s = await serve([{ send: `${H}Content-Length: 10\r\n\r\nabc` }, { hold: true }]);
    const done = await serve([{ send: `${H}Content-Length: 2\r\n\r\nok` }, { hold: true }]);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      // Thirty that complete, then thirty held until the abort.
      const ok = await Promise.all(Array.from({ length: 30 }, () => request(`${done.origin}/`, { signal: ac.signal })));
      expect(ok.map((r) => r.body.toString())).toEqual(Array(30).fill('ok'));
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
      const held = Array.from({ length: 30 }, () => failure(request(`${s.origin}/`, { signal: ac.signal })));
      await new Promise((r) => setTimeout(r, 150));
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
      ac.abort();
      const errors = await Promise.all(held);
      expect(errors.map((e) => e.code)).toEqual(Array(30).fill('ERR_ABORTED'));
      await s.closed(30);
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an abort once the whole coded body is in, while it is still being decoded, is ERR_ABORTED', async () => {
    // Over WHOLE_BODY_MAX coded bytes: decoded by zlib streams after the last byte came. Two
    // layers whose inner one decodes to nothing can take a minute of CPU for 16 MiB of body,
    // which the total timeout (the same cancel as an abort) must end.
    const coded = zlib.gzipSync(zlib.gzipSync(crypto.randomBytes(400 * 1024), { level: 0 }), { level: 0 });
    const s = await serve([{ send: `${H}Content-Encoding: gzip, gzip\r\nContent-Length: ${coded.length}\r\n\r\n` }, { send: coded }, { hold: true }]);
    const ac = new AbortController();
    const e = await failure(request(`${s.origin}/`, { signal: ac.signal, onWire: (ev) => ev.type === 'body-end' && ac.abort() }));
    expect(e.code).toBe('ERR_ABORTED');
  });

  it('an already aborted signal never connects', async () => {
    const s = await serve([{ hold: true }]);
    const e = await failure(request(`${s.origin}/`, { signal: AbortSignal.abort() }));
    expect(e.code).toBe('ERR_ABORTED');
    await new Promise((r) => setTimeout(r, 30));
    expect(s.connections).toBe(0);
  });
});

describe('truncateBody', () => {
  const readBytes = (events: WireEvent[]): number => events.reduce((n, e) => n + (e.type === 'read' ? e.size : 0), 0);

  it.each([
    ['Content-Length', `Content-Length: 3000000\r\n\r\n`, (b: Buffer) => b],
    ['chunked', 'Transfer-Encoding: chunked\r\n\r\n', (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')])],
    ['close-delimited', '\r\n', (b: Buffer) => b],
  ] as const)('a %s body over maxBodyBytes is cut there, the rest not read, the connection closed', async (_, head, frame) => {
    // An endless body of a repeating, numbered pattern: the cut must be exactly its first bytes.
    let n = 0;
    const piece = (): Buffer => Buffer.from(`line ${String(n++).padStart(6, '0')}\n`.repeat(100));
    const s = await serve([{ send: `${H}${head}` }, { from: async function* () { for (;;) yield frame(piece()); } }]);
    const events: WireEvent[] = [];
    const res = await request(`${s.origin}/`, { maxBodyBytes: 100_000, truncateBody: true, onWire: (ev) => events.push(ev) });
    expect(res.status).toBe(200);
    expect(res.truncated).toBe(true);
    expect(res.body.length).toBe(100_000);
    const expected = Buffer.concat(Array.from({ length: 100 }, (_, i) => Buffer.from(`line ${String(i).padStart(6, '0')}\n`.repeat(100))));
    expect(res.body.equals(expected.subarray(0, 100_000))).toBe(true);
    // Read: the limit and at most a few socket reads past it, never the endless rest.
    expect(readBytes(events)).toBeLessThan(100_000 + (2 << 20));
    expect(events.at(-1)).toMatchObject({ type: 'close', reason: 'truncated' });
    expect(events.some((e) => e.type === 'body-end')).toBe(false);
    await s.closed(1);
  });

  it('a body within maxBodyBytes is whole and not marked truncated', async () => {
    const s = await serve([{ send: `${H}Content-Length: 1000\r\n\r\n${'z'.repeat(1000)}` }, { hold: true }]);
    const res = await request(`${s.origin}/`, { maxBodyBytes: 1000, truncateBody: true });
    expect(res.truncated).toBe(false);
    expect(res.body.toString()).toBe('z'.repeat(1000));
  });

  it('a gzip bomb decodes to its first maxBodyBytes bytes, with bounded memory', async () => {
    const s = await serve([{ send: `${H}Content-Encoding: gzip\r\n\r\n` }, { from: () => gzipZeros(1 << 30) }]);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const res = await request(`${s.origin}/`, { maxBodyBytes: 1 << 20, truncateBody: true, timeoutMs: 20_000 });
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
    expect(res.truncated).toBe(true);
    expect(res.body.length).toBe(1 << 20);
    expect(res.body.every((b) => b === 0)).toBe(true);
    await s.closed(1);
    // Reading stopped once 1 MiB was decoded: far less than the 1 GiB bomb went out.
    expect(s.sent[0]!.length).toBeLessThan(1 << 20);
  });

  it('a gzip body cut at maxBodyBytes coded bytes is decoded as far as it goes', async () => {
    // Text that gzip cannot shrink much: its coded form passes the limit before its decoded one.
    let x = 7;
    const text = Buffer.from(Array.from({ length: 200_000 }, () => ((x = (x * 1103515245 + 12345) >>> 0), 97 + ((x >>> 16) % 26))));
    const gz = zlib.gzipSync(text);
    const s = await serve([{ send: `${H}Content-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n` }, { send: gz }, { hold: true }]);
    const res = await request(`${s.origin}/`, { maxBodyBytes: 50_000, truncateBody: true });
    expect(res.truncated).toBe(true);
    expect(res.body.length).toBeGreaterThan(40_000);
    expect(res.body.length).toBeLessThanOrEqual(50_000);
    expect(res.body.equals(text.subarray(0, res.body.length))).toBe(true);
  });

  it('without truncateBody the same body is still ERR_BODY_TOO_LARGE', async () => {
    const s = await serve([{ send: `${H}Content-Length: 3000\r\n\r\n${'z'.repeat(3000)}` }, { hold: true }]);
    const e = await failure(request(`${s.origin}/`, { maxBodyBytes: 1000 }));
    expect(e.code).toBe('ERR_BODY_TOO_LARGE');
    // The option and the CLI flag that set it, for the library's users and the CLI's.
    expect(e.message).toBe('Content-Length 3000 exceeds maxBodyBytes (--max-body): 1000 bytes');
  });
});

describe('size limits', () => {
  const readBytes = (events: WireEvent[]): number => events.reduce((n, e) => n + (e.type === 'read' ? e.size : 0), 0);

  it('endless header fields are ERR_HEADERS_TOO_LARGE, without reading much past the limit', async () => {
    const s = await serve([{ send: H }, { endless: 'X-Endless: aaaaaaaaaaaaaaaaaaaaaaaa\r\n' }]);
    const events: WireEvent[] = [];
    const e = await failure(request(`${s.origin}/`, { maxHeaderBytes: 16 * 1024, onWire: (ev) => events.push(ev) }));
    expect(e.code).toBe('ERR_HEADERS_TOO_LARGE');
    expect(readBytes(events)).toBeLessThan(16 * 1024 + (2 << 20));
    await s.closed(1);
  });

  it('one endless header line with no line end is ERR_HEADERS_TOO_LARGE', async () => {
    const s = await serve([{ send: `${H}X-Endless: ` }, { endless: 'a'.repeat(1024) }]);
    const e = await failure(request(`${s.origin}/`, { maxHeaderBytes: 4096 }));
    expect(e.code).toBe('ERR_HEADERS_TOO_LARGE');
    await s.closed(1);
  });

  it('an endless close-delimited body is ERR_BODY_TOO_LARGE', async () => {
    const s = await serve([{ send: `${H}\r\n` }, { endless: Buffer.alloc(64 * 1024, 0x62) }]);
    const e = await failure(request(`${s.origin}/`, { maxBodyBytes: 1 << 20 }));
    expect(e.code).toBe('ERR_BODY_TOO_LARGE');
    await s.closed(1);
  });

  it('an endless chunked body is ERR_BODY_TOO_LARGE', async () => {
    const chunk = `ffff\r\n${'c'.repeat(0xffff)}\r\n`;
    const s = await serve([{ send: `${H}Transfer-Encoding: chunked\r\n\r\n` }, { endless: chunk }]);
    const e = await failure(request(`${s.origin}/`, { maxBodyBytes: 1 << 20 }));
    expect(e.code).toBe('ERR_BODY_TOO_LARGE');
  });

  it('a Content-Length over maxBodyBytes fails before the body is read', async () => {
    const s = await serve([{ send: `${H}Content-Length: 2000000\r\n\r\n` }, { hold: true }]);
    const e = await failure(request(`${s.origin}/`, { maxBodyBytes: 1_000_000 }));
    expect(e.code).toBe('ERR_BODY_TOO_LARGE');
  });

  it('a body of exactly maxBodyBytes is accepted', async () => {
    const s = await serve([{ send: `${H}Content-Length: 1000\r\n\r\n${'z'.repeat(1000)}` }, { hold: true }]);
    const res = await request(`${s.origin}/`, { maxBodyBytes: 1000 });
    expect(res.body.length).toBe(1000);
  });

  it.each([
    ['close-delimited', '', (z: AsyncIterable<Buffer>) => z],
    ['chunked', 'Transfer-Encoding: chunked\r\n', async function* (z: AsyncIterable<Buffer>) {
      for await (const c of z) yield Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]);
    }],
  ] as const)('a 1 GiB gzip bomb (%s) is ERR_BODY_TOO_LARGE with bounded memory', async (_, te, frame) => {
    const s = await serve([{ send: `${H}Content-Encoding: gzip\r\n${te}\r\n` }, { from: () => frame(gzipZeros(1 << 30)) }]);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const e = await failure(request(`${s.origin}/`, { timeoutMs: 20_000 }));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(e.code).toBe('ERR_BODY_TOO_LARGE');
    expect(e.message).toMatch(/decoded/);
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    await s.closed(1);
    // The server stopped compressing when the client hung up: far less than 1 GiB went out.
    expect(s.sent[0]!.length).toBeLessThan(1 << 20);
  });
});
