import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pool } from 'mysql2/promise';
import { crawl } from '../../src/crawl/crawler.js';
import type { PageRecord } from '../../src/crawl/record.js';
import { connectMysql, MysqlSink, schemaStatements, urlHash } from '../../src/sinks/mysql.js';
import { fixtureSite } from '../helpers/fixture-site.js';
import { useFreshDatabase } from '../helpers/mariadb.js';
import { cuttableProxy } from '../helpers/mysql-proxy.js';
import { pageRecord } from '../helpers/page-record.js';

const db = useFreshDatabase();

/** JSON columns come back parsed or as text, depending on the server's type flags. */
function json(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

function record(i: number, extra: Partial<PageRecord> = {}): PageRecord {
  return pageRecord({
    url: `http://example.test/p/${i}`,
    final_url: `http://example.test/p/${i}`,
    title: `Page ${i}`,
    fields: { n: String(i) },
    depth: 1,
    bytes: 100 + i,
    fetched_at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)).toISOString(),
    timings: { dns: 0, connect: 1, tls: 1, firstByte: 2, total: 3 },
    ...extra,
  });
}

async function crawlInto(url: string, origin: string): Promise<number> {
  const sink = new MysqlSink(await connectMysql(url));
  for await (const r of crawl({ startUrls: [`${origin}/`], parseThreads: 0, backoff: { baseMs: 5, capMs: 20 }, selects: [['h1', 'h1']] })) await sink.write(r);
  await sink.close();
  return sink.written;
}

describe('MySQL sink (real MariaDB)', () => {
  it('applies schema.sql idempotently and creates pages as utf8mb4 with a unique URL hash', async () => {
    expect(schemaStatements().length).toBeGreaterThanOrEqual(1);
    await (await connectMysql(db.url)).end();
    await (await connectMysql(db.url)).end();
    const [table] = await db.query<{ TABLE_COLLATION: string }>('SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 'pages']);
    expect(table!.TABLE_COLLATION).toMatch(/^utf8mb4/);
    const idx = await db.query<{ Key_name: string; Non_unique: number; Column_name: string }>('SHOW INDEX FROM pages');
    expect(idx.find((i) => i.Key_name === 'uq_pages_url_hash')).toMatchObject({ Non_unique: 0, Column_name: 'url_hash' });
  });

  it('stores every crawled page once, verbatim, and a re-run adds no rows', async () => {
    const site = await fixtureSite();
    try {
      await db.query('DELETE FROM pages');
      const written = await crawlInto(db.url, site.origin);
      const rows = await db.query<{ url: string; title: string | null; status: number; fields: unknown; url_hash: Buffer; fetched_at: Date; timings: unknown }>('SELECT * FROM pages');
      expect(rows.length).toBe(written);
      expect(rows.length).toBe(20);
      const byPath = new Map(rows.map((r) => [new URL(r.url).pathname, r]));
      expect(byPath.get('/gbk')!.title).toBe('中文标题');
      expect(byPath.get('/sql')!.title).toBe("'); DROP TABLE pages; --");
      expect(byPath.get('/missing')!.status).toBe(404);
      expect(json(byPath.get('/a')!.fields)).toEqual({ h1: 'Page A' });
      expect(Buffer.compare(byPath.get('/a')!.url_hash, urlHash(`${site.origin}/a`))).toBe(0);
      expect((json(byPath.get('/a')!.timings) as { total: number }).total).toBeGreaterThan(0);
      const [hex] = await db.query<{ h: string }>("SELECT HEX(title) AS h FROM pages WHERE url LIKE '%/gbk'");
      expect(hex!.h).toBe(Buffer.from('中文标题', 'utf8').toString('hex').toUpperCase());

      // A re-run of the same crawl updates the rows it stored; it adds none.
      const second = await crawlInto(db.url, site.origin);
      expect(second).toBe(20);
      const [c] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM pages');
      expect(Number(c!.n)).toBe(20);
    } finally {
      await site.close();
    }
  });

  it('upserts: writing the same records twice leaves one row each with the newer values', async () => {
    await db.query('DELETE FROM pages');
    const sink = new MysqlSink(await connectMysql(db.url), { batchSize: 7 });
    for (let i = 0; i < 50; i++) await sink.write(record(i));
    await sink.close();
    const sink2 = new MysqlSink(await connectMysql(db.url), { batchSize: 7 });
    for (let i = 0; i < 50; i++) await sink2.write(record(i, { status: 410 }));
    await sink2.close();
    const [c] = await db.query<{ n: number; s: string }>('SELECT COUNT(*) AS n, GROUP_CONCAT(DISTINCT status) AS s FROM pages');
    expect(Number(c!.n)).toBe(50);
    expect(String(c!.s)).toBe('410');
    const [row] = await db.query<{ fetched_at: Date }>("SELECT fetched_at FROM pages WHERE url = 'http://example.test/p/3'");
    expect(row!.fetched_at.toISOString()).toBe('2026-01-02T03:04:05.678Z');
  });

  it('creates the database the URL names when it does not exist (utf8mb4), then its tables', async () => {
    // A dot is part of the name, not a schema.table qualifier.
    const name = `${db.name}_new-db.v2`;
    const url = db.url.replace(/\/[^/]*$/, `/${encodeURIComponent(name)}`);
    try {
      const pool = await connectMysql(url);
      await pool.end();
      const [schema] = await db.query<{ DEFAULT_CHARACTER_SET_NAME: string }>('SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
      expect(schema!.DEFAULT_CHARACTER_SET_NAME).toBe('utf8mb4');
      const tables = await db.query<{ TABLE_NAME: string }>('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [name]);
      expect(tables.map((t) => t.TABLE_NAME)).toContain('pages');
    } finally {
      await db.query(`DROP DATABASE IF EXISTS \`${name}\``);
    }
  });

  it('refuses, at start, a table that lacks a column schema.sql has (not "applied", then every record refused)', async () => {
    const name = `${db.name}_old`;
    const url = db.url.replace(/\/[^/]*$/, `/${name}`);
    try {
      await (await connectMysql(url)).end();
      await db.query(`ALTER TABLE \`${name}\`.pages DROP COLUMN leniencies`);
      await expect(connectMysql(url)).rejects.toMatchObject({
        code: 'ERR_STORAGE',
        message: expect.stringMatching(/: table pages has no column leniencies \(schema\.sql has it\)$/),
      });
    } finally {
      await db.query(`DROP DATABASE IF EXISTS \`${name}\``);
    }
  });

  it('works for a user who may read and write the tables but not create them, once they exist', async () => {
    const name = `${db.name}_dml`;
    const user = `rawcrawl_t_${process.pid}`;
    const url = db.url.replace(/\/[^/]*$/, `/${name}`);
    try {
      await (await connectMysql(url)).end();
      await db.query(`CREATE USER '${user}'@'127.0.0.1'`);
      await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${name}\`.* TO '${user}'@'127.0.0.1'`);
      const sink = new MysqlSink(await connectMysql(url.replace('//root@', `//${user}@`)));
      await sink.write(record(1));
      await sink.close();
      expect(sink.error).toBeNull();
      const [c] = await db.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${name}\`.pages`);
      expect(Number(c!.n)).toBe(1);
    } finally {
      await db.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
      await db.query(`DROP DATABASE IF EXISTS \`${name}\``);
    }
  });

  it('fails with one clear error when MySQL is unreachable at start', async () => {
    await expect(connectMysql('mysql://root@127.0.0.1:1/test')).rejects.toMatchObject({ code: 'ERR_STORAGE', message: expect.stringMatching(/cannot use MySQL at 127\.0\.0\.1:1\/test: ECONNREFUSED/) });
    await expect(connectMysql('postgres://x/y')).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
  });

  it('retries a deadlocked batch (1213) instead of losing it', async () => {
    let calls = 0;
    const fake = {
      query: async () => {
        calls++;
        if (calls <= 2) throw Object.assign(new Error('Deadlock found when trying to get lock'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' });
        return [[], []];
      },
      end: async () => {},
    };
    const sink = new MysqlSink(fake as unknown as Pool, { batchSize: 3 });
    for (let i = 0; i < 3; i++) await sink.write(record(i));
    await sink.close();
    expect(calls).toBe(3);
    expect(sink.written).toBe(3);
  });

  it('holds records while the database is away and writes them when it is back', async () => {
    await db.query('DELETE FROM pages');
    const proxy = await cuttableProxy(db.name);
    const sink = new MysqlSink(await connectMysql(proxy.url), { batchSize: 10, flushIntervalMs: 20, giveUpMs: 20_000 });
    for (let i = 0; i < 10; i++) await sink.write(record(i));
    await new Promise((r) => setTimeout(r, 200));
    await proxy.cut();
    for (let i = 10; i < 40; i++) await sink.write(record(i));
    await new Promise((r) => setTimeout(r, 800));
    expect(sink.pending).toBeGreaterThan(0);
    await proxy.restore();
    await sink.close();
    expect(sink.error).toBeNull();
    const [c] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM pages');
    expect(Number(c!.n)).toBe(40);
    await proxy.close();
  });

  it('a row MySQL refuses goes to the spill file; the rest of its batch and later ones are stored', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-refused-'));
    const sink = new MysqlSink(await connectMysql(db.url), { batchSize: 5, flushIntervalMs: 10, spillDir: dir });
    // 70,000 characters: more than the url column (TEXT) holds. The crawler keeps URLs shorter
    // (maxUrlLength); the sink must not lose the batch when a row gets past that anyway.
    const huge = `http://example.test/${'a'.repeat(70_000)}`;
    for (let i = 0; i < 12; i++) await sink.write(i === 3 ? record(900 + i, { url: huge }) : record(900 + i));
    await sink.close();
    expect(sink.written).toBe(11);
    expect(sink.refusedRows).toBe(1);
    const [c] = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM pages WHERE url LIKE 'http://example.test/p/9__'");
    expect(Number(c!.n)).toBe(11);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const spilled = readFileSync(path.join(dir, files[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PageRecord);
    expect(spilled.map((r) => r.url)).toEqual([huge]);
    expect(sink.error).toMatchObject({ code: 'ERR_STORAGE' });
    expect(sink.error!.message).toMatch(/^MySQL refused 1 record \(first: ER_DATA_TOO_LONG [^\n]*\(http:\/\/example\.test\/a+…\)\); written to /);
    expect(sink.error!.message).toContain(path.join(dir, files[0]!));
  });

  it('after the give-up limit writes held records to a JSONL file and says where', async () => {
    const proxy = await cuttableProxy(db.name);
    const dir = mkdtempSync(path.join(tmpdir(), 'rawcrawl-spill-'));
    const sink = new MysqlSink(await connectMysql(proxy.url), { batchSize: 5, flushIntervalMs: 10, giveUpMs: 600, spillDir: dir });
    await proxy.cut();
    for (let i = 0; i < 12; i++) await sink.write(record(100 + i));
    await sink.close();
    expect(sink.error).toMatchObject({ code: 'ERR_STORAGE' });
    const files = readdirSync(dir);
    expect(files.length).toBe(1);
    expect(sink.error!.message).toContain(path.join(dir, files[0]!));
    expect(sink.error!.message).toMatch(/12 unsaved records written to/);
    const lines = readFileSync(path.join(dir, files[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PageRecord);
    expect(lines.map((l) => l.url)).toEqual(Array.from({ length: 12 }, (_, i) => `http://example.test/p/${100 + i}`));
  });

  it('a spill file that cannot be written either (a full disk) is one ERR_STORAGE saying so, not a crash', async () => {
    const proxy = await cuttableProxy(db.name);
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'rawcrawl-spill-')), 'gone');
    const sink = new MysqlSink(await connectMysql(proxy.url), { batchSize: 5, flushIntervalMs: 10, giveUpMs: 300, spillDir: dir });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await proxy.cut();
      for (let i = 0; i < 12; i++) await sink.write(record(200 + i));
      await sink.close();
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await proxy.close();
    }
    expect(unhandled).toEqual([]);
    expect(sink.error).toMatchObject({ code: 'ERR_STORAGE' });
    expect(sink.error!.message).toMatch(/^MySQL unreachable for 0 s \(\w+\); 12 unsaved records could not be written to .*\/gone\/rawcrawl-unsaved-[^ ]+\.jsonl either: ENOENT$/);
  });
});
