import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { connectMysql } from '../../src/sinks/mysql.js';
import { joinCrawl, MysqlFrontier, type SharedCrawlOptions } from '../../src/sinks/mysql-frontier.js';
import { useFreshDatabase } from '../helpers/mariadb.js';
import { cuttableProxy } from '../helpers/mysql-proxy.js';

const db = useFreshDatabase({ schema: true });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One process's frontier of crawl `name` (--per-host 1 unless `shared` says otherwise). */
async function frontierAt(url: string, name: string, shared: Partial<SharedCrawlOptions> = {}): Promise<MysqlFrontier> {
  const pool = await connectMysql(url);
  const crawl = await joinCrawl(pool, name, { startUrls: ['http://a.test/'], allowHosts: [], include: [], exclude: [], storeOnly: [], maxDepth: null, maxPages: null, perHost: 1, delayMs: 0, ...shared });
  return new MysqlFrontier(pool, crawl, { onRecord: async () => {}, onChange: () => {} });
}

/** acquireSlot() asked again until it gives the slot (0): how long that took, in ms. */
async function acquiredWithin(f: MysqlFrontier, host: string, ms: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const got = await f.acquireSlot(host);
    if (got === 0) return Date.now() - t0;
    if (Date.now() - t0 > ms) throw new Error(`no slot of ${host} in ${ms} ms (last answer ${got})`);
    await sleep(Math.max(5, got));
  }
}

/** For `ms`, every acquireSlot() of the host says its one slot is this process's and busy (-1). */
async function expectBusyFor(f: MysqlFrontier, host: string, ms: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    expect(await f.acquireSlot(host)).toBe(-1);
    await sleep(20);
  }
}

/**
 * Holds the host's crawl_hosts row locked from a connection of its own, so that a `starter`
 * UPDATE waits for it on the server; unblock() lets it through.
 */
async function blockStarter(crawl: string, host: string): Promise<{ unblock: () => Promise<void> }> {
  const conn = await mysql.createConnection(db.url);
  await conn.query('START TRANSACTION');
  await conn.query('SELECT h.host FROM crawl_hosts h JOIN crawls c ON c.id = h.crawl_id WHERE c.name = ? AND h.host = ? FOR UPDATE', [crawl, host]);
  return {
    unblock: async () => {
      await conn.query('ROLLBACK');
      await conn.end();
    },
  };
}

/** Waits until a `starter` UPDATE of the host is running on the server (waiting for the row). */
async function starterWaiting(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const rows = await db.query<{ id: number }>("SELECT id FROM information_schema.PROCESSLIST WHERE db = ? AND info LIKE 'UPDATE crawl_hosts SET starter = %'", [db.name]);
    if (rows.length > 0) return Number(rows[0]!.id);
    await sleep(10);
  }
  throw new Error('no starter UPDATE reached the server');
}

describe('--crawl-id host slots after the database went away for a moment', () => {
  it('a request in flight when the lock connection is lost keeps its slot: no second request to the host starts beside it', async () => {
    const proxy = await cuttableProxy(db.name);
    const f = await frontierAt(proxy.url, 'slots-inflight');
    try {
      expect(await f.acquireSlot('a.test')).toBe(0);
      await proxy.cut();
      await sleep(100);
      await proxy.restore();
      // Its lock went with the connection, not the request: --per-host 1 still holds.
      await expectBusyFor(f, 'a.test', 1000);
      f.releaseSlot('a.test');
      expect(await acquiredWithin(f, 'a.test', 5000)).toBeLessThan(5000);
    } finally {
      await f.close();
      await proxy.close();
    }
  });

  it('a start granted while the lock connection was lost is counted in flight, and its slot locked again before it runs', async () => {
    const proxy = await cuttableProxy(db.name);
    const f = await frontierAt(proxy.url, 'slots-granted', { delayMs: 50 });
    const other = await frontierAt(db.url, 'slots-granted');
    try {
      expect(await f.acquireSlot('b.test')).toBe(0);
      f.sent('b.test');
      f.releaseSlot('b.test');
      await sleep(100);
      // The next start locks the slot, then waits on the server for its grant; the connections
      // are cut meanwhile, and the grant statement (killed on the server) is sent again.
      const block = await blockStarter('slots-granted', 'b.test');
      const granting = f.acquireSlot('b.test');
      const id = await starterWaiting();
      await proxy.cut();
      await db.query(`KILL QUERY ${id}`);
      await block.unblock();
      await proxy.restore();
      expect(await granting).toBe(0);
      // That request runs, and holds the slot: neither this process nor another starts one beside it.
      await expectBusyFor(f, 'b.test', 1000);
      expect(await other.acquireSlot('b.test')).toBeGreaterThan(0);
      f.sent('b.test');
      f.releaseSlot('b.test');
      // Given back once: the other process gets the slot (no lock left behind on the connection).
      expect(await acquiredWithin(other, 'b.test', 3000)).toBeLessThan(3000);
    } finally {
      await f.close();
      await other.close();
      await proxy.close();
    }
  });

  it('a start grant written by the server but whose reply was lost is recognised when asked again, not waited out for its lease', async () => {
    const proxy = await cuttableProxy(db.name);
    const f = await frontierAt(proxy.url, 'starter-lost-reply', { delayMs: 50 });
    try {
      expect(await f.acquireSlot('c.test')).toBe(0);
      f.sent('c.test');
      f.releaseSlot('c.test');
      await sleep(100);
      const block = await blockStarter('starter-lost-reply', 'c.test');
      const t0 = Date.now();
      const granting = f.acquireSlot('c.test');
      await starterWaiting();
      // Cut with the UPDATE waiting on the server: it goes on there, and sets `starter` once
      // the row is free, but its reply is lost. The statement is sent again.
      await proxy.cut();
      await block.unblock();
      await proxy.restore();
      // The grant is this process's own (the lease is 30 s): it starts within seconds.
      expect(await granting).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      const [row] = await db.query<{ starter: string | null }>("SELECT starter FROM crawl_hosts WHERE host = 'c.test'");
      expect(row!.starter).toBe(f.owner);
      f.sent('c.test');
      f.releaseSlot('c.test');
    } finally {
      await f.close();
      await proxy.close();
    }
  });
});
