import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { gzipSync } from 'node:zlib';
import { capturedExchange } from '../helpers/exchange.js';
import { parseWarc, readWarc, readWarcRecords, WarcRecordSplitter, type WarcRecordRead, type WarcTruncation } from '../../src/warc/reader.js';
import { streamWarcExchanges, warcExchanges } from '../../src/warc/read-exchanges.js';
import { WarcWriter } from '../../src/warc/writer.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-reader-'));
let seq = 0;

/** A WARC written by WarcWriter: `n` exchanges of pages of different sizes. */
async function written(n: number, ext = '.warc.gz'): Promise<string> {
  const file = join(dir, `r${++seq}${ext}`);
  const w = new WarcWriter({ file });
  const all = [];
  for (let i = 0; i < n; i++) all.push(w.writeExchange(capturedExchange(`http://127.0.0.1:8080/p/${i}`, Buffer.from(`<p>page ${i} </p>`.repeat(1 + i * 37)), { conn: i })));
  await Promise.all(all);
  await w.close();
  return file;
}

async function collect(file: string, onTruncated?: (t: WarcTruncation) => void): Promise<WarcRecordRead[]> {
  const out: WarcRecordRead[] = [];
  for await (const r of readWarcRecords(file, onTruncated ? { onTruncated } : {})) out.push(r);
  return out;
}

async function* each<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** Records back to bytes, as a WARC holds them uncompressed. */
const serialize = (records: WarcRecordRead[]): Buffer =>
  Buffer.concat(records.map((r) => Buffer.concat([Buffer.from(`${r.version}\r\n${r.fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'utf8'), r.block, Buffer.from('\r\n\r\n')])));

/** A record as plain data, to compare two reads of one file. */
const plain = (r: WarcRecordRead): [string, string[][], string] => [r.version, r.fields, r.block.toString('latin1')];

describe('WarcRecordSplitter', () => {
  it('gives the records parseWarc() gives, whatever pieces the bytes come in', async () => {
    const data = serialize(readWarc(await written(6, '.warc')));
    const whole = parseWarc(data).map(plain);
    expect(whole.length).toBe(19);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: data.length }), { maxLength: 40 }), (cuts) => {
        const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), data.length];
        const s = new WarcRecordSplitter();
        const got: WarcRecordRead[] = [];
        for (let i = 1; i < at.length; i++) got.push(...s.push(data.subarray(at[i - 1], at[i])));
        expect(got.map(plain)).toEqual(whole);
        expect(s.pending).toBe(0);
        expect(s.consumed).toBe(data.length);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a record longer than 1 GiB at its header, before buffering any of it', () => {
    const s = new WarcRecordSplitter('x.warc');
    expect(() => s.push(Buffer.from('WARC/1.1\r\nContent-Length: 5000000000\r\n\r\nabc'))).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE', message: 'x.warc is not a valid WARC file at byte 0: record of 5000000000 bytes is larger than rawcrawl reads (1073741824)' }),
    );
  });

  it('says at once that bytes are not a record (not after reading on for a header end)', () => {
    const s = new WarcRecordSplitter('x.warc');
    expect(() => s.push(Buffer.from('HTTP/1.1 200 OK\r\n'))).toThrow(expect.objectContaining({ code: 'ERR_STORAGE', message: 'x.warc is not a valid WARC file at byte 0: version line is "HTTP/1.1 200 OK\\r\\n"' }));
  });
});

describe('readWarcRecords (a WARC read as a stream)', () => {
  it.each(['.warc.gz', '.warc'])('%s: the records readWarc() reads, in order', async (ext) => {
    const file = await written(12, ext);
    const streamed = await collect(file);
    expect(streamed.map(plain)).toEqual(readWarc(file).map(plain));
    expect(streamed.length).toBe(1 + 12 * 3);
  });

  it('holds the record being read, not the file: 120 MB of records read with under 12 MB of buffers reachable', async () => {
    const file = join(dir, `big${++seq}.warc`);
    const fd = openSync(file, 'w');
    const block = Buffer.alloc(2 * 1024 * 1024, 'x');
    const head = Buffer.from(`WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: ${block.length}\r\n\r\n`);
    for (let i = 0; i < 60; i++) writeSync(fd, Buffer.concat([head, block, Buffer.from('\r\n\r\n')]));
    closeSync(fd);
    // What is still reachable while a record is in hand: collected, and freed (V8 releases array
    // buffers' memory on another thread after the GC, hence the pause).
    const reachable = async (): Promise<number> => {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const before = await reachable();
    let most = 0;
    let n = 0;
    for await (const r of readWarcRecords(file)) {
      expect(r.block.length).toBe(block.length);
      if (++n % 10 === 0) most = Math.max(most, (await reachable()) - before);
    }
    expect(n).toBe(60);
    // readWarc() holds all 120 MB at once; the stream a record and a read or two (1 MiB each).
    expect(most).toBeGreaterThan(2 * 1024 * 1024);
    expect(most).toBeLessThan(12 * 1024 * 1024);
  });

  it.each([
    ['inside the last gzip member', '.warc.gz', (b: Buffer) => b.subarray(0, b.length - 40)],
    ['inside the last record of a plain WARC', '.warc', (b: Buffer) => b.subarray(0, b.length - 100)],
  ])('a file cut short %s (a killed run): the whole records, then onTruncated; without it, ERR_STORAGE', async (_, ext, cut) => {
    const file = await written(5, ext);
    const whole = readWarc(file);
    const short = join(dir, `cut${++seq}${ext}`);
    writeFileSync(short, cut(readFileSync(file)));
    const seen: WarcTruncation[] = [];
    const got = await collect(short, (t) => seen.push(t));
    expect(got.map(plain)).toEqual(whole.slice(0, -1).map(plain));
    // The incomplete record starts where the whole ones end.
    expect(seen).toEqual([{ file: short, records: whole.length - 1, offset: serialize(whole.slice(0, -1)).length }]);
    await expect(collect(short)).rejects.toMatchObject({ code: 'ERR_STORAGE', message: `${short} is cut short: it ends inside its record ${whole.length}, at byte ${seen[0]!.offset} uncompressed` });
  });

  it('bad bytes in the middle: records before them, then ERR_STORAGE naming the file', async () => {
    const file = await written(40);
    const bytes = readFileSync(file);
    const bad = join(dir, `bad${++seq}.warc.gz`);
    const mid = Math.floor(bytes.length / 2);
    writeFileSync(bad, Buffer.concat([bytes.subarray(0, mid), Buffer.alloc(64, 0xab), bytes.subarray(mid + 64)]));
    const got: WarcRecordRead[] = [];
    await expect(
      (async () => {
        for await (const r of readWarcRecords(bad, { onTruncated: () => {} })) got.push(r);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_STORAGE', message: expect.stringMatching(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not (valid gzip|a valid WARC file)`)) });
    // zlib hands on what it inflated 16 KB at a time: the records of the last few KB before the bad bytes are lost with them.
    expect(got.length).toBeGreaterThan(10);
    expect(got.length).toBeLessThan(1 + 40 * 3);
  });

  it('a missing file is ERR_STORAGE naming it', async () => {
    await expect(collect(join(dir, 'none.warc.gz'))).rejects.toMatchObject({ code: 'ERR_STORAGE', message: `cannot read ${join(dir, 'none.warc.gz')}: ENOENT` });
  });
});

describe('streamWarcExchanges', () => {
  it('pairs what warcExchanges() pairs, for rawcrawl WARCs and for records without metadata (wget)', async () => {
    const records = readWarc(await written(9));
    const streamed = [];
    for await (const x of streamWarcExchanges(each(records))) streamed.push(x);
    expect(streamed).toEqual(warcExchanges(records));
    expect(streamed.map((x) => x.exchange.url)).toEqual(Array.from({ length: 9 }, (_, i) => `http://127.0.0.1:8080/p/${i}`));
    expect(streamed.every((x) => x.record !== null && x.exchange.reads.length > 0)).toBe(true);
    // As another tool writes them: request and response, no JSON metadata record.
    const bare = records.filter((r) => !r.fields.some(([n, v]) => n === 'WARC-Type' && v === 'metadata'));
    const bareStreamed = [];
    for await (const x of streamWarcExchanges(each(bare))) bareStreamed.push(x);
    expect(bareStreamed).toEqual(warcExchanges(bare));
    expect(bareStreamed.every((x) => x.record === null && x.exchange.request.length > 0)).toBe(true);
  });
});

describe('gzip', () => {
  it('one gzip member for the whole file reads as well as one per record', async () => {
    const plainFile = await written(4, '.warc');
    const one = join(dir, `one${++seq}.warc.gz`);
    writeFileSync(one, gzipSync(readFileSync(plainFile)));
    expect((await collect(one)).map(plain)).toEqual(readWarc(plainFile).map(plain));
  });
});
