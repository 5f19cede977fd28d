import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { PageRecord } from '../../src/crawl/record.js';
import { JsonlSink } from '../../src/sinks/jsonl.js';
import { connectMysql, MysqlSink, urlHash } from '../../src/sinks/mysql.js';
import { storedFields } from '../../src/sinks/sink.js';
import { freshDatabase, useFreshDatabase, type TestDatabase } from '../helpers/mariadb.js';
import { memoryIo } from '../helpers/memory-io.js';
import { cuttableProxy } from '../helpers/mysql-proxy.js';
import { pageRecord } from '../helpers/page-record.js';

// No schema: `import` creates the tables itself.
const db = useFreshDatabase();

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'rawcrawl-import-'));

async function run(...args: string[]): Promise<{ code: number; err: string; out: string }> {
  const m = memoryIo();
  const code = await main(['node', 'rawcrawl', 'import', ...args], m.io);
  return { code, err: m.err(), out: m.out() };
}

/** Records with every kind of field a crawl stores: text to trip SQL and JSON, nulls, lists, a capture. */
function records(): PageRecord[] {
  return [
    pageRecord({
      url: 'http://127.0.0.1/a?q=1',
      final_url: 'http://127.0.0.1/a?q=1',
      title: `'); DROP TABLE pages; -- «Ä» 😀 "quoted" \\ back`,
      fields: { h1: 'Ünïcödé 😀', tags: ['x', 'y "z"'], missing: null },
      referrer: 'http://127.0.0.1/',
      depth: 2,
      bytes: 123_456,
      fetched_at: '2026-11-27T01:02:03.456Z',
      timings: { dns: 1, connect: 2.5, tls: 0, firstByte: 12.25, total: 40 },
      leniencies: [{ kind: 'bare-lf', offset: 17 }, { kind: 'obs-fold', offset: 99 }],
      attempts: 2,
      capture: {
        warc_file: '/tmp/crawl.warc.gz',
        warc_offset: 4096,
        capture_file: '/tmp/caps/a.rawcap',
        phases: { dns: 0, connect: 1, written: 2, firstByte: 5, headersEnd: 6, bodyEnd: 9, closed: 10 },
        tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', fingerprint256: 'AB:CD', closeNotify: true },
        remote_address: '127.0.0.1:443',
      },
      body: '<html><title>\'); DROP TABLE pages; --</title>\n\t\u0000 😀</html>',
      links: ['http://127.0.0.1/b'],
    }),
    pageRecord({
      url: 'http://127.0.0.1/down',
      final_url: 'http://127.0.0.1/down',
      status: null,
      content_type: null,
      title: null,
      bytes: 0,
      fetched_at: '2026-11-27T01:02:04.000Z',
      error: 'ERR_INVALID_STATUS_LINE',
      error_message: 'the response does not start with a valid status line',
      error_offset: 3,
      error_excerpt: '00000000  48 54 58 0d 0a  HTX..',
      attempts: 3,
    }),
    pageRecord({ url: 'http://127.0.0.1/c', final_url: 'http://127.0.0.1/c/', status: 301, title: null, fields: { h1: null } }),
  ];
}

interface PageRow {
  url_hash: Buffer;
  url: string;
  final_url: string | null;
  status: number | null;
  content_type: string | null;
  title: string | null;
  fields: unknown;
  depth: number;
  referrer: string | null;
  bytes: number;
  fetched_at: Date;
  timings: unknown;
  error: string | null;
  error_message: string | null;
  error_offset: number | null;
  error_excerpt: string | null;
  leniencies: unknown;
  attempts: number;
  warc_file: string | null;
  warc_offset: number | null;
  capture: unknown;
  body: string | null;
}

/** A JSON column as text: MariaDB keeps what was stored, byte for byte. */
const jsonText = (v: unknown): string | null => (v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));
const json = (v: unknown): unknown => (v === null ? null : typeof v === 'string' ? JSON.parse(v) : v);

async function rows(database: TestDatabase): Promise<PageRow[]> {
  return database.query<PageRow>('SELECT * FROM pages ORDER BY url');
}

/** A row read back as the record it was stored from (what storedFields() writes to a spill file). */
function rowAsRecord(row: PageRow): Omit<PageRecord, 'links'> {
  const capture = json(row.capture) as Record<string, unknown> | null;
  return {
    url: row.url,
    final_url: row.final_url!,
    status: row.status,
    content_type: row.content_type,
    title: row.title,
    fields: json(row.fields) as PageRecord['fields'],
    depth: row.depth,
    referrer: row.referrer,
    bytes: Number(row.bytes),
    fetched_at: row.fetched_at.toISOString(),
    timings: json(row.timings) as PageRecord['timings'],
    error: row.error,
    error_message: row.error_message,
    error_offset: row.error_offset === null ? null : Number(row.error_offset),
    error_excerpt: row.error_excerpt,
    leniencies: (json(row.leniencies) ?? []) as PageRecord['leniencies'],
    attempts: row.attempts,
    capture: capture === null ? null : ({ warc_file: row.warc_file, warc_offset: row.warc_offset === null ? null : Number(row.warc_offset), ...capture } as PageRecord['capture']),
    body: row.body,
  };
}

/** The record as a row holds it: no links, absent capture and body as null. */
function asStored(r: PageRecord): Omit<PageRecord, 'links'> {
  return { capture: null, body: null, ...storedFields(r) };
}

/** Every byte of every row, to compare two databases (id aside: it counts inserts). */
async function allColumns(database: TestDatabase): Promise<unknown[]> {
  return database.query('SELECT url_hash, url, final_url, status, content_type, title, fields, depth, referrer, bytes, fetched_at, timings, error, error_message, error_offset, error_excerpt, leniencies, attempts, warc_file, warc_offset, capture, body FROM pages ORDER BY url_hash');
}

async function writeWithJsonlSink(file: string, recs: PageRecord[]): Promise<void> {
  const sink = new JsonlSink(createWriteStream(file), true, `output file ${file}`);
  for (const r of recs) await sink.write(r);
  await sink.close();
}

describe('rawcrawl import', () => {
  it('loads a spill file the MySQL sink wrote when the database went away: the rows are the ones the crawl would have stored, byte for byte; tables are created', async () => {
    // The real path to a spill file: the crawl's sink, its database cut, past --mysql-give-up.
    const origin = await freshDatabase();
    const proxy = await cuttableProxy(origin.name);
    const spillDir = tmp();
    let spill: string;
    try {
      const sink = new MysqlSink(await connectMysql(proxy.url), { batchSize: 5, flushIntervalMs: 10, giveUpMs: 300, spillDir });
      await proxy.cut();
      for (const r of records()) await sink.write(r);
      await sink.close();
      expect(sink.error?.message).toMatch(/3 unsaved records written to /);
      spill = sink.spillPath!;
      expect(path.basename(spill)).toMatch(/^rawcrawl-unsaved-.*\.jsonl$/);
    } finally {
      await proxy.close();
    }

    expect(await db.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'pages'")).toEqual([]);
    const r = await run(spill, '--mysql', db.url);
    expect(r.err).toBe(`rawcrawl: imported 3 records from ${spill} (0 lines skipped)\n`);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');

    const got = await rows(db);
    const want = records().sort((a, b) => (a.url < b.url ? -1 : 1));
    expect(got.map(rowAsRecord)).toEqual(want.map(asStored));
    // The spill file's own lines, read back from the rows.
    const lines = readFileSync(spill, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PageRecord);
    expect(got.map(rowAsRecord)).toEqual(lines.sort((a, b) => (a.url < b.url ? -1 : 1)).map(asStored));
    // Field by field, for the one with everything in it.
    const a = got.find((row) => row.url === 'http://127.0.0.1/a?q=1')!;
    const ra = records()[0]!;
    expect(a.url_hash).toEqual(urlHash(ra.url));
    expect(a.status).toBe(200);
    expect(a.title).toBe(ra.title);
    expect(a.body).toBe(ra.body);
    expect(jsonText(a.fields)).toBe(JSON.stringify(ra.fields));
    expect(jsonText(a.timings)).toBe(JSON.stringify(ra.timings));
    expect(jsonText(a.leniencies)).toBe(JSON.stringify(ra.leniencies));
    expect(a.fetched_at.toISOString()).toBe('2026-11-27T01:02:03.456Z');
    expect(a.warc_file).toBe('/tmp/crawl.warc.gz');
    expect(Number(a.warc_offset)).toBe(4096);

    // The same records stored by the crawl's sink directly: the very same bytes in every column.
    try {
      const direct = new MysqlSink(await connectMysql(origin.url));
      for (const rec of records()) await direct.write(rec);
      await direct.close();
      expect(await allColumns(db)).toEqual(await allColumns(origin));
    } finally {
      await origin.drop();
    }
  });

  it('is idempotent: the same file twice leaves one row per URL; a changed record updates its row', async () => {
    const dir = tmp();
    const file = path.join(dir, 'pages.jsonl');
    // More than two of the sink's batches (500 rows).
    const many = Array.from({ length: 1234 }, (_, i) => pageRecord({ url: `http://127.0.0.1/many/${i}`, final_url: `http://127.0.0.1/many/${i}`, title: `page ${i}` }));
    writeFileSync(file, many.map((r) => JSON.stringify(storedFields(r)) + '\n').join(''));
    await db.query("DELETE FROM pages WHERE url LIKE 'http://127.0.0.1/many/%'");
    const count = async (): Promise<number> => Number((await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM pages WHERE url LIKE 'http://127.0.0.1/many/%'"))[0]!.n);

    const first = await run(file, '--mysql', db.url);
    expect(first.err).toBe(`rawcrawl: imported 1234 records from ${file} (0 lines skipped)\n`);
    expect(first.code).toBe(0);
    expect(await count()).toBe(1234);
    const before = await db.query<{ id: number; url: string }>("SELECT id, url FROM pages WHERE url LIKE 'http://127.0.0.1/many/%' ORDER BY id");

    const second = await run(file, '--mysql', db.url);
    expect(second.code).toBe(0);
    expect(second.err).toBe(`rawcrawl: imported 1234 records from ${file} (0 lines skipped)\n`);
    expect(await count()).toBe(1234);
    expect(await db.query("SELECT id, url FROM pages WHERE url LIKE 'http://127.0.0.1/many/%' ORDER BY id")).toEqual(before);

    const changed = path.join(dir, 'changed.jsonl');
    writeFileSync(changed, JSON.stringify(storedFields({ ...many[7]!, title: 'new title', status: 404 })) + '\n');
    expect((await run(changed, '--mysql', db.url)).code).toBe(0);
    expect(await count()).toBe(1234);
    expect(await db.query("SELECT title, status FROM pages WHERE url = 'http://127.0.0.1/many/7'")).toEqual([{ title: 'new title', status: 404 }]);
  });

  it('loads what the JSON Lines sink writes (`rawcrawl crawl -o pages.jsonl`), several files in one run, one summary each', async () => {
    const dir = tmp();
    const one = path.join(dir, 'one.jsonl');
    const two = path.join(dir, 'two.jsonl');
    const recs = records().map((r) => ({ ...r, url: r.url.replace('127.0.0.1/', '127.0.0.1/jsonl/') }));
    await writeWithJsonlSink(one, recs.slice(0, 2));
    await writeWithJsonlSink(two, recs.slice(2));
    const r = await run(one, two, '--mysql', db.url);
    expect(r.err).toBe(`rawcrawl: imported 2 records from ${one} (0 lines skipped)\nrawcrawl: imported 1 record from ${two} (0 lines skipped)\n`);
    expect(r.code).toBe(0);
    const got = (await rows(db)).filter((row) => row.url.includes('/jsonl/'));
    expect(got.map(rowAsRecord)).toEqual(recs.sort((a, b) => (a.url < b.url ? -1 : 1)).map(asStored));
  });

  it('reads standard input for - (`rawcrawl crawl … | rawcrawl import - --mysql URL`), once at most', async () => {
    const line = (n: number): string => JSON.stringify(storedFields(pageRecord({ url: `http://127.0.0.1/stdin/${n}`, final_url: `http://127.0.0.1/stdin/${n}` })));
    const m = memoryIo();
    const stdin = Readable.from([`${line(1)}\n${line(2).slice(0, 20)}`, `${line(2).slice(20)}\nnot json\n`]);
    const code = await main(['node', 'rawcrawl', 'import', '-', '--mysql', db.url], { ...m.io, stdin });
    expect(m.err()).toMatch(/^rawcrawl: standard input:3: skipped, not JSON \(.+\)\nrawcrawl: imported 2 records from standard input \(1 line skipped\)\n$/);
    expect(code).toBe(1);
    expect((await db.query<{ url: string }>("SELECT url FROM pages WHERE url LIKE 'http://127.0.0.1/stdin/%' ORDER BY url")).map((x) => x.url)).toEqual(['http://127.0.0.1/stdin/1', 'http://127.0.0.1/stdin/2']);
    const twice = await run('-', '-', '--mysql', 'mysql://root@127.0.0.1:1/none');
    expect([twice.code, twice.err]).toEqual([2, 'rawcrawl: ERR_INVALID_OPTION standard input (-) can be read once only\n']);
    const none = await run('-', '--mysql', 'mysql://root@127.0.0.1:1/none');
    expect([none.code, none.err]).toEqual([2, 'rawcrawl: ERR_INVALID_OPTION no standard input to read (-)\n']);
  });

  it('reports each line that is no record with file and line number, skips it, stores the others, exits 1', async () => {
    const dir = tmp();
    const file = path.join(dir, 'mixed.jsonl');
    const good = (n: number): string => JSON.stringify(storedFields(pageRecord({ url: `http://127.0.0.1/mixed/${n}`, final_url: `http://127.0.0.1/mixed/${n}` })));
    writeFileSync(
      file,
      '\uFEFF' +
        [
          good(1), // 1
          '{"url": "http://127.0.0.1/mixed/cut", "status": 2', // 2: cut short
          good(2), // 3
          JSON.stringify({ ...storedFields(pageRecord()), url: undefined }), // 4: no url
          '', // 5: blank, not counted
          '[1, 2]', // 6
          JSON.stringify({ ...storedFields(pageRecord({ url: 'http://127.0.0.1/mixed/bad-status' })), status: '200' }), // 7
          JSON.stringify({ ...storedFields(pageRecord({ url: 'http://127.0.0.1/mixed/bad-date' })), fetched_at: 'yesterday' }), // 8
          good(3), // 9
        ].join('\r\n') +
        '\r\n',
    );
    const r = await run(file, '--mysql', db.url);
    const lines = r.err.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^rawcrawl: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: skipped, not JSON \\(.+\\)$`));
    expect(lines.slice(1)).toEqual([
      `rawcrawl: ${file}:4: skipped, no url`,
      `rawcrawl: ${file}:6: skipped, not a record (a JSON object)`,
      `rawcrawl: ${file}:7: skipped, status is not a whole number or null`,
      `rawcrawl: ${file}:8: skipped, fetched_at is not a date`,
      `rawcrawl: imported 3 records from ${file} (5 lines skipped)`,
      '',
    ]);
    expect(r.code).toBe(1);
    const urls = (await db.query<{ url: string }>("SELECT url FROM pages WHERE url LIKE 'http://127.0.0.1/mixed/%' ORDER BY url")).map((x) => x.url);
    expect(urls).toEqual(['http://127.0.0.1/mixed/1', 'http://127.0.0.1/mixed/2', 'http://127.0.0.1/mixed/3']);
  });

  it('a CSV file given by mistake (`crawl -o pages.csv`) is one error line, not one per row', async () => {
    const dir = tmp();
    const file = path.join(dir, 'pages.csv');
    const rows = Array.from({ length: 500 }, (_, i) => `http://127.0.0.1/csv/${i},http://127.0.0.1/csv/${i},200,text/html,t,0,,1,2026-11-27T00:00:00.000Z,1,1.5,,`);
    writeFileSync(file, ['url,final_url,status,content_type,title,depth,referrer,bytes,fetched_at,attempts,total_ms,error,error_message', ...rows].join('\r\n') + '\r\n');
    const r = await run(file, '--mysql', db.url);
    expect(r.err).toBe(
      `rawcrawl: imported 0 records from ${file} (0 lines skipped)\n` +
        `rawcrawl: ERR_INVALID_OPTION ${file} is CSV (its first line is rawcrawl's CSV header row): import reads JSON Lines (crawl -o FILE.jsonl, or --format jsonl)\n`,
    );
    expect(r.code).toBe(1);
  });

  it('a file it cannot read: one error line, exit 1, nothing imported and the database not touched', async () => {
    const dir = tmp();
    const good = path.join(dir, 'good.jsonl');
    writeFileSync(good, JSON.stringify(storedFields(pageRecord({ url: 'http://127.0.0.1/never' }))) + '\n');
    const missing = path.join(dir, 'missing.jsonl');
    // The database is never reached (port 1): the files are checked first.
    const gone = await run(good, missing, '--mysql', 'mysql://root@127.0.0.1:1/none');
    expect(gone.err).toBe(`rawcrawl: ERR_STORAGE cannot read ${missing}: ENOENT\n`);
    expect(gone.code).toBe(1);
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    const isDir = await run(sub, '--mysql', db.url);
    expect(isDir.err).toBe(`rawcrawl: ERR_STORAGE cannot read ${sub}: EISDIR\n`);
    expect(isDir.code).toBe(1);
    expect(await db.query("SELECT url FROM pages WHERE url = 'http://127.0.0.1/never'")).toEqual([]);
  });

  it('takes the database from RAWCRAWL_MYSQL_URL when --mysql is not given; without either it is a usage error', async () => {
    const dir = tmp();
    const file = path.join(dir, 'env.jsonl');
    writeFileSync(file, JSON.stringify(storedFields(pageRecord({ url: 'http://127.0.0.1/from-env' }))) + '\n');
    const none = await run(file);
    expect(none.err).toBe('rawcrawl: ERR_INVALID_OPTION import needs --mysql URL (or RAWCRAWL_MYSQL_URL)\n');
    expect(none.code).toBe(2);
    process.env.RAWCRAWL_MYSQL_URL = db.url;
    try {
      const r = await run(file);
      expect(r.err).toBe(`rawcrawl: imported 1 record from ${file} (0 lines skipped)\n`);
      expect(r.code).toBe(0);
    } finally {
      delete process.env.RAWCRAWL_MYSQL_URL;
    }
    expect(await db.query("SELECT url, status FROM pages WHERE url = 'http://127.0.0.1/from-env'")).toEqual([{ url: 'http://127.0.0.1/from-env', status: 200 }]);
    const unreachable = await run(file, '--mysql', 'mysql://root@127.0.0.1:1/none');
    expect(unreachable.err).toMatch(/^rawcrawl: ERR_STORAGE cannot use MySQL at 127\.0\.0\.1:1\/none: ECONNREFUSED.*\n$/);
    expect(unreachable.code).toBe(1);
  });
});
