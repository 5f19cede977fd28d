import type mysql from 'mysql2/promise';

/** Counts for `rawcrawl status`. */
export interface CrawlStatus {
  name: string;
  createdAt: Date;
  states: Record<string, number>;
  /** Claimed pages whose lease has expired: their process is gone (or stalled); another takes them. */
  claimedLeaseExpired: number;
  /** The STATUS_HOSTS hosts with the most URLs. */
  hosts: Array<{ host: string; queued: number; claimed: number; done: number; failed: number }>;
  /** Hosts with URLs in the crawl, all of them. */
  hostCount: number;
  pagesPerSecondLastMinute: number;
  /** Pages counted toward maxPages (kept only when the crawl has one). */
  pagesCounted: number;
  maxPages: number | null;
}

/** Hosts crawlStatus() lists by name. */
export const STATUS_HOSTS = 20;

export async function crawlStatus(pool: mysql.Pool, name: string): Promise<CrawlStatus | null> {
  // One connection, one snapshot: the counts by state, by host and the rest are of one moment,
  // however fast the crawl's processes write meanwhile.
  const conn = await pool.getConnection();
  try {
    await conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    try {
      return await readStatus(conn, name);
    } finally {
      await conn.query('COMMIT').catch(() => {});
    }
  } finally {
    conn.release();
  }
}

async function readStatus(pool: mysql.PoolConnection, name: string): Promise<CrawlStatus | null> {
  let crawls: mysql.RowDataPacket[];
  try {
    [crawls] = await pool.query<mysql.RowDataPacket[]>('SELECT id, created_at, max_pages, pages_counted FROM crawls WHERE name = ?', [name]);
  } catch (err) {
    // A database no crawl ever used has no tables: no such crawl in it.
    if ((err as { code?: string }).code === 'ER_NO_SUCH_TABLE') return null;
    throw err;
  }
  const c = crawls[0];
  if (!c) return null;
  const id = Number(c.id);
  const [states] = await pool.query<mysql.RowDataPacket[]>('SELECT state, COUNT(*) AS n FROM frontier WHERE crawl_id = ? GROUP BY state', [id]);
  const [[expired]] = await pool.query<mysql.RowDataPacket[]>(
    "SELECT COUNT(*) AS n FROM frontier WHERE crawl_id = ? AND state = 'claimed' AND lease_expires < NOW(3)",
    [id],
  );
  const [hosts] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT host, SUM(state = 'queued') AS queued, SUM(state = 'claimed') AS claimed, SUM(state = 'done') AS done, SUM(state = 'failed') AS failed
     FROM frontier WHERE crawl_id = ? GROUP BY host ORDER BY COUNT(*) DESC LIMIT ?`,
    [id, STATUS_HOSTS],
  );
  const [[hostCount]] = await pool.query<mysql.RowDataPacket[]>('SELECT COUNT(DISTINCT host) AS n FROM frontier WHERE crawl_id = ?', [id]);
  // Over the last minute, or over the crawl's life when it is younger than that (by the
  // database's clock, as updated_at).
  const [recent] = await pool.query<mysql.RowDataPacket[]>(
    `SELECT COUNT(*) AS n, LEAST(60, GREATEST(1, TIMESTAMPDIFF(MICROSECOND, (SELECT created_at FROM crawls WHERE id = ?), NOW(3)) / 1000000)) AS seconds
     FROM frontier WHERE crawl_id = ? AND state IN ('done', 'failed') AND updated_at >= NOW(3) - INTERVAL 60 SECOND`,
    [id, id],
  );
  return {
    name,
    createdAt: c.created_at as Date,
    states: Object.fromEntries(['queued', 'claimed', 'done', 'failed', 'skipped'].map((s) => [s, Number(states.find((r) => r.state === s)?.n ?? 0)])),
    claimedLeaseExpired: Number(expired?.n ?? 0),
    hosts: hosts.map((h) => ({ host: String(h.host), queued: Number(h.queued), claimed: Number(h.claimed), done: Number(h.done), failed: Number(h.failed) })),
    hostCount: Number(hostCount?.n ?? 0),
    pagesPerSecondLastMinute: Number(recent[0]!.n) / Number(recent[0]!.seconds),
    pagesCounted: Number(c.pages_counted),
    maxPages: c.max_pages === null ? null : Number(c.max_pages),
  };
}
