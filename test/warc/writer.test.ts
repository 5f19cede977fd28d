import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { exchangeFacts, withBytes, type CapturedExchange } from '../../src/capture/exchange.js';
import { capturedExchange } from '../helpers/exchange.js';
import { RawcrawlError } from '../../src/errors.js';
import { STORE_BELOW } from '../../src/warc/record.js';
import { rotatedName, rotationOf, WarcWriter, type WarcLocation, type WrittenExchange } from '../../src/warc/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-writer-'));
let seq = 0;
const fileNamed = (ext: string): string => join(dir, `w${++seq}${ext}`);

const exchange = (path: string, body: Buffer, contentType?: string): CapturedExchange =>
  capturedExchange(`http://127.0.0.1:8080${path}`, body, { conn: ++seq, ...(contentType ? { contentType } : {}) });

const page = (n: number): Buffer => Buffer.from(`<p>page ${n} lorem ipsum dolor sit amet</p>\n`.repeat(500));

/** The record at a location, uncompressed. */
function recordAt(file: string, at: WarcLocation): string {
  const bytes = readFileSync(file).subarray(at.offset, at.offset + at.length);
  return (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('latin1');
}

describe('WarcWriter', () => {
  it.each(['.warc.gz', '.warc'])('%s: a task’s exchanges go out in one write when it ends; each resolves once its bytes are in the file', async (ext) => {
    const file = fileNamed(ext);
    const w = new WarcWriter({ file });
    const warcinfo = statSync(file).size;
    expect(warcinfo).toBeGreaterThan(0);
    const exchanges = [0, 1, 2].map((n) => exchange(`/p/${n}`, page(n)));
    const sizesSeen: number[] = [];
    const done = exchanges.map((ex) =>
      w.writeExchange(ex).then((at) => {
        sizesSeen.push(statSync(file).size);
        return at;
      }),
    );
    // Formatted and queued, not written yet.
    expect(statSync(file).size).toBe(warcinfo);
    const written: WrittenExchange[] = await Promise.all(done);
    const total = statSync(file).size;
    expect(sizesSeen).toEqual([total, total, total]);
    // Request, response, metadata per exchange, back to back after the warcinfo record.
    let at = warcinfo;
    written.forEach((x, n) => {
      for (const type of ['request', 'response', 'metadata'] as const) {
        const loc = x[type]!;
        expect(loc).toMatchObject({ file, offset: at });
        const record = recordAt(file, loc);
        expect(record).toMatch(new RegExp(`^WARC/1\\.1\\r\\nWARC-Type: ${type}\\r\\n`));
        expect(record).toContain(`WARC-Target-URI: http://127.0.0.1:8080/p/${n}\r\n`);
        at += loc.length;
      }
      expect(recordAt(file, x.response!)).toContain(page(n).toString('latin1'));
      expect(JSON.parse(recordAt(file, x.metadata).split('\r\n\r\n')[1]!)).toMatchObject({ url: `http://127.0.0.1:8080/p/${n}`, responseBytes: exchanges[n]!.response.length });
    });
    expect(at).toBe(total);
    await w.close();
  });

  it('deflates a response record of STORE_BELOW bytes or more and stores a smaller one, as it stores warcinfo, request and metadata records', async () => {
    const file = fileNamed('.warc.gz');
    const w = new WarcWriter({ file });
    const block = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => 0x61 + ((i * seed) % 7)));
    const sizes = [10, 200_000, 3, 70_000, 0, 150_000];
    const exchanges = sizes.map((n, i) => exchange(`/s/${i}`, block(n, i + 2)));
    const written = await Promise.all(exchanges.map((ex) => w.writeExchange(ex)));
    await w.close();
    const bytes = readFileSync(file);
    const member = (at: WarcLocation): Buffer => bytes.subarray(at.offset, at.offset + at.length);
    const btype = (m: Buffer): number => (m[10]! >> 1) & 3;
    expect(btype(bytes)).toBe(0); // warcinfo, first in the file
    written.forEach((x, i) => {
      const response = member(x.response!);
      const record = gunzipSync(response);
      expect(record.subarray(record.length - exchanges[i]!.response.length - 4, record.length - 4).equals(exchanges[i]!.response)).toBe(true);
      if (record.length < STORE_BELOW) expect(btype(response)).toBe(0);
      else expect(btype(response)).not.toBe(0);
      expect(btype(member(x.request!))).toBe(0);
      expect(btype(member(x.metadata))).toBe(0);
    });
    expect(gunzipSync(member(written[0]!.response!)).length).toBeLessThan(STORE_BELOW);
    expect(gunzipSync(member(written[1]!.response!)).length).toBeGreaterThan(STORE_BELOW);
    expect(written[1]!.response!.length).toBeLessThan(200_000 / 10);
  });

  it('refuses a directory for its file, before anything is created (it became the first name of a rotation beside it)', async () => {
    const { ThreadedWarcWriter } = await import('../../src/warc/threaded-writer.js');
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-dir-'));
    for (const make of [(file: string) => new WarcWriter({ file }), (file: string) => new ThreadedWarcWriter({ file })]) {
      for (const file of [dir, `${dir}/`]) {
        expect(() => make(file), file).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: `WARC file ${file} is a directory: give a file name, e.g. ${join(dir, 'crawl.warc.gz')}` }));
      }
    }
    expect(() => statSync(`${dir}-00001`)).toThrow();
  });

  it('writes at once when more than 128 KB wait, without waiting for the task to end', async () => {
    const file = fileNamed('.warc.gz');
    const w = new WarcWriter({ file });
    const warcinfo = statSync(file).size;
    // Random bytes do not compress: two 100 KB pages are past the limit.
    const first = w.writeExchange(exchange('/a', randomBytes(100_000)));
    expect(statSync(file).size).toBe(warcinfo);
    const second = w.writeExchange(exchange('/b', randomBytes(100_000)));
    expect(statSync(file).size).toBeGreaterThan(warcinfo + 200_000);
    const [a, b] = await Promise.all([first, second]);
    expect(b.metadata.offset + b.metadata.length).toBe(statSync(file).size);
    expect(a.response!.offset).toBeLessThan(b.request!.offset);
    await w.close();
  });

  it('keeps a 5 MB response whole, and the exchanges after it', async () => {
    const file = fileNamed('.warc.gz');
    const w = new WarcWriter({ file });
    const big = randomBytes(5 * 1024 * 1024);
    const [x, y] = await Promise.all([w.writeExchange(exchange('/big', big)), w.writeExchange(exchange('/small', page(7)))]);
    expect(Buffer.from(recordAt(file, x.response!), 'latin1').includes(big)).toBe(true);
    expect(recordAt(file, y.response!)).toContain(page(7).toString('latin1'));
    await w.close();
  });

  it('stores a 200 KB PNG (compressed already) in one stored member of several blocks, with its digests', async () => {
    const file = fileNamed('.warc.gz');
    const w = new WarcWriter({ file });
    const png = randomBytes(200_000);
    const ex = exchange('/img.png', png, 'image/png');
    const at = (await w.writeExchange(ex)).response!;
    const member = readFileSync(file).subarray(at.offset, at.offset + at.length);
    expect((member[10]! >> 1) & 3).toBe(0); // BTYPE 00: stored
    const record = gunzipSync(member);
    const blockStart = record.indexOf('\r\n\r\n') + 4;
    expect(record.subarray(blockStart, record.length - 4).equals(ex.response)).toBe(true);
    expect(record.subarray(0, blockStart).toString()).toContain(`Content-Length: ${ex.response.length}\r\n`);
    expect(record.subarray(0, blockStart).toString()).toMatch(/WARC-Block-Digest: sha1:[A-Z2-7]{32}\r\n/);
    await w.close();
  });

  it('a failed write rejects every exchange it held and every later one with ERR_STORAGE, and close() with it', async () => {
    const file = fileNamed('.warc.gz');
    const w = new WarcWriter({ file });
    // The file descriptor swapped for a read-only one: the next write fails (EBADF).
    const internals = w as unknown as { fd: number };
    closeSync(internals.fd);
    internals.fd = openSync(file, 'r');
    const batch = [w.writeExchange(exchange('/x', page(1))), w.writeExchange(exchange('/y', page(2)))];
    for (const p of batch) await expect(p).rejects.toMatchObject({ code: 'ERR_STORAGE', message: expect.stringContaining(file) });
    await expect(w.writeExchange(exchange('/z', page(3)))).rejects.toBeInstanceOf(RawcrawlError);
    await expect(w.close()).rejects.toMatchObject({ code: 'ERR_STORAGE' });
  });
});

describe('a WARC file is never overwritten', () => {
  const rotation = (base: string, n: number): string => join(dir, n === 0 ? `${base}.warc.gz` : `${base}-${String(n).padStart(5, '0')}.warc.gz`);

  it('a taken name keeps its bytes: the writer takes the next free name of the rotation', async () => {
    const first = rotation('taken', 0);
    writeFileSync(first, 'an earlier crawl');
    writeFileSync(rotation('taken', 1), 'and its second file');
    const w = new WarcWriter({ file: first });
    const at = await w.writeExchange(exchange('/again', page(7)));
    await w.close();
    expect(w.files).toEqual([rotation('taken', 2)]);
    expect(at.response!.file).toBe(rotation('taken', 2));
    expect(recordAt(rotation('taken', 2), at.response!)).toContain(page(7).toString('latin1'));
    expect(readFileSync(first, 'latin1')).toBe('an earlier crawl');
    expect(readFileSync(rotation('taken', 1), 'latin1')).toBe('and its second file');
  });

  it('rotation goes on past names taken meanwhile', async () => {
    const first = rotation('rot', 0);
    const w = new WarcWriter({ file: first, maxSize: 600 });
    writeFileSync(rotation('rot', 1), 'another writer file');
    for (let i = 0; i < 3; i++) await w.writeExchange(exchange(`/r${i}`, page(i)));
    await w.close();
    expect(w.files).toEqual([first, rotation('rot', 2), rotation('rot', 3)]);
    expect(readFileSync(rotation('rot', 1), 'latin1')).toBe('another writer file');
  });

  it('two writers given one name (two processes in one directory) write two files', async () => {
    const name = rotation('shared', 0);
    const a = new WarcWriter({ file: name });
    const b = new WarcWriter({ file: name });
    const [ra, rb] = await Promise.all([a.writeExchange(exchange('/a', page(1))), b.writeExchange(exchange('/b', page(2)))]);
    await Promise.all([a.close(), b.close()]);
    expect([...a.files, ...b.files]).toEqual([name, rotation('shared', 1)]);
    expect(recordAt(name, ra.response!)).toContain('WARC-Target-URI: http://127.0.0.1:8080/a\r\n');
    expect(recordAt(rotation('shared', 1), rb.response!)).toContain('WARC-Target-URI: http://127.0.0.1:8080/b\r\n');
  });
});

describe('exchangeFacts / withBytes (what crosses to the WARC thread and back)', () => {
  it('take every field apart and put every one back', () => {
    const ex = exchange('/p/1', page(1));
    const facts = exchangeFacts(ex);
    expect(Object.keys(facts).sort()).toEqual(Object.keys(ex).filter((k) => k !== 'request' && k !== 'response').sort());
    const again = withBytes(JSON.parse(JSON.stringify(facts)) as typeof facts, ex.request, ex.response);
    expect(again).toEqual(ex);
    expect(again.response).toBe(ex.response);
  });
});

describe('rotated WARC names', () => {
  it('rotatedName() numbers the files of a rotation as wget does, and rotationOf() reads them back', () => {
    expect([0, 1, 2, 123456].map((i) => rotatedName('crawl.warc.gz', i))).toEqual(['crawl.warc.gz', 'crawl-00001.warc.gz', 'crawl-00002.warc.gz', 'crawl-123456.warc.gz']);
    for (const first of ['crawl.warc.gz', 'a-b.warc', 'site-2026.warc.gz']) {
      for (const i of [0, 1, 42]) expect(rotationOf(rotatedName(first, i)), `${first} ${i}`).toEqual([first, i]);
    }
    expect(rotationOf('crawl.warc.gz')).toEqual(['crawl.warc.gz', 0]);
    expect(rotationOf('notes.txt')).toBeNull();
    expect(rotationOf('crawl.warc.gz.part')).toBeNull();
  });
});
