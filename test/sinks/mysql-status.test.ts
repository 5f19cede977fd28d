import { describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { main } from '../../src/cli/main.js';
import { connectMysql, urlHash } from '../../src/sinks/mysql.js';
import { crawlStatus } from '../../src/sinks/mysql-status.js';
import { useFreshDatabase } from '../helpers/mariadb.js';
import { memoryIo } from '../helpers/memory-io.js';

const db = useFreshDatabase({ schema: true });

/** A crawl made by hand: `rows` frontier rows per [state, lease seconds from now (claimed only)]. */
async function crawlWith(name: string, rows: Array<[state: string, leaseSeconds?: number]>): Promise<number> {
  await db.query('INSERT INTO crawls (name) VALUES (?)', [name]);
  const [c] = await db.query<{ id: number }>('SELECT id FROM crawls WHERE name = ?', [name]);
  const id = Number(c!.id);
  for (const [i, [state, lease]] of rows.entries()) {
    const url = `http://h${i % 2}.test/${name}/${i}`;
    await db.query(
      `INSERT INTO frontier (crawl_id, url_hash, url, host, depth, state, lease_owner, lease_expires)
       VALUES (?, ?, ?, ?, 0, ?, ?, ${lease === undefined ? 'NULL' : 'NOW(3) + INTERVAL ? SECOND'})`,
      [id, urlHash(url).subarray(0, 16), url, `h${i % 2}.test`, state, lease === undefined ? null : 'someone', ...(lease === undefined ? [] : [lease])],
    );
  }
  return id;
}

async function status(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const m = memoryIo();
  const code = await main(['node', 'rawcrawl', 'status', '--mysql', db.url, ...args], m.io);
  return { code, out: m.out(), err: m.err() };
}

describe('rawcrawl status', () => {
  it('tells claimed pages whose lease has expired (a killed process\'s) from those still held', async () => {
    await crawlWith('leases', [['claimed', -5], ['claimed', -5], ['claimed', 30], ['queued'], ['done']]);
    const text = await status('--crawl-id', 'leases');
    expect(text.code).toBe(0);
    expect(text.out).toContain('  queued 1  claimed 3 (2 past their lease)  done 1  failed 0  skipped 0\n');
    const json = await status('--crawl-id', 'leases', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ states: { claimed: 3 }, claimedLeaseExpired: 2 });
  });

  it('reads every count from one snapshot: states and hosts agree while processes write', async () => {
    const id = await crawlWith('moving', Array.from({ length: 20 }, (): [string] => ['queued']));
    const pool = await connectMysql(db.url);
    const writer = await mysql.createConnection({ uri: db.url });
    let moved = false;
    // After the counts by state are read, another process finishes every queued page.
    const move = async (sql: unknown): Promise<void> => {
      if (!moved && String(sql).includes('GROUP BY state')) {
        moved = true;
        await writer.query("UPDATE frontier SET state = 'done' WHERE crawl_id = ? AND state = 'queued'", [id]);
      }
    };
    const watched = (q: mysql.Pool['query'], self: unknown): mysql.Pool['query'] =>
      (async (...args: Parameters<mysql.Pool['query']>) => {
        const r = await (q as (...a: unknown[]) => Promise<unknown>).apply(self, args);
        await move(args[0]);
        return r;
      }) as unknown as mysql.Pool['query'];
    const getConnection = pool.getConnection.bind(pool);
    const spy = Object.assign(Object.create(pool) as mysql.Pool, {
      query: watched(pool.query, pool),
      getConnection: async () => {
        const conn = await getConnection();
        return Object.assign(Object.create(conn) as mysql.PoolConnection, { query: watched(conn.query, conn) });
      },
    });
    try {
      const s = (await crawlStatus(spy, 'moving'))!;
      expect(moved).toBe(true);
      const byHost = s.hosts.reduce((n, h) => ({ queued: n.queued + h.queued, done: n.done + h.done }), { queued: 0, done: 0 });
      expect(byHost).toEqual({ queued: s.states.queued, done: s.states.done });
    } finally {
      await writer.end();
      await pool.end();
    }
  });
});
