import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { useFreshDatabase } from '../helpers/mariadb.js';
import { cuttableProxy } from '../helpers/mysql-proxy.js';
import { treeSite } from '../helpers/tree-site.js';
import { memoryIo } from '../helpers/memory-io.js';


const db = useFreshDatabase({ schema: true });
const BIN = path.resolve(__dirname, '../../bin/rawcrawl');

describe('rawcrawl when MySQL goes away mid-crawl', () => {
  it('holds, retries, then saves held records to a file, says where, exits 1 — no fetched page lost', async () => {
    const site = await treeSite(300, 40);
    const proxy = await cuttableProxy(db.name);
    const spill = mkdtempSync(path.join(tmpdir(), 'rawcrawl-spill-cli-'));
    try {
      const m = memoryIo();
      const running = main(['node', 'rawcrawl', `${site.origin}/p/0`, '--mysql', proxy.url, '--mysql-give-up', '1s', '--spill-dir', spill, '-c', '4', '--ignore-robots', '--progress-every', '100ms'], m.io);
      const t0 = Date.now();
      for (;;) {
        const [r] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM pages');
        if (Number(r!.n) >= 10 || Date.now() - t0 > 20_000) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      const completedBeforeCut = new Set(site.completed);
      await proxy.cut();
      const code = await running;
      expect(code).toBe(1);
      const err = m.err();
      expect(err).toMatch(/MySQL write failed \([A-Z_]+\); holding records and retrying/);
      const last = err.trim().split('\n').at(-1)!;
      expect(last).toMatch(/^rawcrawl: ERR_STORAGE MySQL unreachable for 1 s \(.+\); \d+ unsaved records written to /);
      const files = readdirSync(spill);
      expect(files).toHaveLength(1);
      expect(last).toContain(path.join(spill, files[0]!));
      const spilled = readFileSync(path.join(spill, files[0]!), 'utf8').trim().split('\n').map((l) => new URL((JSON.parse(l) as { url: string }).url).pathname);
      expect(spilled.length).toBeGreaterThan(0);
      const rows = (await db.query<{ url: string }>('SELECT url FROM pages')).map((r) => new URL(r.url).pathname);
      // Each page is in exactly one place, and every page finished before the cut is somewhere.
      const all = [...rows, ...spilled];
      expect(new Set(all).size).toBe(all.length);
      for (const p of completedBeforeCut) expect(all).toContain(p);
    } finally {
      await proxy.close();
      await site.close();
    }
  });
});

describe('rawcrawl stopped (SIGTERM) while MySQL is away', () => {
  // docker stop and systemd send one SIGTERM, then SIGKILL after 10 s or so: a crawl that waited
  // the whole --mysql-give-up (60 s) for the database would be killed holding its records.
  it.each([
    ['a second SIGTERM saves the held records to the spill file at once', ['--grace', '30s'], 2],
    ['after one SIGTERM, the end of --grace saves them', ['--grace', '1s'], 1],
  ])('%s, exits 1 — no fetched page lost', async (_, flags, signals) => {
    await db.query('DELETE FROM pages');
    const site = await treeSite(300, 40);
    const proxy = await cuttableProxy(db.name);
    const spill = mkdtempSync(path.join(tmpdir(), 'rawcrawl-spill-term-'));
    const child = spawn(process.execPath, [BIN, `${site.origin}/p/0`, '--mysql', proxy.url, '--spill-dir', spill, '-c', '4', '--ignore-robots', '-q', ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const t0 = Date.now();
      for (;;) {
        const [r] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM pages');
        if (Number(r!.n) >= 10 || Date.now() - t0 > 20_000) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      await proxy.cut();
      await new Promise((res) => setTimeout(res, 300));
      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      if (signals === 2) {
        await new Promise((res) => setTimeout(res, 500));
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(1);
      expect(Date.now() - stoppedAt).toBeLessThan(8000);
      const completed = new Set(site.completed);
      const files = readdirSync(spill);
      expect(files).toHaveLength(1);
      const file = path.join(spill, files[0]!);
      const spilled = readFileSync(file, 'utf8').trim().split('\n').map((l) => new URL((JSON.parse(l) as { url: string }).url).pathname);
      expect(spilled.length).toBeGreaterThan(0);
      expect(stderr.trim().split('\n').at(-1)).toMatch(new RegExp(`^rawcrawl: ERR_STORAGE .*MySQL.*; ${spilled.length} unsaved records written to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      const rows = (await db.query<{ url: string }>('SELECT url FROM pages')).map((r) => new URL(r.url).pathname);
      const all = new Set([...rows, ...spilled]);
      // Every page the site finished sending before the stop is in the table or the file.
      for (const p of completed) expect(all.has(p)).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await proxy.close();
      await site.close();
    }
  });
});

describe('rawcrawl --crawl-id when MySQL goes away mid-crawl', () => {
  it('waits --mysql-give-up, then writes the pages fetched and not stored to a file, says where, exits 1 — no fetched page lost', async () => {
    const site = await treeSite(300, 40);
    const proxy = await cuttableProxy(db.name);
    const spill = mkdtempSync(path.join(tmpdir(), 'rawcrawl-spill-frontier-'));
    try {
      const m = memoryIo();
      const running = main(['node', 'rawcrawl', `${site.origin}/p/0`, '--mysql', proxy.url, '--crawl-id', 'gone', '--mysql-give-up', '1s', '--spill-dir', spill, '-c', '4', '--ignore-robots', '--progress-every', '100ms'], m.io);
      const t0 = Date.now();
      for (;;) {
        const [r] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM pages WHERE url LIKE ?', [`${site.origin}/%`]);
        if (Number(r!.n) >= 10 || Date.now() - t0 > 20_000) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      const completedBeforeCut = new Set(site.completed);
      const cutAt = Date.now();
      await proxy.cut();
      const code = await running;
      expect(code).toBe(1);
      // It waited for the server about --mysql-give-up, not the default 60 s, nor not at all.
      expect(Date.now() - cutAt).toBeGreaterThanOrEqual(900);
      expect(Date.now() - cutAt).toBeLessThan(15_000);
      const last = m.err().trim().split('\n').at(-1)!;
      const files = readdirSync(spill);
      expect(files).toHaveLength(1);
      const file = path.join(spill, files[0]!);
      const spilled = readFileSync(file, 'utf8').trim().split('\n').map((l) => new URL((JSON.parse(l) as { url: string }).url).pathname);
      expect(spilled.length).toBeGreaterThan(0);
      expect(last).toBe(`rawcrawl: ERR_STORAGE MySQL unreachable for 1 s (${/\((\w+)\)/.exec(last)?.[1]}); ${spilled.length} unsaved records written to ${file} (their pages stay claimed: the same command run again fetches them again)`);
      const rows = (await db.query<{ url: string }>('SELECT url FROM pages WHERE url LIKE ?', [`${site.origin}/%`])).map((r) => new URL(r.url).pathname);
      // Each page is in exactly one place, and every page served before the cut is somewhere.
      const all = [...rows, ...spilled];
      expect(new Set(all).size).toBe(all.length);
      for (const p of completedBeforeCut) expect(all).toContain(p);
      // The spilled pages are still claimed in the frontier: a resumed crawl fetches them again.
      const claimed = (await db.query<{ url: string }>("SELECT url FROM frontier WHERE state = 'claimed' AND url LIKE ?", [`${site.origin}/%`])).map((r) => new URL(r.url).pathname);
      for (const p of spilled) expect(claimed).toContain(p);
    } finally {
      await proxy.close();
      await site.close();
    }
  });
});

describe('rawcrawl --crawl-id when MySQL goes away for a moment', () => {
  it('says once that the frontier lost the database and once that it is back, and finishes the crawl', async () => {
    const site = await treeSite(200, 20);
    const proxy = await cuttableProxy(db.name);
    try {
      const m = memoryIo();
      const running = main(['node', 'rawcrawl', `${site.origin}/p/0`, '--mysql', proxy.url, '--crawl-id', 'blip', '-c', '4', '--ignore-robots', '--progress-every', '100ms'], m.io);
      const t0 = Date.now();
      for (;;) {
        const [r] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM pages WHERE url LIKE ?', [`${site.origin}/%`]);
        if (Number(r!.n) >= 10 || Date.now() - t0 > 20_000) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      await proxy.cut();
      await new Promise((res) => setTimeout(res, 1500));
      await proxy.restore();
      expect(await running).toBe(0);
      const lines = m.err().split('\n');
      const away = lines.filter((l) => l.startsWith('rawcrawl: MySQL frontier unreachable'));
      const back = lines.filter((l) => l.startsWith('rawcrawl: MySQL frontier reachable again'));
      expect(away).toHaveLength(1);
      expect(away[0]).toMatch(/^rawcrawl: MySQL frontier unreachable \([A-Z_]+\); waiting and retrying$/);
      expect(back).toHaveLength(1);
      const seconds = Number(/after ([\d.]+) s$/.exec(back[0]!)?.[1]);
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThan(10);
      expect(lines.indexOf(away[0]!)).toBeLessThan(lines.indexOf(back[0]!));
      const [r] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM pages WHERE url LIKE ?', [`${site.origin}/%`]);
      expect(Number(r!.n)).toBe(200);
    } finally {
      await proxy.close();
      await site.close();
    }
  });
});

describe('progress on stderr', () => {
  it('is a live line on a terminal, rewritten in place, and cleared before the summary', async () => {
    const site = await treeSite(30, 150);
    try {
      const m = memoryIo(true);
      expect(await main(['node', 'rawcrawl', `${site.origin}/p/0`, '--ignore-robots', '-c', '2', '-o', path.join(mkdtempSync(path.join(tmpdir(), 'rc-')), 'o.jsonl')], m.io)).toBe(0);
      const err = m.err();
      const live = err.split('\r\x1b[K').filter((s) => /^\d+:\d\d done \d+ queued \d+ in-flight \d+ [\d.]+ pages\/s errors 0 [\d.]+ (B|KiB)$/.test(s));
      expect(live.length).toBeGreaterThanOrEqual(3);
      expect(err).toMatch(/\r\x1b\[Krawcrawl: 30 pages in/);
    } finally {
      await site.close();
    }
  });
});
