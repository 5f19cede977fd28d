import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fixtureSite } from '../helpers/fixture-site.js';
import { treeSite } from '../helpers/tree-site.js';
import { useFreshDatabase } from '../helpers/mariadb.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tlsServer } from '../helpers/tls-server.js';
import { tlsSessions } from '../../src/net/tls-sessions.js';

const BIN = path.resolve(__dirname, '../../bin/rawcrawl');


const db = useFreshDatabase();

describe('rawcrawl <start-url>', () => {
  it('writes one JSON line per page to stdout and a summary to stderr, exit 0 despite 404s', async () => {
    const site = await fixtureSite();
    try {
      const m = memoryIo();
      const code = await main(['node', 'rawcrawl', `${site.origin}/`, '--select', 'h=h1', '--parse-threads', '0'], m.io);
      expect(code).toBe(0);
      const lines = m.out().trim().split('\n').map((l) => JSON.parse(l) as { url: string; status: number; fields: Record<string, string> });
      expect(lines.length).toBe(20);
      expect(new Set(lines.map((l) => l.url)).size).toBe(20);
      expect(lines.find((l) => l.url.endsWith('/a'))!.fields).toEqual({ h: 'Page A' });
      expect(m.err()).toMatch(/rawcrawl: 21 pages in [\d.]+ s \([\d.]+ pages\/s\)/);
      expect(m.err()).toMatch(/status: 200=18 301=1 302=1 404=1/);
    } finally {
      await site.close();
    }
  });

  it('--max-queue: links not queued for a full queue are counted in the summary', async () => {
    const site = await fixtureSite();
    try {
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/`, '--max-queue', '2', '-c', '1', '--parse-threads', '0'], m.io)).toBe(0);
      expect(m.err()).toMatch(/\n {2}\d+ links? not queued: the queue held --max-queue URLs \(--crawl-id keeps it in MySQL, unbounded\)\n/);
      const m0 = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/`, '--max-queue', '0'], m0.io)).toBe(2);
    } finally {
      await site.close();
    }
  });

  it('writes JSON Lines to --out FILE, CSV to FILE.csv or with --format csv', async () => {
    const site = await fixtureSite();
    try {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rawcrawl-out-')), 'pages.jsonl');
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/a`, '--max-depth', '0', '-q', '-o', file], m.io)).toBe(0);
      expect(m.out()).toBe('');
      expect(m.err()).toBe('');
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.length).toBe(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ url: `${site.origin}/a`, title: 'Page A', depth: 0 });
      // -o FILE.csv (or --format csv): a header row, then the same pages as CSV rows, the
      // --select fields as columns; --format with --mysql is a usage error.
      const csvFile = file.replace(/\.jsonl$/, '.csv');
      expect(await main(['node', 'rawcrawl', `${site.origin}/`, '-q', '-o', csvFile, '--select', 'h=h1', '--select', 'next=a::attr(href)', '--select-all', 'hrefs=a::attr(href)'], m.io)).toBe(0);
      const { parse } = await import('csv-parse/sync');
      const rows = parse(readFileSync(csvFile), { columns: true }) as Array<Record<string, string>>;
      expect(rows.length).toBe(20);
      expect(Object.keys(rows[0]!)).toEqual(['url', 'final_url', 'status', 'content_type', 'title', 'depth', 'referrer', 'bytes', 'fetched_at', 'attempts', 'total_ms', 'error', 'error_message', 'fields.h', 'fields.next', 'fields.hrefs']);
      const a = rows.find((r) => r.url === `${site.origin}/a`)!;
      expect(a).toMatchObject({ title: 'Page A', depth: '1', status: '200', referrer: `${site.origin}/` });
      // A --select-all list is one cell, as JSON; its first item is what --select took.
      const hrefs = JSON.parse(a['fields.hrefs']!) as string[];
      expect(hrefs.length).toBeGreaterThan(0);
      expect(hrefs[0]).toBe(a['fields.next']);
      const stdout = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/a`, '--max-depth', '0', '-q', '--format', 'csv'], stdout.io)).toBe(0);
      expect(stdout.out().split('\r\n')[0]).toBe('url,final_url,status,content_type,title,depth,referrer,bytes,fetched_at,attempts,total_ms,error,error_message');
      const both = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/a`, '--format', 'csv', '--mysql', 'mysql://root@127.0.0.1:1/test'], both.io)).toBe(2);
      expect(both.err()).toBe('rawcrawl: ERR_INVALID_OPTION --format is for records written to -o FILE or stdout: with --mysql they go to the database\n');
      const outToo = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/a`, '-o', csvFile, '--mysql', 'mysql://root@127.0.0.1:1/test'], outToo.io)).toBe(2);
      expect(outToo.err()).toBe(`rawcrawl: ERR_INVALID_OPTION -o ${csvFile} and --mysql both say where records go: give one of them\n`);
      // A database named only by the environment gives way to -o on the command line.
      process.env.RAWCRAWL_MYSQL_URL = 'mysql://root@127.0.0.1:1/test';
      try {
        const envToo = memoryIo();
        expect(await main(['node', 'rawcrawl', `${site.origin}/a`, '--max-depth', '0', '-q', '-o', file], envToo.io)).toBe(0);
        expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
        // So does --format: the records go to stdout as CSV.
        const formatToo = memoryIo();
        expect(await main(['node', 'rawcrawl', `${site.origin}/a`, '--max-depth', '0', '-q', '--format', 'csv'], formatToo.io)).toBe(0);
        expect(formatToo.out().split('\r\n')[0]).toMatch(/^url,final_url,status,/);
        expect(formatToo.out().trim().split('\r\n')).toHaveLength(2);
      } finally {
        delete process.env.RAWCRAWL_MYSQL_URL;
      }
    } finally {
      await site.close();
    }
  });

  it('stops with one line and fetches nothing when MySQL is unreachable', async () => {
    const site = await fixtureSite();
    try {
      const m = memoryIo();
      const code = await main(['node', 'rawcrawl', `${site.origin}/`, '--mysql', 'mysql://root@127.0.0.1:1/test'], m.io);
      expect(code).toBe(1);
      expect(m.err().trim().split('\n')).toHaveLength(1);
      expect(m.err()).toMatch(/^rawcrawl: ERR_STORAGE cannot use MySQL at 127\.0\.0\.1:1\/test/);
      expect(site.hits.size).toBe(0);
    } finally {
      await site.close();
    }
  });

  it('says in the summary why an origin was disallowed when its robots.txt could not be had', async () => {
    const m = memoryIo();
    // Nothing listens on port 1: robots.txt is unreachable, so the origin is disallowed (RFC 9309).
    const code = await main(['node', 'rawcrawl', 'http://127.0.0.1:1/', '--progress-every', '1m', '--retries', '0'], m.io);
    expect(code).toBe(0);
    expect(m.out()).toBe('');
    const lines = m.err().trim().split('\n');
    expect(lines[0]).toMatch(/^rawcrawl: 0 pages in .* 1 disallowed by robots\.txt$/);
    expect(lines[1]).toMatch(/^ {2}robots\.txt of http:\/\/127\.0\.0\.1:1 unavailable \(ERR_CONNECT .+\): its pages are disallowed \(RFC 9309\); --ignore-robots crawls them$/);
  });

  it('-o or --dump-wire where nothing can be written: one ERR_STORAGE line naming it, exit 1, nothing fetched', async () => {
    const site = await fixtureSite();
    try {
      for (const flag of ['-o', '--dump-wire']) {
        const target = path.join(tmpdir(), 'rawcrawl-no-such-dir', 'out');
        const m = memoryIo();
        expect(await main(['node', 'rawcrawl', `${site.origin}/`, flag, target], m.io)).toBe(1);
        expect(m.err()).toBe(`rawcrawl: ERR_STORAGE cannot write ${flag === '-o' ? 'output file' : '--dump-wire file'} ${target}: ENOENT\n`);
      }
      expect(site.hits.size).toBe(0);
    } finally {
      await site.close();
    }
  });

  it('a crawl refused before it starts leaves an existing -o file as it was', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-keep-'));
    const file = path.join(dir, 'pages.jsonl');
    const site = await fixtureSite();
    try {
      const cases: Array<[string[], number, RegExp]> = [
        [['notaurl'], 2, /^rawcrawl: ERR_INVALID_URL start URL "notaurl" is not an http\(s\) URL \(nor a command: see rawcrawl --help\)\n$/],
        [[`${site.origin}/`, '-H', 'Host: x'], 2, /^rawcrawl: ERR_INVALID_OPTION a crawl cannot send one Host header/],
        [[`${site.origin}/`, '--warc', path.join(dir, 'no-such-dir', 'x.warc.gz')], 1, /^rawcrawl: ERR_STORAGE .*no-such-dir/],
        [[`${site.origin}/`, '--capture', path.join(dir, 'pages.jsonl', 'sub')], 1, /^rawcrawl: ERR_STORAGE /],
      ];
      for (const [args, code, line] of cases) {
        writeFileSync(file, 'precious\n');
        const m = memoryIo();
        expect(await main(['node', 'rawcrawl', ...args, '-o', file], m.io), args.join(' ')).toBe(code);
        expect(m.err()).toMatch(line);
        expect(m.err().trim().split('\n')).toHaveLength(1);
        expect(readFileSync(file, 'utf8')).toBe('precious\n');
      }
      expect(site.hits.size).toBe(0);
    } finally {
      await site.close();
    }
  });

  it('-o on a full disk (/dev/full) stops with one ERR_STORAGE line and exit 1, not exit 0 with the records gone', async () => {
    const site = await fixtureSite();
    try {
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/`, '-o', '/dev/full', '--progress-every', '1m'], m.io)).toBe(1);
      expect(m.err().trim().split('\n').at(-1)).toBe('rawcrawl: ERR_STORAGE cannot write output file /dev/full: ENOSPC');
      // Nothing reached the file: the summary does not count records as stored that went nowhere.
      expect(m.err()).toMatch(/, 0 stored, /);
    } finally {
      await site.close();
    }
  });

  it.each(['jsonl', 'csv'])('-o FILE.%s that fills up mid-record keeps every whole record and no torn one', async (ext) => {
    // `ulimit -f` (RLIMIT_FSIZE) stands in for a full disk: the write that crosses it is cut
    // short, as one that fills a disk is, and the next fails (EFBIG rather than ENOSPC).
    const site = await treeSite(300, 0);
    try {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rawcrawl-full-')), `pages.${ext}`);
      const child = spawn('sh', ['-c', 'ulimit -f 60; exec "$0" "$@"', process.execPath, BIN, `${site.origin}/p/0`, '--ignore-robots', '--store-body', '--progress-every', '1m', '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(1);
      expect(stderr.trim().split('\n').at(-1)).toBe(`rawcrawl: ERR_STORAGE cannot write output file ${file}: EFBIG`);
      const stored = Number(/, (\d+) stored, /.exec(stderr)?.[1]);
      expect(stored).toBeGreaterThan(10);
      const text = readFileSync(file, 'utf8');
      if (ext === 'jsonl') {
        expect(text.endsWith('\n')).toBe(true);
        const urls = text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { url: string }).url);
        expect(urls).toHaveLength(stored);
      } else {
        const { parse } = await import('csv-parse/sync');
        expect((parse(text, { columns: true }) as unknown[]).length).toBe(stored);
      }
    } finally {
      await site.close();
    }
  });

  it('a terminal gone from under stderr (EIO: setsid or disown, then logout) does not crash the crawl', async () => {
    const site = await treeSite(60, 40);
    try {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rawcrawl-eio-')), 'pages.jsonl');
      const { Writable } = await import('node:stream');
      let writes = 0;
      const stderr = new Writable({
        write(_chunk, _enc, done) {
          // The first progress lines go out; then the terminal hangs up.
          done(++writes <= 2 ? null : Object.assign(new Error('write EIO'), { code: 'EIO' }));
        },
      });
      const m = memoryIo();
      const code = await main(['node', 'rawcrawl', `${site.origin}/p/0`, '--ignore-robots', '-c', '2', '--progress-every', '100ms', '-o', file], { ...m.io, stderr });
      expect(writes).toBeGreaterThan(2);
      expect(code).toBe(0);
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(60);
    } finally {
      await site.close();
    }
  });

  it('rejects bad arguments with one line and exit 2', async () => {
    for (const args of [['--include', '(unclosed'], ['--select', 'nocss'], ['--select', 'h=h1[[['], ['--concurrency', 'lots'], ['--max-pages', '-1'], ['--lease', '500ms'], ['--spill-dir', '/nonexistent-rawcrawl-dir'], ['-H', 'Host: x'], ['-H', 'User-Agent: x'], ['-H', 'NoColon'], ['--proxy', 'socks6://127.0.0.1:1'], ['--resolve', 'a.test:80'], ['--timeout', '0'], ['--max-url-length', '70000'], ['-H', 'Bad Name: x'], ['-H', 'Connection: keep-alive'], ['--select-all', 'x=a::before'], ['--select', 'f=h1', '--select-all', 'f=h2'], ['--max-time', '0'], ['--format', 'xml'], ['--proxy', 'https://p.example/path'], ['--concurrency', '0'], ['--per-host', '0'], ['--max-pages', '0'], ['--progress-every', '0'], ['--dump-wire-match', 'x'], ['--dump-wire-full'], ['--allow-host', 'http:// x']]) {
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', 'http://127.0.0.1:1/', ...args], m.io)).toBe(2);
      expect(m.err().trim().split('\n')).toHaveLength(1);
      expect(m.err()).toMatch(/^rawcrawl: ERR_INVALID_OPTION /);
    }
    const h = memoryIo();
    expect(await main(['node', 'rawcrawl', 'http://127.0.0.1:1/', '-H', 'X-A: a\r\nX-Injected: 1'], h.io)).toBe(2);
    // Checked as the flags are parsed, with request()'s own rules: one usage line.
    expect(h.err()).toMatch(/^rawcrawl: ERR_INVALID_OPTION option '-H, --header <line>' argument 'X-A: a\\r\\nX-Injected: 1' is invalid\. value of header X-A holds CR, LF, NUL[^\n]*\n$/);
    const m = memoryIo();
    expect(await main(['node', 'rawcrawl', 'ftp://x/'], m.io)).toBe(2);
    expect(m.err()).toMatch(/^rawcrawl: ERR_INVALID_URL start URL "ftp:\/\/x\/" is not an http\(s\) URL\n$/);
  });

  it('sends -H headers with every request of the crawl, and the cookies sites set unless --no-cookies', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const server = await httpServer((req, res) => {
      res.writeHead(req.url === '/robots.txt' ? 404 : 200, { 'Content-Type': 'text/html', ...(req.url === '/' ? { 'Set-Cookie': 'sid=1; Path=/' } : {}) });
      res.end(req.url === '/' ? '<a href="/b">b</a>' : 'b');
    });
    try {
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${server.origin}/`, '-H', 'Authorization: Bearer t0k', '-H', 'Accept-Language:de', '--parse-threads', '0'], m.io)).toBe(0);
      expect(server.seen.map((r) => r.url)).toEqual(['/robots.txt', '/', '/b']);
      for (const r of server.seen) {
        const lines = r.rawHeaders.flatMap((v, i) => (i % 2 === 0 ? [`${v}: ${r.rawHeaders[i + 1]}`] : []));
        expect(lines).toEqual(expect.arrayContaining(['Authorization: Bearer t0k', 'Accept-Language: de']));
        expect(lines.filter((l) => l.startsWith('Cookie:'))).toEqual(r.url === '/b' ? ['Cookie: sid=1'] : []);
      }
      const n = server.seen.length;
      expect(await main(['node', 'rawcrawl', `${server.origin}/`, '--no-cookies', '--parse-threads', '0'], memoryIo().io)).toBe(0);
      expect(server.seen.slice(n).map((r) => r.url)).toEqual(['/robots.txt', '/', '/b']);
      for (const r of server.seen.slice(n)) expect(r.rawHeaders.map((h) => h.toLowerCase())).not.toContain('cookie');
    } finally {
      await server.close();
    }
  });

  it('--proxy: every request of the crawl, robots.txt included, goes through the proxy; --resolve pins a name', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const { proxyServer } = await import('../helpers/proxy-server.js');
    const server = await httpServer((req, res) => {
      res.writeHead(req.url === '/robots.txt' ? 404 : 200, { 'Content-Type': 'text/html' });
      res.end(req.url === '/' ? '<a href="/b">b</a>' : 'b');
    });
    const proxy = await proxyServer({ hosts: { 'site.test': '127.0.0.1' } });
    try {
      const m = memoryIo();
      const origin = `http://site.test:${server.port}`;
      expect(await main(['node', 'rawcrawl', `${origin}/`, '--proxy', proxy.href, '--parse-threads', '0'], m.io)).toBe(0);
      const lines = m.out().trim().split('\n').map((l) => JSON.parse(l) as { url: string; status: number });
      expect(lines.map((l) => [l.url, l.status]).sort()).toEqual([[`${origin}/`, 200], [`${origin}/b`, 200]]);
      expect(proxy.seen.map((s) => `${s.method} ${s.target}`)).toEqual([`GET ${origin}/robots.txt`, `GET ${origin}/`, `GET ${origin}/b`]);
      // --resolve instead of the proxy: the same site, the name pinned to the address.
      const r = memoryIo();
      expect(await main(['node', 'rawcrawl', `${origin}/`, '--resolve', `site.test:${server.port}:127.0.0.1`, '--parse-threads', '0'], r.io)).toBe(0);
      expect(r.out().trim().split('\n')).toHaveLength(2);
      expect(proxy.seen).toHaveLength(3);
      // An https:// proxy, its certificate trusted with --proxy-ca: the same requests, inside TLS.
      const { selfSignedCert } = await import('../helpers/tls-server.js');
      const cert = await selfSignedCert();
      const tlsProxy = await proxyServer({ hosts: { 'site.test': '127.0.0.1' }, tls: cert });
      try {
        const ca = path.join(mkdtempSync(path.join(tmpdir(), 'rawcrawl-')), 'proxy-ca.pem');
        writeFileSync(ca, cert.cert);
        const t = memoryIo();
        expect(await main(['node', 'rawcrawl', `${origin}/`, '--proxy', tlsProxy.href, '--proxy-ca', ca, '--parse-threads', '0'], t.io)).toBe(0);
        expect(t.out().trim().split('\n')).toHaveLength(2);
        expect(tlsProxy.seen.map((s) => `${s.method} ${s.target}`)).toEqual([`GET ${origin}/robots.txt`, `GET ${origin}/`, `GET ${origin}/b`]);
        // --proxy twice: they take turns, one request each in order (and a dead one would cost a
        // retry through the next).
        const turns = memoryIo();
        expect(await main(['node', 'rawcrawl', `${origin}/`, '--proxy', proxy.href, '--proxy', tlsProxy.href, '--proxy-ca', ca, '--parse-threads', '0', '-c', '1'], turns.io)).toBe(0);
        expect(proxy.seen.slice(3).map((s) => s.target)).toEqual([`${origin}/robots.txt`, `${origin}/b`]);
        expect(tlsProxy.seen.slice(3).map((s) => s.target)).toEqual([`${origin}/`]);
      } finally {
        await tlsProxy.close();
      }
    } finally {
      await proxy.close();
      await server.close();
    }
  });

  it('traces connections with --dump-wire, limited by --dump-wire-match', async () => {
    const site = await fixtureSite();
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-wire-'));
      const file = path.join(dir, 'wire.txt');
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${site.origin}/`, '-q', '--dump-wire', file, '--dump-wire-match', '/gzip$', '-o', path.join(dir, 'o.jsonl')], m.io)).toBe(0);
      const trace = readFileSync(file, 'utf8');
      const opens = trace.split('\n').filter((l) => / \* open /.test(l));
      expect(opens).toHaveLength(1);
      expect(opens[0]).toContain(`open ${site.origin}/gzip`);
      expect(trace).toContain('> head @0 20 "GET /gzip HTTP/1.1\\r\\n"');
      expect(trace).toMatch(/< head @\d+ \d+ "Content-Encoding: gzip\\r\\n"/);
    } finally {
      await site.close();
    }
  });

  it('--dump-wire to a reader slower than the crawl: the crawl waits for it instead of holding the trace in memory', async () => {
    // The trace was written without regard for backpressure: to a slow pipe (ssh, a terminal) a
    // long crawl went on at full speed and kept every unwritten line in memory.
    const site = await treeSite(1500, 0);
    let release: (() => void) | null = null;
    const released = new Promise<void>((r) => (release = r));
    let traced = 0;
    const stderr = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        traced += chunk.length;
        void released.then(() => cb());
      },
    });
    const m = memoryIo();
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-wire-slow-'));
      const done = main(['node', 'rawcrawl', `${site.origin}/p/0`, '-q', '--dump-wire', '--ignore-robots', '--parse-threads', '0', '-o', path.join(dir, 'o.jsonl')], { ...m.io, stderr });
      // The reader takes nothing for a while: the crawl stops soon after the trace's buffer is full.
      await new Promise((r) => setTimeout(r, 1500));
      const fetchedWhileBlocked = site.hits.length;
      expect(traced).toBeGreaterThan(0);
      expect(fetchedWhileBlocked).toBeLessThan(600);
      release!();
      expect(await done).toBe(0);
      expect(site.hits.length).toBe(1500);
      expect(readFileSync(path.join(dir, 'o.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1500);
    } finally {
      release!();
      await site.close();
    }
  });
});

describe('rawcrawl in a child process', () => {
  it('on SIGINT stops, lets in-flight pages finish, stores every fetched page and exits 130', async () => {
    await db.query('DROP TABLE IF EXISTS pages');
    const site = await treeSite(400, 120);
    try {
      const child = spawn(process.execPath, [BIN, `${site.origin}/p/0`, '--mysql', db.url, '--concurrency', '4', '--progress-every', '100ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const t0 = Date.now();
      while (site.completed.length < 12 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
      expect(site.completed.length).toBeGreaterThanOrEqual(12);
      child.kill('SIGINT');
      const code = await exited;
      expect(code).toBe(130);
      expect(stderr).toMatch(/stopping: finishing in-flight pages/);
      const rows = await db.query<{ url: string }>('SELECT url FROM pages');
      const stored = new Set(rows.map((r) => new URL(r.url).pathname));
      // Every page the server finished sending was stored, and nothing else.
      expect([...stored].sort()).toEqual([...new Set(site.completed)].sort());
      expect(stored.size).toBeLessThan(400);
    } finally {
      await site.close();
    }
  });

  it.each(['SIGTERM', 'SIGHUP'] as const)('on %s (docker stop, systemd; a terminal that hung up) stops as on Ctrl+C: every fetched page in -o, exit 130', async (signal) => {
    const site = await treeSite(400, 120);
    try {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rawcrawl-signal-')), 'pages.jsonl');
      const child = spawn(process.execPath, [BIN, `${site.origin}/p/0`, '--ignore-robots', '-c', '4', '--progress-every', '1m', '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const t0 = Date.now();
      while (site.completed.length < 12 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
      child.kill(signal);
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/stopping: finishing in-flight pages/);
      expect(stderr).toMatch(/rawcrawl: \d+ pages in /);
      const stored = readFileSync(file, 'utf8').trim().split('\n').map((l) => new URL((JSON.parse(l) as { url: string }).url).pathname);
      expect(stored.sort()).toEqual([...new Set(site.completed)].sort());
      expect(stored.length).toBeLessThan(400);
    } finally {
      await site.close();
    }
  });

  it('--max-time stops taking pages, lets in-flight ones finish and store, and exits 0', async () => {
    const site = await treeSite(400, 150);
    try {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rawcrawl-maxtime-')), 'pages.jsonl');
      const m = memoryIo();
      const t0 = Date.now();
      expect(await main(['node', 'rawcrawl', `${site.origin}/p/0`, '--ignore-robots', '-c', '2', '--max-time', '600ms', '-o', file], m.io)).toBe(0);
      const elapsed = Date.now() - t0;
      expect(m.err()).toContain('rawcrawl: --max-time reached (0.6 s): finishing in-flight pages');
      const stored = readFileSync(file, 'utf8').trim().split('\n').map((l) => new URL((JSON.parse(l) as { url: string }).url).pathname);
      // Every page the server finished sending was stored; none was started after the limit.
      expect(stored.sort()).toEqual([...site.completed].sort());
      expect(site.hits.length).toBe(stored.length);
      expect(stored.length).toBeGreaterThanOrEqual(2);
      expect(stored.length).toBeLessThan(400);
      expect(elapsed).toBeLessThan(600 + 150 + 2000);
    } finally {
      await site.close();
    }
  });

  it('on a second SIGINT aborts in-flight requests at once and still stores what was fetched', async () => {
    await db.query('DROP TABLE IF EXISTS pages');
    const site = await treeSite(400, 3000);
    try {
      const child = spawn(process.execPath, [BIN, `${site.origin}/p/0`, '--mysql', db.url, '--concurrency', '4', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const t0 = Date.now();
      while (site.completed.length < 1 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 100));
      const t1 = Date.now();
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(Date.now() - t1).toBeLessThan(2500); // did not wait for the 3 s pages
      const rows = await db.query<{ url: string }>('SELECT url FROM pages');
      expect(rows.map((r) => new URL(r.url).pathname)).toContain('/p/0');
    } finally {
      await site.close();
    }
  });
});

describe('rawcrawl crawl over https', () => {
  it.each([
    ['resumes the TLS session of the robots.txt connection for the page', [], 1],
    ['--no-tls-resume makes a full handshake for each', ['--no-tls-resume'], 0],
  ])('%s', async (_, flags, resumed) => {
    const server = await tlsServer('secure hello');
    try {
      tlsSessions.clear();
      const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-tls-'));
      const ca = path.join(dir, 'ca.pem');
      writeFileSync(ca, server.cert);
      const trace = path.join(dir, 'wire.txt');
      const m = memoryIo();
      const code = await main(['node', 'rawcrawl', 'crawl', `https://localhost:${server.port}/`, '--ca', ca, '--max-pages', '1', '--parse-threads', '0', '-q', '--dump-wire', trace, ...flags], m.io);
      expect(code).toBe(0);
      expect(JSON.parse(m.out().trim())).toMatchObject({ status: 200 });
      const tlsLines = readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes(' * tls '));
      expect(tlsLines).toHaveLength(2);
      expect(tlsLines.every((l) => l.includes('authorized=true'))).toBe(true);
      expect(tlsLines.filter((l) => l.includes(' resumed ')).length).toBe(resumed);
    } finally {
      await server.close();
    }
  });
});
