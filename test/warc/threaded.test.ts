import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARCParser } from 'warcio';
import { spawn } from 'node:child_process';
import { capturedExchange } from '../helpers/exchange.js';
import { rawServers, response } from '../helpers/raw-server.js';
import { treeSite } from '../helpers/tree-site.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';

// The WARC thread runs the compiled worker script, so this file drives the built package (dist/)
// throughout: the tests elsewhere run src/, where the sink falls back to writing in-thread.
type Dist = typeof import('../../src/index.js');
type ThreadedModule = typeof import('../../src/warc/threaded-writer.js');
let dist: Dist;
let threaded: ThreadedModule;

beforeAll(async () => {
  ensureBuilt();
  dist = (await import(`${ROOT}/dist/index.js`)) as Dist;
  threaded = (await import(`${ROOT}/dist/warc/threaded-writer.js`)) as ThreadedModule;
});

const serve = rawServers();

interface Rec {
  type: string;
  offset: number;
  uri: string | undefined;
  payload: Buffer;
  payloadDigest: string | null | undefined;
  blockDigest: string | null | undefined;
}

async function readBack(file: string): Promise<Rec[]> {
  const out: Rec[] = [];
  const parser = new WARCParser(createReadStream(file));
  for await (const r of parser) {
    out.push({
      type: r.warcType ?? '',
      offset: parser.offset,
      uri: r.warcTargetURI ?? undefined,
      payload: Buffer.from(await r.readFully(false)),
      payloadDigest: r.warcPayloadDigest,
      blockDigest: r.warcHeader('WARC-Block-Digest'),
    });
  }
  return out;
}

const PAGE = Buffer.from(`<!doctype html><p>${'some ordinary page text '.repeat(900)}</p>`);
const CHUNKED =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n';

describe('WARC writer thread (dist/)', () => {
  it('is used by default on more than one core, and writes what the in-thread writer writes', async () => {
    expect(threaded.ThreadedWarcWriter.available()).toBe(true);
    const a = await serve([{ send: response('200 OK', [['Content-Type', 'text/html'], ['Content-Length', PAGE.length]], PAGE) }, { hold: true }]);
    const b = await serve([{ split: CHUNKED, sizes: [7, 20] }, { hold: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-thread-'));
    const files = { thread: join(dir, 'thread.warc.gz'), inline: join(dir, 'inline.warc.gz') };
    const results: Record<string, Rec[]> = {};
    for (const [mode, file] of Object.entries(files)) {
      const sink = dist.createCaptureSink({ warcFile: file, warcThread: mode === 'thread' });
      const urls = Array.from({ length: 12 }, (_, i) => `${(i % 2 ? b : a).origin}/${mode}/${i}`);
      await Promise.all(urls.map((u) => dist.request(u, { onWire: sink.onWire })));
      const where = await Promise.all(urls.map((u) => sink.recordFor(u)));
      await sink.close();
      expect(sink.warcFiles).toEqual([file]);
      results[mode] = await readBack(file);
      // Every page's recorded location is where warcio finds its response record.
      for (const [i, u] of urls.entries()) {
        const rec = results[mode]!.find((r) => r.type === 'response' && r.uri === u)!;
        expect(where[i]).toMatchObject({ warcFile: file, warcOffset: rec.offset });
      }
    }
    const shape = (recs: Rec[]): string[] => recs.map((r) => `${r.type} ${r.uri?.replace(/\/(thread|inline)\//, '/') ?? ''}`).sort();
    expect(shape(results.thread!)).toEqual(shape(results.inline!));
    expect(results.thread!.filter((r) => r.type === 'response')).toHaveLength(12);
    for (const r of results.thread!.filter((x) => x.type === 'response')) {
      const twin = results.inline!.find((x) => x.type === 'response' && x.uri === r.uri!.replace('/thread/', '/inline/'))!;
      expect(r.payload.equals(twin.payload)).toBe(true);
      expect(r.payloadDigest).toBe(twin.payloadDigest);
      expect(r.blockDigest).toBe(twin.blockDigest);
    }
  });

  it('rotates at the size limit and reports every file', async () => {
    const s = await serve([{ send: response('200 OK', [['Content-Length', 1000]], 'x'.repeat(1000)) }, { hold: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-thread-'));
    const file = join(dir, 'crawl.warc.gz');
    const sink = dist.createCaptureSink({ warcFile: file, warcMaxSize: 600, warcThread: true });
    for (let i = 0; i < 3; i++) {
      await dist.request(`${s.origin}/p${i}`, { onWire: sink.onWire });
      await sink.recordFor(`${s.origin}/p${i}`);
    }
    await sink.close();
    expect(sink.warcFiles).toEqual([file, join(dir, 'crawl-00001.warc.gz'), join(dir, 'crawl-00002.warc.gz')]);
    for (const [i, f] of sink.warcFiles.entries()) {
      const recs = await readBack(f);
      expect(recs.map((r) => r.type)).toEqual(['warcinfo', 'request', 'response', 'metadata']);
      expect(recs[2]!.uri).toBe(`${s.origin}/p${i}`);
    }
  });

  it('never overwrites: a taken name keeps its bytes and the thread writes the next free name', async () => {
    const s = await serve([{ send: response('200 OK', [['Content-Length', 5]], 'hello') }, { hold: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-thread-'));
    const file = join(dir, 'crawl.warc.gz');
    writeFileSync(file, 'an earlier crawl');
    const sink = dist.createCaptureSink({ warcFile: file, warcThread: true });
    await dist.request(`${s.origin}/again`, { onWire: sink.onWire });
    const page = await sink.recordFor(`${s.origin}/again`);
    await sink.close();
    const next = join(dir, 'crawl-00001.warc.gz');
    expect(sink.warcFiles).toEqual([next]);
    expect(page).toMatchObject({ warcFile: next });
    expect(readFileSync(file, 'latin1')).toBe('an earlier crawl');
    const recs = await readBack(next);
    expect(recs.map((r) => r.type)).toEqual(['warcinfo', 'request', 'response', 'metadata']);
    expect(recs[2]).toMatchObject({ uri: `${s.origin}/again`, offset: page!.warcOffset });
    expect(recs[2]!.payload.toString()).toBe('hello');
  });

  it('a WARC path that cannot be created is ERR_STORAGE at once, naming the file', () => {
    const bad = join(tmpdir(), 'no-such-dir-rawcrawl', 'x.warc.gz');
    expect(() => dist.createCaptureSink({ warcFile: bad, warcThread: true })).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE', message: expect.stringContaining(bad) }),
    );
    expect(existsSync(bad)).toBe(false);
  });

  it.each([
    ['a 1-byte cap: every exchange goes in a message of its own and waits for the one before', 1],
    ['an 8 KiB ring: small exchanges through the ring, larger ones in messages, interleaved', 8192],
    ['the default ring', undefined],
  ])('%s; all are written in order', async (_, maxInFlightBytes) => {
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-thread-'));
    const file = join(dir, 'capped.warc.gz');
    const w = new threaded.ThreadedWarcWriter({ file, ...(maxInFlightBytes !== undefined ? { maxInFlightBytes } : {}) });
    // Bodies from 30 bytes to 9 KB: with the 8 KiB ring (4 KiB entries at most) both ways are used.
    const body = (i: number): Buffer => Buffer.from(`page ${i} `.repeat(i % 3 === 0 ? 1000 : i % 3 === 1 ? 40 : 3));
    const n = 60;
    const written = Array.from({ length: n }, (_, i) => w.writeExchange(capturedExchange(`http://127.0.0.1/${i}`, body(i), { conn: i })));
    const at = await Promise.all(written);
    await w.close();
    const offsets = at.map((x) => x.response!.offset);
    expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
    const recs = await readBack(file);
    const responses = recs.filter((r) => r.type === 'response');
    expect(responses.map((r) => r.uri)).toEqual(Array.from({ length: n }, (_, i) => `http://127.0.0.1/${i}`));
    expect(responses.map((r) => r.offset)).toEqual(offsets);
    for (const [i, r] of responses.entries()) expect(r.payload.equals(body(i))).toBe(true);
    // The metadata record carries the facts that crossed the thread boundary.
    const meta = recs.filter((r) => r.type === 'metadata').map((r) => JSON.parse(r.payload.toString()) as { conn: number; closeReason: string; reads: unknown[] });
    expect(meta.map((m) => m.conn)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(meta.every((m) => m.closeReason === 'complete' && m.reads.length === 1)).toBe(true);
  });

  it('an exchange larger than half the default ring (1 MiB) goes in a message, between ring ones, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-thread-'));
    const file = join(dir, 'big.warc.gz');
    const w = new threaded.ThreadedWarcWriter({ file });
    const bodies = [Buffer.from('small one'), randomBytes(1_500_000), Buffer.from('small two'), randomBytes(3_000_000), Buffer.from('small three')];
    const written = bodies.map((body, i) => w.writeExchange(capturedExchange(`http://127.0.0.1/${i}`, body, { conn: i })));
    const at = await Promise.all(written);
    await w.close();
    const responses = (await readBack(file)).filter((r) => r.type === 'response');
    expect(responses.map((r) => r.uri)).toEqual(bodies.map((_, i) => `http://127.0.0.1/${i}`));
    expect(responses.map((r) => r.offset)).toEqual(at.map((x) => x.response!.offset));
    for (const [i, r] of responses.entries()) expect(r.payload.equals(bodies[i]!)).toBe(true);
  });

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`rawcrawl --warc stopped by ${signal} mid-crawl: every page it reported is in the WARC, whole`, async () => {
      const site = await treeSite(5000, 2);
      const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-thread-'));
      const file = join(dir, 'stopped.warc.gz');
      try {
        const child = spawn(process.execPath, [`${ROOT}/bin/rawcrawl`, `${site.origin}/p/0`, '--ignore-robots', '-q', '-c', '8', '--warc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
        await new Promise<void>((resolve) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.split('\n').length > 200) resolve();
          });
        });
        child.kill(signal);
        const code = await exited;
        expect(code).toBe(signal === 'SIGINT' ? 130 : null);
        const pages = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { url: string; status: number });
        expect(pages.length).toBeGreaterThanOrEqual(200);
        // The file gunzips to the end (no member cut short) and warcio reads every record.
        const recs = await readBack(file);
        const responses = new Set(recs.filter((r) => r.type === 'response').map((r) => r.uri));
        expect(recs.filter((r) => r.type === 'request').length).toBe(responses.size);
        for (const p of pages) expect(responses.has(p.url), p.url).toBe(true);
        if (signal === 'SIGINT') expect(responses.size).toBe(pages.length);
      } finally {
        await site.close();
      }
    });
  }
});
