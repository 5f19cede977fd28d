import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import mysql from 'mysql2/promise';
import { connectMysql } from '../../src/sinks/mysql.js';
import { useFreshDatabase } from '../helpers/mariadb.js';
import { treeSite, treeSiteProcess } from '../helpers/tree-site.js';
import { treeHandler } from '../helpers/tree-site-server.mjs';
import { memoryIo } from '../helpers/memory-io.js';
import { heldPagesSite } from '../helpers/http-server.js';

const BIN = path.resolve(__dirname, '../../bin/rawcrawl');

const db = useFreshDatabase({ schema: true });

function startCrawler(origin: string, crawlId: string, extra: string[] = []): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, `${origin}/p/0`, '--mysql', db.url, '--crawl-id', crawlId, '-q', '--ignore-robots', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))), stderr: () => err };
}

async function until(cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function rowCount(prefix: string): Promise<number> {
  const [r] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM pages WHERE url LIKE ?', [`${prefix}%`]);
  return Number(r!.n);
}


describe('persistent frontier in MySQL (--crawl-id)', () => {
  it('resumes after SIGKILL: every page one row, no page that had a row fetched again', async () => {
    const site = await treeSite(2000, 1);
    try {
      const first = startCrawler(site.origin, 'resume', ['--concurrency', '8', '--lease', '1s']);
      await until(async () => (await rowCount(site.origin)) >= 300);
      first.child.kill('SIGKILL');
      await first.exited;
      const before = await db.query<{ url: string }>('SELECT url FROM pages WHERE url LIKE ?', [`${site.origin}%`]);
      const storedBefore = new Set(before.map((r) => new URL(r.url).pathname));
      expect(storedBefore.size).toBeGreaterThanOrEqual(300);
      expect(storedBefore.size).toBeLessThan(2000);
      const hitsBefore = site.hits.length;

      const second = startCrawler(site.origin, 'resume', ['--concurrency', '8', '--lease', '1s']);
      expect(await second.exited).toBe(0);
      expect(await rowCount(site.origin)).toBe(2000);
      const [dupes] = await db.query<{ n: number }>('SELECT COUNT(*) - COUNT(DISTINCT url) AS n FROM pages');
      expect(Number(dupes!.n)).toBe(0);
      const refetched = site.hits.slice(hitsBefore).filter((h) => storedBefore.has(h.path));
      expect(refetched).toEqual([]);
      // Everything the first process had fetched but not stored was fetched again, nothing more.
      const fetchedAfter = new Set(site.hits.slice(hitsBefore).map((h) => h.path));
      expect(fetchedAfter.size + storedBefore.size).toBe(2000);

      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', 'status', '--mysql', db.url, '--crawl-id', 'resume'], m.io)).toBe(0);
      expect(m.out()).toMatch(/queued 0 {2}claimed 0 {2}done 2000 {2}failed 0/);
      expect(m.out()).toContain(`${new URL(site.origin).host}  queued 0  claimed 0  done 2000`);
      // The crawl is younger than a minute: its rate is over its life, not 2000 / 60 = 33.3.
      expect(Number(/pages\/s over the last minute: ([\d.]+)/.exec(m.out())![1])).toBeGreaterThan(2000 / 60);
      // No --max-pages: no count toward one (it is kept only for a limit).
      expect(m.out()).not.toContain('pages counted');
    } finally {
      await site.close();
    }
  });

  it('a run started after a SIGKILL takes the dead process\'s pages at once, not after their 30 s lease', async () => {
    const site = await treeSite(1000, 20);
    try {
      // The default lease (30 s): without telling that its owner is dead, the second run would
      // wait that long for the pages the first had claimed.
      const first = startCrawler(site.origin, 'reap', ['--concurrency', '8']);
      await until(async () => (await rowCount(site.origin)) >= 100);
      first.child.kill('SIGKILL');
      await first.exited;
      const [held] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM frontier f JOIN crawls c ON c.id = f.crawl_id WHERE c.name = 'reap' AND f.state = 'claimed' AND f.lease_expires > NOW(3)");
      expect(Number(held!.n)).toBeGreaterThan(0);
      const t0 = Date.now();
      const second = startCrawler(site.origin, 'reap', ['--concurrency', '8']);
      expect(await second.exited).toBe(0);
      // 1,000 pages of 20 ms, eight at a time, is under 3 s of fetching: well under the lease.
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(await rowCount(site.origin)).toBe(1000);
      const [dupes] = await db.query<{ n: number }>('SELECT COUNT(*) - COUNT(DISTINCT url) AS n FROM pages');
      expect(Number(dupes!.n)).toBe(0);
    } finally {
      await site.close();
    }
  });

  it('shares one crawl between three processes; the others finish a killed one\'s share', async () => {
    const site = await treeSite(1500, 2);
    try {
      const procs = [0, 1, 2].map(() => startCrawler(site.origin, 'share', ['--concurrency', '4', '--lease', '1s']));
      await until(async () => (await rowCount(site.origin)) >= 200);
      const victim = procs[0]!.child;
      victim.kill('SIGKILL');
      await procs[0]!.exited;
      // What the killed process held: its leases (claimed, fetched or not, unstored).
      const lost = await db.query<{ url: string }>("SELECT url FROM frontier WHERE state = 'claimed' AND lease_owner LIKE ?", [`%:${victim.pid}:%`]);
      const lostPaths = new Set(lost.map((r) => new URL(r.url).pathname));
      const codes = await Promise.all(procs.slice(1).map((p) => p.exited));
      expect(codes).toEqual([0, 0]);
      expect(await rowCount(site.origin)).toBe(1500);
      const counts = new Map<string, number>();
      for (const h of site.hits) counts.set(h.path, (counts.get(h.path) ?? 0) + 1);
      expect(counts.size).toBe(1500);
      const refetched = [...counts].filter(([, n]) => n > 1).map(([p]) => p);
      // Fetches = pages + re-fetches, and every re-fetch is of a lease the killed process lost.
      expect(site.hits.length).toBe(1500 + refetched.length);
      expect(refetched.every((p) => lostPaths.has(p))).toBe(true);
      expect([...counts.values()].every((n) => n <= 2)).toBe(true);
      const [{ n }] = (await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM frontier f JOIN crawls c ON c.id = f.crawl_id WHERE c.name = 'share' AND f.state = 'done'")) as [{ n: number }];
      expect(Number(n)).toBe(1500);
    } finally {
      await site.close();
    }
  });

  it('keeps --delay between request starts to a host across three processes', async () => {
    const site = await treeSiteProcess(40, 0);
    try {
      const procs = [0, 1, 2].map(() => startCrawler(site.origin, 'polite', ['--concurrency', '4', '--delay', '100']));
      const codes = await Promise.all(procs.map((p) => p.exited));
      expect(codes).toEqual([0, 0, 0]);
      const hits = await site.hits();
      expect(new Set(hits.map((h) => h.path)).size).toBe(40);
      const times = hits.map((h) => h.at).sort((a, b) => a - b);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      // 100 ms by the database clock, counted from each request's write; a few ms of scheduling jitter.
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(95);
    } finally {
      site.close();
    }
  });

  it('with --warc, keeps --per-host across processes while pages wait for their WARC records', async () => {
    // The tree site behind a counter of the requests open at once.
    const hits: Array<{ path: string; at: number }> = [];
    const handler = treeHandler(150, 3, hits, []);
    let open = 0;
    let most = 0;
    const server = http.createServer((req, res) => {
      open++;
      most = Math.max(most, open);
      res.on('close', () => open--);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rawcrawl-frontier-warc-'));
    try {
      const procs = [0, 1].map((i) => startCrawler(origin, 'warc-polite', ['--concurrency', '4', '--per-host', '1', '--warc', path.join(dir, `p${i}.warc.gz`)]));
      expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0]);
      // One request at a time to the host, across both processes, for the whole crawl, though a
      // page frees its host slot when its request ends, before its WARC records and row are written.
      expect(most).toBe(1);
      expect(new Set(hits.map((h) => h.path)).size).toBe(150);
      const rows = await db.query<{ warc_file: string | null; warc_offset: number | null }>('SELECT warc_file, warc_offset FROM pages WHERE url LIKE ?', [`${origin}%`]);
      expect(rows.length).toBe(150);
      expect(rows.every((r) => r.warc_file !== null && r.warc_offset !== null)).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps --concurrency pages in flight and ends as soon as --max-pages is spent', async () => {
    // Each page is held 150 ms: fetched one after another, 20 pages would take 3 s.
    const server = await heldPagesSite(40, 150);
    const origin = server.origin;
    try {
      const m = memoryIo();
      const t0 = performance.now();
      expect(await main(['node', 'rawcrawl', `${origin}/`, '--mysql', db.url, '--crawl-id', 'concurrent', '--ignore-robots', '-c', '10', '--per-host', '10', '--max-pages', '21', '-q'], m.io)).toBe(0);
      const ms = performance.now() - t0;
      expect(server.most()).toBe(10);
      expect(await rowCount(origin)).toBe(21);
      // The start page, then 20 pages ten at a time: three rounds of 150 ms and the claims; each
      // worker used to wait for a check of its own at the end (a quarter second each).
      expect(ms).toBeLessThan(2000);
    } finally {
      await server.close();
    }
  });

  it('with more workers than --per-host, starts the next request to the host as soon as one ends', async () => {
    // 300 pages held 2 ms, two at a time. A worker that found both slots busy used to keep the
    // host waiting 20 ms each time: 3 s at least.
    const server = await heldPagesSite(300, 2);
    const origin = server.origin;
    try {
      const m = memoryIo();
      const t0 = performance.now();
      expect(await main(['node', 'rawcrawl', `${origin}/`, '--mysql', db.url, '--crawl-id', 'busy-slots', '--ignore-robots', '-c', '8', '--per-host', '2', '-q'], m.io)).toBe(0);
      const ms = performance.now() - t0;
      expect(await rowCount(origin)).toBe(301);
      expect(server.most()).toBe(2);
      expect(ms).toBeLessThan(2000);
    } finally {
      await server.close();
    }
  });

  it('crawls many hosts without a database round trip per host in each take: slots and host rows go in batches', async () => {
    // 150 hosts (names under .localhost resolve to 127.0.0.1), one page each, linked from the
    // start page: every take is of a new host. Each used to cost three round trips of its own
    // (host row insert, its delay read, a slot lock), one take at a time.
    const HOSTS = 150;
    let port = 0;
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      const host = (req.headers.host ?? '').split(':')[0];
      res.end(host === 'start.localhost' ? Array.from({ length: HOSTS }, (_, i) => `<a href="http://h${i}.localhost:${port}/">${i}</a>`).join('') : '<title>x</title>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    const start = `http://start.localhost:${port}/`;
    const pool = await connectMysql(db.url);
    try {
      const { joinCrawl, MysqlFrontier } = await import('../../src/sinks/mysql-frontier.js');
      const { crawl } = await import('../../src/crawl/crawler.js');
      const joined = await joinCrawl(pool, 'many-hosts', { startUrls: [start], allowHosts: ['*.localhost'], include: [], exclude: [], storeOnly: [], maxDepth: null, maxPages: null, perHost: 2, delayMs: 0 });
      let frontier: InstanceType<typeof MysqlFrontier> | null = null;
      let pages = 0;
      for await (const _ of crawl({
        startUrls: [start], allowHosts: ['*.localhost'], ignoreRobots: true, concurrency: 16, perHost: 2, parseThreads: 0,
        backend: (ctx) => (frontier = new MysqlFrontier(pool, joined, ctx)),
      })) pages++;
      expect(pages).toBe(HOSTS + 1);
      // Claims, flushes, slot locks and releases are shared by many pages: about 2 statements a
      // page in all (5.3 before, three of them the new host's own).
      expect(frontier!.queries / pages).toBeLessThan(3);
    } finally {
      server.close();
    }
  });

  it('stats.queued counts the whole shared frontier, not only the URLs this process has claimed', async () => {
    const LINKS = 300;
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      if (req.url === '/') res.end(Array.from({ length: LINKS }, (_, i) => `<a href="/p${i}">${i}</a>`).join(''));
      else setTimeout(() => res.end('<title>x</title>'), 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const start = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const pool = await connectMysql(db.url);
    try {
      const { joinCrawl, MysqlFrontier } = await import('../../src/sinks/mysql-frontier.js');
      const { crawl } = await import('../../src/crawl/crawler.js');
      const joined = await joinCrawl(pool, 'queued-count', { startUrls: [start], allowHosts: [], include: [], exclude: [], storeOnly: [], maxDepth: null, maxPages: null, perHost: 2, delayMs: 0 });
      const c = crawl({ startUrls: [start], ignoreRobots: true, concurrency: 2, perHost: 2, parseThreads: 0, backend: (ctx) => new MysqlFrontier(pool, joined, ctx, { queuedCountMs: 50 }) });
      let most = 0;
      let pages = 0;
      for await (const _ of c) {
        most = Math.max(most, c.stats.queued);
        if (++pages === 40) c.stop();
      }
      // This process holds at most a claim batch (32) of them; the frontier held about 300.
      expect(most).toBeGreaterThan(200);
      expect(most).toBeLessThanOrEqual(LINKS + 32);
    } finally {
      server.close();
    }
  });

  it('--sitemap with --crawl-id: the sitemap\'s pages join the shared frontier while the crawl runs', async () => {
    let origin = '';
    const server = http.createServer((req, res) => {
      if (req.url === '/sitemap.txt') {
        // Late, so that the start page is done and the frontier empty when the pages arrive.
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(Array.from({ length: 30 }, (_, i) => `${origin}/s/${i}`).join('\n'));
        }, 300);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<title>x</title>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${origin}/`, '--mysql', db.url, '--crawl-id', 'sitemap', '--sitemap', `${origin}/sitemap.txt`, '--ignore-robots'], m.io)).toBe(0);
      expect(await rowCount(origin)).toBe(31);
      expect(m.err()).toContain('sitemaps: 1 read, 30 new page URLs in scope queued');
    } finally {
      server.close();
    }
  });

  it('--sitemap with --crawl-id: the sitemap takes a slot of the host, as pages do (--per-host 1, --delay)', async () => {
    let origin = '';
    let open = 0;
    let most = 0;
    const starts: number[] = [];
    const server = http.createServer((req, res) => {
      open++;
      most = Math.max(most, open);
      starts.push(performance.now());
      setTimeout(() => {
        open--;
        const sitemap = req.url === '/sitemap.txt';
        res.writeHead(200, { 'Content-Type': sitemap ? 'text/plain' : 'text/html' });
        res.end(sitemap ? `${origin}/s/1\n${origin}/s/2\n` : req.url === '/' ? '<a href="/a">a</a>' : '<title>x</title>');
      }, 40);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const m = memoryIo();
      const args = ['node', 'rawcrawl', `${origin}/`, '--mysql', db.url, '--crawl-id', 'sitemap-slot', '--sitemap', `${origin}/sitemap.txt`, '--ignore-robots'];
      expect(await main([...args, '--per-host', '1', '--delay', '150ms'], m.io)).toBe(0);
      expect(await rowCount(origin)).toBe(4);
      expect(starts).toHaveLength(5);
      expect(most).toBe(1);
      // The delay apart, less a little: the database's clock counts whole milliseconds, and this
      // server sees a request when the event loop it shares with the crawl gets to it.
      expect(Math.min(...starts.slice(1).map((t, i) => t - starts[i]!))).toBeGreaterThanOrEqual(140);
    } finally {
      server.close();
    }
  });

  it('robots.txt counts as the host\'s request with --crawl-id too: the first page waits --delay (or Crawl-delay) after it', async () => {
    for (const [robots, flags, gapAtLeast, id] of [
      ['User-agent: *\nDisallow: /no/\n', ['--delay', '300ms'], 250, 'robots-delay'],
      // No --delay: the host's first page takes no start grant, and the delay is learned after.
      ['User-agent: *\nCrawl-delay: 0.4\n', [], 350, 'robots-crawl-delay'],
    ] as const) {
      const starts: Array<[string, number]> = [];
      const server = http.createServer((req, res) => {
        const p = req.url ?? '/';
        starts.push([p, performance.now()]);
        res.writeHead(200, { 'Content-Type': p === '/robots.txt' ? 'text/plain' : 'text/html' });
        res.end(p === '/robots.txt' ? robots : p === '/' ? '<a href="/a">a</a>' : '<title>a</title>');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const m = memoryIo();
        expect(await main(['node', 'rawcrawl', `${origin}/`, '--mysql', db.url, '--crawl-id', id, ...flags, '-c', '4'], m.io)).toBe(0);
        expect(starts.map(([p]) => p)).toEqual(['/robots.txt', '/', '/a']);
        const rows = await db.query<{ url: string; attempts: number }>('SELECT url, attempts FROM pages WHERE url LIKE ? ORDER BY url', [`${origin}%`]);
        expect(rows.map((r) => [new URL(r.url).pathname, Number(r.attempts)])).toEqual([['/', 1], ['/a', 1]]);
        // Less some: the database's clock counts whole milliseconds, and the server shares the
        // crawl's event loop. Without the rule the gap is a few ms.
        for (let i = 1; i < starts.length; i++) expect(starts[i]![1] - starts[i - 1]![1], `${id} ${starts[i]![0]}`).toBeGreaterThanOrEqual(gapAtLeast);
      } finally {
        server.close();
      }
    }
  });

  it('keeps --per-host 1 on each of 40 hosts across three processes (slots locked in batches)', async () => {
    const HOSTS = 40;
    let port = 0;
    const open = new Map<string, number>();
    let most = 0;
    let hits = 0;
    const server = http.createServer((req, res) => {
      const host = (req.headers.host ?? '').split(':')[0]!;
      hits++;
      open.set(host, (open.get(host) ?? 0) + 1);
      most = Math.max(most, open.get(host)!);
      setTimeout(() => {
        open.set(host, open.get(host)! - 1);
        res.writeHead(200, { 'Content-Type': 'text/html' });
        // The start page links to four pages of each host, hosts interleaved: the processes'
        // batches of 32 overlap on hosts, and contend for their one slot.
        res.end(host === 'start.localhost' ? Array.from({ length: HOSTS * 4 }, (_, i) => `<a href="http://q${i % HOSTS}.localhost:${port}/${Math.floor(i / HOSTS)}">p</a>`).join('') : '<title>x</title>');
      }, 15);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    try {
      const procs = [0, 1, 2].map(() => {
        const child = spawn(process.execPath, [BIN, `http://start.localhost:${port}/`, '--allow-host', '*.localhost', '--mysql', db.url, '--crawl-id', 'hosts-polite', '--ignore-robots', '-q', '-c', '8', '--per-host', '1'], { stdio: 'ignore' });
        return new Promise<number | null>((resolve) => child.on('exit', resolve));
      });
      expect(await Promise.all(procs)).toEqual([0, 0, 0]);
      expect(await rowCount(`http://q`)).toBe(HOSTS * 4);
      expect(hits).toBe(1 + HOSTS * 4);
      expect(most).toBe(1);
      // status names the 20 hosts with the most URLs, and says how many there are.
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', 'status', '--mysql', db.url, '--crawl-id', 'hosts-polite'], m.io)).toBe(0);
      expect(m.out()).toContain('by host (the 20 with the most URLs, of 41):');
      expect(m.out().match(/^ {4}q\d+\.localhost:\d+ {2}queued 0 {2}claimed 0 {2}done 4 {2}failed 0$/gm)).toHaveLength(20);
    } finally {
      server.close();
    }
  });

  it('counts redirects in a row across the shared frontier: --max-redirects ends a redirect trap', async () => {
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      const m = /^\/r\/(\d+)$/.exec(req.url ?? '');
      if (m) {
        res.writeHead(302, { Location: `/r/${Number(m[1]) + 1}` });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<a href="/r/0">trap</a>');
      }
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${origin}/`, '--mysql', db.url, '--crawl-id', 'redirect-trap', '--ignore-robots', '--max-redirects', '4', '--progress-every', '1m'], m.io)).toBe(0);
      expect(hits.filter((h) => h.startsWith('/r/')).sort()).toEqual(['/r/0', '/r/1', '/r/2', '/r/3', '/r/4']);
      expect(m.err()).toContain('  1 redirect not followed, past --max-redirects in a row\n');
      const rows = await db.query<{ url: string; redirects: number }>('SELECT f.url, f.redirects FROM frontier f JOIN crawls c ON c.id = f.crawl_id WHERE c.name = ? ORDER BY f.id', ['redirect-trap']);
      expect(rows.map((r) => [new URL(r.url).pathname, Number(r.redirects)])).toEqual([['/', 0], ['/r/0', 0], ['/r/1', 1], ['/r/2', 2], ['/r/3', 3], ['/r/4', 4]]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('adds the redirects column to a frontier table an earlier rawcrawl made without it', async () => {
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    const name = `rawcrawl_migrate_${process.pid}`;
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      const old = (await import('node:fs')).readFileSync(path.resolve(__dirname, '../../schema.sql'), 'utf8').replace(/^\s*redirects\s+SMALLINT[^\n]*\n/m, '');
      expect(old).not.toMatch(/\bredirects\s+SMALLINT/);
      await admin.query(`USE ${name}`);
      for (const sql of old.split(/;\s*$/m).map((x) => x.replace(/^\s*--.*$/gm, '').trim()).filter(Boolean)) await admin.query(sql);
      const column = async (): Promise<number> => {
        const [r] = (await admin.query("SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'frontier' AND COLUMN_NAME = 'redirects'", [name])) as unknown as [Array<{ n: number }>];
        return Number(r[0]!.n);
      };
      expect(await column()).toBe(0);
      // Two processes starting at once: both see it missing, one adds it, neither fails.
      const pools = await Promise.all([connectMysql(`mysql://root@127.0.0.1:3306/${name}`), connectMysql(`mysql://root@127.0.0.1:3306/${name}`)]);
      await Promise.all(pools.map((p) => p.end()));
      expect(await column()).toBe(1);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    }
  });

  it('holds --max-pages for the crawl as a whole', async () => {
    const site = await treeSite(500, 1);
    try {
      const procs = [0, 1].map(() => startCrawler(site.origin, 'limited', ['--max-pages', '50']));
      expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0]);
      expect(new Set(site.hits.map((h) => h.path)).size).toBe(50);
      expect(await rowCount(site.origin)).toBe(50);
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', 'status', '--mysql', db.url, '--crawl-id', 'limited'], m.io)).toBe(0);
      expect(m.out()).toContain('  pages counted toward --max-pages: 50 of 50\n');
      // Joined again with other limits: the crawl's stored ones apply, and the command says which it overrode.
      const again = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/`, '--mysql', db.url, '--crawl-id', 'limited', '--max-pages', '60', '--per-host', '3', '--delay', '20ms', '--select', 't=h1', '--store-body', '--progress-every', '1m'], again.io)).toBe(0);
      // Its record fields too: rows must not differ by the process that fetched them.
      expect(again.err().split('\n')[0]).toBe(
        `rawcrawl: joining crawl limited: its start URLs, scope, limits and record fields apply (not this command\'s: start URLs ${site.origin}/p/0 (asked: ${site.origin}/), --max-pages 50 (asked: 60), --per-host 8 (asked: 3), --delay 0ms (asked: 20ms), --select none (asked: t=h1), --store-body off (asked: on))`,
      );
      expect(await rowCount(site.origin)).toBe(50);
    } finally {
      await site.close();
    }
  });

  it('with --max-pages spent, the next run still fetches the pages a SIGKILLed process had in flight', async () => {
    const site = await treeSite(2000, 1);
    try {
      const args = ['--concurrency', '8', '--lease', '3s', '--max-pages', '600'];
      const first = startCrawler(site.origin, 'budget', args);
      await until(async () => (await rowCount(site.origin)) >= 450);
      first.child.kill('SIGKILL');
      await first.exited;
      const [held] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM frontier f JOIN crawls c ON c.id = f.crawl_id WHERE c.name = 'budget' AND f.state = 'claimed'");
      // Counted against the 600 when claimed; the next run's own pages take the rest of the budget.
      expect(Number(held!.n)).toBeGreaterThan(0);
      const second = startCrawler(site.origin, 'budget', args);
      expect(await second.exited).toBe(0);
      expect(await rowCount(site.origin)).toBe(600);
      const [left] = await db.query<{ claimed: number; counted: number }>(
        "SELECT SUM(f.state = 'claimed') AS claimed, MAX(c.pages_counted) AS counted FROM frontier f JOIN crawls c ON c.id = f.crawl_id WHERE c.name = 'budget'",
      );
      expect([Number(left!.claimed), Number(left!.counted)]).toEqual([0, 600]);
    } finally {
      await site.close();
    }
  });

  it('with --max-pages, Ctrl+C gives the unstarted pages\' budget back; the next run makes up the count', async () => {
    const site = await treeSite(2000, 5);
    try {
      const args = ['--concurrency', '8', '--max-pages', '400'];
      const first = startCrawler(site.origin, 'budget-int', args);
      await until(async () => (await rowCount(site.origin)) >= 100);
      first.child.kill('SIGINT');
      expect(await first.exited).toBe(130);
      const budget = async (): Promise<[number, number, number]> => {
        const [r] = await db.query<{ done: number; claimed: number; counted: number }>(
          "SELECT SUM(f.state = 'done') AS done, SUM(f.state = 'claimed') AS claimed, MAX(c.pages_counted) AS counted FROM frontier f JOIN crawls c ON c.id = f.crawl_id WHERE c.name = 'budget-int'",
        );
        return [Number(r!.done), Number(r!.claimed), Number(r!.counted)];
      };
      // Nothing left claimed, and the budget counts exactly the pages done.
      const [done, claimed, counted] = await budget();
      expect(claimed).toBe(0);
      expect(counted).toBe(done);
      expect(await rowCount(site.origin)).toBe(done);
      const second = startCrawler(site.origin, 'budget-int', args);
      expect(await second.exited).toBe(0);
      expect(await rowCount(site.origin)).toBe(400);
      expect(await budget()).toEqual([400, 0, 400]);
    } finally {
      await site.close();
    }
  });

  it('with --max-pages spent, a page waiting to be retried (503, Retry-After) is still fetched', async () => {
    let first503 = true;
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      const n = Number(/^\/p\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
      if (n === 1 && first503) {
        first503 = false;
        res.writeHead(503, { 'Retry-After': '1' });
        res.end();
        return;
      }
      res.setHeader('Content-Type', 'text/html');
      res.end(`<title>P${n}</title>${[2 * n + 1, 2 * n + 2].map((k) => `<a href="/p/${k}">${k}</a>`).join('')}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const run = startCrawler(origin, 'retry-budget', ['--concurrency', '4', '--max-pages', '20']);
      expect(await run.exited).toBe(0);
      expect(await rowCount(origin)).toBe(20);
      const [p1] = await db.query<{ status: number; attempts: number }>('SELECT status, attempts FROM pages WHERE url = ?', [`${origin}/p/1`]);
      expect(p1).toMatchObject({ status: 200, attempts: 2 });
      expect(hits.filter((h) => h === '/p/1').length).toBe(2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('claims through the index: EXPLAIN shows the claim and lease keys', async () => {
    const pool = await connectMysql(db.url);
    try {
      const [claim] = (await pool.query("EXPLAIN SELECT url_hash FROM frontier WHERE crawl_id = 1 AND state = 'queued' AND not_before <= NOW(3) ORDER BY depth, id LIMIT 16 FOR UPDATE SKIP LOCKED")) as unknown as [Array<{ key: string }>];
      expect(claim[0]!.key).toBe('ix_frontier_claim');
      const [lease] = (await pool.query("EXPLAIN SELECT url_hash FROM frontier WHERE crawl_id = 1 AND state = 'claimed' AND lease_expires < NOW(3) ORDER BY lease_expires LIMIT 16 FOR UPDATE SKIP LOCKED")) as unknown as [Array<{ key: string }>];
      expect(lease[0]!.key).toBe('ix_frontier_lease');
    } finally {
      await pool.end();
    }
  });

  it('refuses --crawl-id without --mysql, and reports an unknown crawl', async () => {
    const m = memoryIo();
    expect(await main(['node', 'rawcrawl', 'http://127.0.0.1:1/', '--crawl-id', 'x'], m.io)).toBe(2);
    expect(m.err()).toBe('rawcrawl: ERR_INVALID_OPTION --crawl-id needs --mysql URL (or RAWCRAWL_MYSQL_URL)\n');
    const s = memoryIo();
    expect(await main(['node', 'rawcrawl', 'status', '--mysql', db.url, '--crawl-id', 'nope'], s.io)).toBe(2);
    expect(s.err()).toMatch(/no crawl named "nope"/);
  });

  it('status only reads: a missing database is named and not created, an empty one has no crawl and gets no tables', async () => {
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    try {
      const missing = `rawcrawl_status_missing_${process.pid}`;
      const empty = `rawcrawl_status_empty_${process.pid}`;
      await admin.query(`DROP DATABASE IF EXISTS ${missing}`);
      await admin.query(`DROP DATABASE IF EXISTS ${empty}`);
      await admin.query(`CREATE DATABASE ${empty}`);
      const a = memoryIo();
      expect(await main(['node', 'rawcrawl', 'status', '--mysql', `mysql://root@127.0.0.1:3306/${missing}`, '--crawl-id', 'x'], a.io)).toBe(2);
      expect(a.err()).toBe(`rawcrawl: ERR_INVALID_OPTION no database "${missing}" at 127.0.0.1:3306\n`);
      const b = memoryIo();
      expect(await main(['node', 'rawcrawl', 'status', '--mysql', `mysql://root@127.0.0.1:3306/${empty}`, '--crawl-id', 'x'], b.io)).toBe(2);
      expect(b.err()).toMatch(/no crawl named "x"/);
      const [dbs] = (await admin.query('SHOW DATABASES LIKE ?', [missing])) as unknown as [unknown[]];
      expect(dbs).toHaveLength(0);
      const [tables] = (await admin.query(`SHOW TABLES FROM ${empty}`)) as unknown as [unknown[]];
      expect(tables).toHaveLength(0);
      await admin.query(`DROP DATABASE ${empty}`);
    } finally {
      await admin.end();
    }
  });
});
