import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { openOutputFile } from '../../src/cli/io.js';
import { describe, expect, it } from 'vitest';
import type { PageRecord } from '../../src/crawl/record.js';
import { JsonlSink } from '../../src/sinks/jsonl.js';
import { pageRecord } from '../helpers/page-record.js';

function record(i: number): PageRecord {
  return pageRecord({ url: `http://127.0.0.1/p/${i}`, final_url: `http://127.0.0.1/p/${i}`, title: `page ${i}`, depth: 1, fetched_at: '2026-11-26T20:00:00.000Z' });
}

/** A slow output: a buffer of 64 bytes, each write taking 1 ms, every line kept. */
function slowOutput(): { out: Writable; lines: string[] } {
  const lines: string[] = [];
  const out = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      setTimeout(done, 1);
    },
  });
  return { out, lines };
}

describe('JsonlSink on an output that pushes back', () => {
  it('counts every record written to a stream it does not own (stdout) by the time close() returns', async () => {
    // Room for every record (no push-back), each write done a moment later, as stdout to a file.
    const lines: string[] = [];
    const out = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        setImmediate(done);
      },
    });
    const sink = new JsonlSink(out, false, 'stdout');
    for (let i = 0; i < 50; i++) await sink.write(record(i));
    await sink.close();
    // The last writes' callbacks had not come when close() returned: "49 stored" for 50 lines.
    expect(sink.written).toBe(50);
    expect(lines).toHaveLength(50);
    expect(out.writableEnded).toBe(false);
  });

  it('waits for drain without piling up listeners, and loses no record', async () => {
    const { out, lines } = slowOutput();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const sink = new JsonlSink(out, true, 'test output');
      const base = { close: out.listenerCount('close'), error: out.listenerCount('error'), drain: out.listenerCount('drain') };
      // 40 rounds of 16 writers at once: every round fills the buffer and waits for a drain.
      for (let round = 0; round < 40; round++) {
        await Promise.all(Array.from({ length: 16 }, (_, i) => sink.write(record(round * 16 + i))));
      }
      expect(out.listenerCount('close')).toBe(base.close);
      expect(out.listenerCount('error')).toBe(base.error);
      expect(out.listenerCount('drain')).toBe(base.drain);
      await sink.close();
      expect(sink.written).toBe(640);
      expect(lines).toHaveLength(640);
      expect(new Set(lines.map((l) => (JSON.parse(l) as { url: string }).url)).size).toBe(640);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });

  it('a stream that fails while writers wait makes them fail with ERR_STORAGE', async () => {
    const out = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, done) {
        setTimeout(() => done(Object.assign(new Error('no space'), { code: 'ENOSPC' })), 1);
      },
    });
    const sink = new JsonlSink(out, true, 'test output');
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => sink.write(record(i))));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(f.reason).toMatchObject({ code: 'ERR_STORAGE', message: 'cannot write test output: ENOSPC' });
    await expect(sink.close()).rejects.toMatchObject({ code: 'ERR_STORAGE' });
  });
});

describe('JsonlSink on a file of its own that fails', () => {
  it('cuts back only the file it opened: one renamed away and replaced at its path is not touched', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-jsonl-'));
    const file = path.join(dir, 'pages.jsonl');
    const out = await openOutputFile(file, 'output file');
    const sink = new JsonlSink(out, true, `output file ${file}`);
    await sink.write(record(1));
    await new Promise((r) => setTimeout(r, 20));
    // Rotated away (as logrotate does), and another file made at the path by someone else.
    renameSync(file, path.join(dir, 'pages.jsonl.1'));
    const other = 'x'.repeat(10_000);
    writeFileSync(file, other);
    out.destroy(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    await new Promise<void>((r) => out.once('close', () => r()));
    await expect(sink.close()).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    expect(readFileSync(file, 'utf8')).toBe(other);
  });
});
