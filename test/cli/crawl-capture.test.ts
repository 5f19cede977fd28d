import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseWarc, warcField } from '../../src/warc/reader.js';
import { fixtureSite } from '../helpers/fixture-site.js';
import { useFreshDatabase } from '../helpers/mariadb.js';
import { memoryIo } from '../helpers/memory-io.js';


/** One gzip member starting at `offset`: gunzip stops at the member's end. */
function memberAt(file: string, offset: number): Buffer {
  const raw = readFileSync(file).subarray(offset);
  // gunzipSync reads every following member too; the first record is what we want.
  return gunzipSync(raw);
}

/** A raw server with lenient framing: bare-LF heads and duplicate identical Content-Length. */
async function quirkyServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    let buf = '';
    socket.on('data', (b) => {
      buf += b.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      const path = /^GET (\S+)/.exec(buf)?.[1] ?? '/';
      if (path === '/robots.txt') socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      else if (path === '/') socket.end('HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Length: 33\n\n<title>LF</title><a href="/d">d</a>');
      else socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 14\r\nContent-Length: 14\r\n\r\n<title>D</title>'.replace('14', '16').replace('14', '16'));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const db = useFreshDatabase();

describe('rawcrawl <start-url> --warc / --capture', () => {
  it('stores each page row with its WARC file and the offset of its response record', async () => {
    const site = await fixtureSite();
    const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-crawl-warc-'));
    try {
      const warc = path.join(dir, 'crawl.warc.gz');
      const m = memoryIo();
      const code = await main(['node', 'rawcrawl', `${site.origin}/`, '-q', '--parse-threads', '0', '--mysql', db.url, '--warc', warc, '--capture', path.join(dir, 'cap')], m.io);
      expect(m.err()).toBe('');
      expect(code).toBe(0);
      const rows = await db.query<{ url: string; status: number | null; warc_file: string | null; warc_offset: number | null; capture: unknown }>('SELECT url, status, warc_file, warc_offset, capture FROM pages');
      expect(rows.length).toBe(20);
      for (const row of rows) {
        expect(row.warc_file).toBe(warc);
        const [record] = parseWarc(memberAt(row.warc_file!, Number(row.warc_offset)));
        expect(warcField(record!, 'WARC-Type')).toBe('response');
        expect(warcField(record!, 'WARC-Target-URI')).toBe(row.url);
        const cap = (typeof row.capture === 'string' ? JSON.parse(row.capture) : row.capture) as { capture_file: string; phases: Record<string, number> };
        expect(cap.phases.bodyEnd).toBeGreaterThan(0);
        expect(readFileSync(cap.capture_file).length).toBeGreaterThan(0);
      }
      // The gzip body is in the WARC exactly as sent: content coding intact.
      const gz = rows.find((r) => r.url.endsWith('/gzip'))!;
      const [gzRecord] = parseWarc(memberAt(gz.warc_file!, Number(gz.warc_offset)));
      const head = gzRecord!.block.indexOf('\r\n\r\n');
      expect(gzRecord!.block.toString('latin1', 0, head)).toMatch(/Content-Encoding: gzip/);
      expect(gunzipSync(gzRecord!.block.subarray(head + 4)).toString()).toContain('<title>Gzip</title>');
      // Every exchange (robots.txt, redirects, 404s, the reset one) has a capture file.
      expect(readdirSync(path.join(dir, 'cap')).length).toBeGreaterThanOrEqual(23);
    } finally {
      await site.close();
    }
  });

  it('the same command again keeps the first run\'s WARC: its records still point into it, the second run writes the next name and says so', async () => {
    const site = await fixtureSite();
    const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-crawl-warc-'));
    try {
      const warc = path.join(dir, 'crawl.warc.gz');
      const run = async (out: string): Promise<{ code: number; err: string; records: Array<{ url: string; capture: { warc_file: string; warc_offset: number } | null }> }> => {
        const m = memoryIo();
        const code = await main(['node', 'rawcrawl', `${site.origin}/`, '--progress-every', '1m', '--parse-threads', '0', '--max-pages', '6', '--warc', warc, '-o', path.join(dir, out)], m.io);
        const records = readFileSync(path.join(dir, out), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { url: string; capture: { warc_file: string; warc_offset: number } | null });
        return { code, err: m.err(), records };
      };
      const first = await run('1.jsonl');
      expect(first.code).toBe(0);
      expect(first.err).not.toContain('exists');
      const before = readFileSync(warc);
      const second = await run('2.jsonl');
      expect(second.code).toBe(0);
      const next = path.join(dir, 'crawl-00001.warc.gz');
      expect(second.err.split('\n')[0]).toBe(`rawcrawl: ${warc} exists: writing ${next} (a WARC file is never overwritten)`);
      expect(readFileSync(warc).equals(before)).toBe(true);
      for (const [records, file] of [[first.records, warc], [second.records, next]] as const) {
        expect(records.length).toBe(6);
        for (const r of records) {
          expect(r.capture?.warc_file).toBe(file);
          const [record] = parseWarc(memberAt(file, r.capture!.warc_offset));
          expect(warcField(record!, 'WARC-Type')).toBe('response');
          expect(warcField(record!, 'WARC-Target-URI')).toBe(r.url);
        }
      }
    } finally {
      await site.close();
    }
  });

  it('--warc naming a directory is a usage error that names a file in it, and nothing is fetched or written (crawl and fetch)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-crawl-warc-'));
    for (const [args, given] of [[['http://127.0.0.1:1/', '--warc', dir], dir], [['fetch', 'http://127.0.0.1:1/', '--warc', `${dir}/`], `${dir}/`]] as const) {
      const m = memoryIo();
      const code = await main(['node', 'rawcrawl', ...args], m.io);
      expect(code).toBe(2);
      expect(m.err()).toBe(`rawcrawl: ERR_INVALID_OPTION WARC file ${given} is a directory: give a file name, e.g. ${path.join(dir, 'crawl.warc.gz')}\n`);
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(path.dirname(dir)).filter((f) => f.startsWith(`${path.basename(dir)}-`))).toEqual([]);
  });

  it('a crawl that cannot start (MySQL unreachable) leaves no WARC file behind', async () => {
    const site = await fixtureSite();
    const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-crawl-warc-'));
    try {
      const m = memoryIo();
      const code = await main(['node', 'rawcrawl', `${site.origin}/`, '--mysql', 'mysql://root@127.0.0.1:1/test', '--warc', path.join(dir, 'crawl.warc.gz')], m.io);
      expect(code).toBe(1);
      expect(m.err()).toMatch(/^rawcrawl: ERR_STORAGE /);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await site.close();
    }
  });

  it('records leniencies per page and shows server quirks by host in the summary', async () => {
    const server = await quirkyServer();
    try {
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${server.origin}/`, '--parse-threads', '0'], m.io)).toBe(0);
      const records = m.out().trim().split('\n').map((l) => JSON.parse(l) as { url: string; leniencies: Array<{ kind: string; offset: number }> });
      const home = records.find((r) => r.url.endsWith('/'))!;
      expect(home.leniencies.map((l) => l.kind)).toEqual(['bare-lf', 'bare-lf', 'bare-lf', 'bare-lf']);
      expect(home.leniencies[0]!.offset).toBe(15);
      const d = records.find((r) => r.url.endsWith('/d'))!;
      expect(d.leniencies.map((l) => l.kind)).toEqual(['duplicate-content-length']);
      const host = new URL(server.origin).host;
      expect(m.err()).toContain('server quirks (pages where the parser was lenient):');
      expect(m.err()).toContain(`    ${host}  bare-lf=1 duplicate-content-length=1`);
    } finally {
      await server.close();
    }
  });

  it('puts a parse error\'s offset and excerpt in the record', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'));
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', `${origin}/`, '--ignore-robots', '-q'], m.io)).toBe(0);
      const [rec] = m.out().trim().split('\n').map((l) => JSON.parse(l) as { error: string; error_offset: number; error_excerpt: string });
      expect(rec!.error).toBe('ERR_INVALID_CHUNK');
      expect(rec!.error_offset).toBe(47);
      expect(rec!.error_excerpt).toBe('@35: 20 63 68 75 6e 6b 65 64 0d 0a 0d 0a [7a] 7a 0d 0a 68 65 6c 6c 6f 0d 0a 30 0d | chunked....[z]z..hello..0.|');
    } finally {
      await new Promise((r) => server.close(() => r(undefined)));
    }
  });
});

describe('rawcrawl <start-url> --warc / --capture: storage failing mid-crawl', () => {
  // A full disk or a directory gone: the archive cannot be written any more, so the crawl stops
  // (as it does when -o or MySQL fails) rather than fetch the rest of the site unarchived.
  it.each([
    ['--capture DIR', (dir: string) => ['--capture', path.join(dir, 'caps')]],
    ['--warc FILE (rotating into a directory gone)', (dir: string) => ['--warc', path.join(dir, 'caps', 'x.warc.gz'), '--warc-max-size', '1K']],
  ])('%s: stops the crawl, exit 1 with one ERR_STORAGE line', async (_, flags) => {
    const { treeSite } = await import('../helpers/tree-site.js');
    const { mkdirSync, rmSync } = await import('node:fs');
    const site = await treeSite(400, 40);
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-capfail-'));
      mkdirSync(path.join(dir, 'caps'));
      const m = memoryIo();
      const run = main(['node', 'rawcrawl', `${site.origin}/p/0`, '--ignore-robots', '-q', '-c', '2', '--parse-threads', '0', '-o', path.join(dir, 'o.jsonl'), ...flags(dir)], m.io);
      const t0 = Date.now();
      while (site.completed.length < 6 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
      rmSync(path.join(dir, 'caps'), { recursive: true, force: true });
      const removedAt = site.hits.length;
      expect(await run).toBe(1);
      expect(m.err()).toMatch(/^rawcrawl: ERR_STORAGE cannot (write|create|open) (capture|WARC) file .*ENOENT\n$/m);
      // Stopped soon after: not the other ~390 pages fetched without their archive.
      expect(site.hits.length).toBeLessThan(removedAt + 20);
    } finally {
      await site.close();
    }
  });

  it('--warc on a disk that fills up mid-record: the file keeps its whole records, none torn', async () => {
    const { spawn } = await import('node:child_process');
    const { treeSite } = await import('../helpers/tree-site.js');
    const site = await treeSite(300, 0);
    try {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'rawcrawl-warcfull-')), 'x.warc.gz');
      // `ulimit -f` stands in for a full disk: the write that crosses it is cut short.
      const bin = path.resolve(__dirname, '../../bin/rawcrawl');
      const child = spawn('sh', ['-c', 'ulimit -f 100; exec "$0" "$@"', process.execPath, bin, `${site.origin}/p/0`, '--ignore-robots', '-q', '--warc', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(1);
      expect(stderr).toBe(`rawcrawl: ERR_STORAGE cannot write WARC file ${file}: EFBIG\n`);
      // Every member whole: gunzip reads to the end without "unexpected end of file".
      const text = gunzipSync(readFileSync(file)).toString('latin1');
      expect(text.length).toBeGreaterThan(10_000);
      const m = memoryIo();
      expect(await main(['node', 'rawcrawl', 'replay', file], m.io)).toBe(0);
      expect(m.err()).not.toMatch(/cut short/);
    } finally {
      await site.close();
    }
  });
});
