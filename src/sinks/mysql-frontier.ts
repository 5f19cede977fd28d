import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type mysql from 'mysql2/promise';
import { RawcrawlError } from '../errors.js';
import type { FrontierEntry } from '../crawl/frontier.js';
import type { BackendContext, Completion, FrontierBackend, NewEntry, Take } from '../crawl/frontier-backend.js';
import { SeenSet } from '../crawl/seen-set.js';
import { appendSpill, isConnectionError, pageUpsert, RETRY_SAME, spillFileName } from './mysql.js';
import { HostSlots, OWN_SLOTS_BUSY } from './mysql-host-slots.js';

/** Completions held in memory before workers wait for the database. */
const MAX_PENDING = 1024;

/**
 * What acquireSlot() holds a host's slot under, where a taken entry's key is its URL hash (hex):
 * one at a time, as the crawl reads its sitemaps one after another.
 */
const SLOT_KEY = 'acquired';

/** How often a process with nothing to take looks for dead processes' leases on its machine. */
const REAP_EVERY_MS = 2000;

/**
 * What tells processes whose process ids mean the same thing apart from others: a digest of the
 * kernel's boot id and the PID namespace (Linux). Two processes with the same tag are on one
 * machine, in one boot, and see each other's pids; '' where this cannot be known (then a dead
 * process's leases are only ever taken once they expire).
 */
function pidSpaceTag(): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const ns = readlinkSync('/proc/self/ns/pid');
    return createHash('sha1').update(`${boot}\n${ns}`).digest('hex').slice(0, 8);
  } catch {
    return '';
  }
}

/** True when process `pid` exists (EPERM: it does, owned by another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What the first process of a crawl decides for all: scope and limits. */
export interface SharedCrawlOptions {
  startUrls: string[];
  allowHosts: string[];
  include: string[];
  exclude: string[];
  storeOnly: string[];
  maxDepth: number | null;
  maxPages: number | null;
  perHost: number;
  delayMs: number;
  /**
   * What each page's record holds, and how pages are asked for: every process of a crawl must do
   * the same, or its rows would differ by the process that fetched them. (Absent in crawls
   * stored before these were shared: each process then keeps its own.)
   */
  selects?: Array<[string, string]>;
  selectAll?: Array<[string, string]>;
  storeBody?: boolean;
  ignoreRobots?: boolean;
  skipBinary?: boolean;
  userAgent?: string | null;
}

export interface MysqlFrontierOptions {
  /** Lease on claimed URLs and host slots; renewed every third of it (default 30 s). */
  leaseMs?: number;
  /** URLs claimed per query (default 32). */
  claimBatch?: number;
  /** Completions written per transaction (default 64), or after flushIntervalMs (default 25 ms). */
  flushBatch?: number;
  flushIntervalMs?: number;
  /**
   * How long a MySQL server that went away is waited for (default 60 s, as --mysql-give-up):
   * after that the crawl stops with ERR_STORAGE, and the records of pages fetched but not yet
   * stored go to a JSONL file in `spillDir` (default: the current directory). Their URLs stay
   * claimed, so the same command run again fetches them again.
   */
  giveUpMs?: number;
  spillDir?: string;
  /** How often `queued` (the progress line's figure) counts the crawl's queued rows again (default 5 s). */
  queuedCountMs?: number;
  /**
   * The server went away (a statement lost its connection): said once, with the first error, as
   * the frontier starts waiting and retrying (progress output).
   */
  onAway?: (err: Error) => void;
  /** A statement got through again after onAway: how long the server was away (ms). */
  onBack?: (awayMs: number) => void;
}

export interface JoinedCrawl {
  crawlId: number;
  name: string;
  /** True when this process created the crawl. */
  created: boolean;
  options: SharedCrawlOptions;
}

interface Claimed extends FrontierEntry {
  hash: Buffer;
  host: string;
}

export function frontierHash(url: string): Buffer {
  return createHash('sha256').update(url).digest().subarray(0, 16);
}

/** Creates the crawl row, or joins the existing one and returns its stored scope and limits. */
export async function joinCrawl(pool: mysql.Pool, name: string, mine: SharedCrawlOptions): Promise<JoinedCrawl> {
  if (!/^[\w.:-]{1,191}$/.test(name)) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `--crawl-id ${JSON.stringify(name)} must be 1-191 letters, digits, "_", ".", ":" or "-"`);
  }
  const [res] = await pool.query<mysql.ResultSetHeader>(
    'INSERT IGNORE INTO crawls (name, options, max_pages) VALUES (?, ?, ?)',
    [name, JSON.stringify(mine), mine.maxPages],
  );
  const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT id, options FROM crawls WHERE name = ?', [name]);
  const row = rows[0]!;
  const stored = typeof row.options === 'string' ? (JSON.parse(row.options) as SharedCrawlOptions) : (row.options as SharedCrawlOptions);
  return { crawlId: Number(row.id), name, created: res.affectedRows === 1, options: stored };
}

/**
 * The persistent frontier: URLs, states and the seen-set in MySQL, shared by every process that
 * runs the same crawl. Claims are small batches under `FOR UPDATE SKIP LOCKED`; per-host
 * politeness is a row per host (last start) plus named locks (in-flight slots); a completed page's
 * links are committed, then its page row and its done mark in one transaction (exactly-once rows).
 */
export class MysqlFrontier implements FrontierBackend {
  /** Lease owner: host name, pid, a random part, and the pid space's tag (pidSpaceTag()). */
  readonly owner: string;
  private readonly pidTag = pidSpaceTag();
  private lastReap = 0;
  private readonly leaseMs: number;
  private readonly claimBatch: number;
  private readonly flushBatch: number;
  private readonly flushIntervalMs: number;
  private readonly queuedCountMs: number;
  private local: Claimed[] = [];
  private readonly inFlight = new Map<string, Claimed>();
  private readonly hosts: HostSlots;
  private readonly seenCache = new SeenSet();
  private pending: Completion[] = [];
  /** Writers waiting for the pending list to shrink below MAX_PENDING. */
  private roomWaiters: Array<() => void> = [];
  private failure: unknown = null;
  private flushing: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout;
  private claiming: Promise<void> | null = null;
  private stopped = false;
  private exhausted = false;
  private lastEmptyCheck = 0;
  /** Found over for this process: later takes end at once. */
  private over = false;
  private queuedApprox = 0;
  /** The count of queued rows under way (see queued), and when the last one began. */
  private counting: Promise<void> | null = null;
  private lastCount = 0;
  /** Pooled connections already switched to READ COMMITTED (see readCommitted()). */
  private readonly readCommittedConns = new WeakSet<object>();
  /** Queries this backend ran (for the benchmark's cost per page). */
  queries = 0;
  private readonly giveUpMs: number;
  private readonly spillDir: string | undefined;
  /** The one spill file of this process, once records had to go there. */
  private spillFile: string | null = null;
  /** Once the database is given up on: why, the one error every caller gets, records spilled. */
  private givenUp: { reason: string; error: RawcrawlError; spilled: number } | null = null;
  /** When a statement first lost its connection, until one gets through again (0: not away). */
  private awaySince = 0;
  private readonly onAway: ((err: Error) => void) | undefined;
  private readonly onBack: ((awayMs: number) => void) | undefined;

  constructor(
    private readonly pool: mysql.Pool,
    private readonly crawl: JoinedCrawl,
    private readonly ctx: Pick<BackendContext, 'onRecord' | 'onChange'>,
    options: MysqlFrontierOptions = {},
  ) {
    this.owner = `${hostname().slice(0, 30)}:${process.pid}:${randomBytes(4).toString('hex')}${this.pidTag ? `:${this.pidTag}` : ''}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.giveUpMs = options.giveUpMs ?? 60_000;
    this.spillDir = options.spillDir;
    this.claimBatch = options.claimBatch ?? 32;
    this.flushBatch = options.flushBatch ?? 64;
    this.flushIntervalMs = options.flushIntervalMs ?? 25;
    this.queuedCountMs = options.queuedCountMs ?? 5000;
    this.onAway = options.onAway;
    this.onBack = options.onBack;
    this.hosts = new HostSlots({
      pool,
      crawlId: crawl.crawlId,
      perHost: crawl.options.perHost,
      delayMs: crawl.options.delayMs,
      owner: this.owner,
      leaseMs: this.leaseMs,
      q: <T extends mysql.RowDataPacket[] | mysql.ResultSetHeader>(sql: string, params: unknown[]) => this.q<T>(sql, params),
      retrying: (statement, onLost) => this.retrying(statement, onLost),
      counted: () => {
        this.queries++;
      },
      waitingFor: (host) => this.local.filter((e) => e.host === host).length,
    });
    this.renewTimer = setInterval(() => void this.renew().catch(() => {}), Math.max(200, this.leaseMs / 3));
    this.renewTimer.unref();
  }

  /**
   * URLs waiting in the whole crawl (all processes) as last counted, plus this process's claimed
   * and not started. Counted again at most every queuedCountMs, beside the crawl (a read of
   * the frontier's state index, not a round trip in a take).
   */
  get queued(): number {
    if (!this.counting && !this.stopped && !this.givenUp && Date.now() - this.lastCount >= this.queuedCountMs) {
      this.lastCount = Date.now();
      this.counting = this.pool
        .query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM frontier WHERE crawl_id = ? AND state = 'queued'", [this.crawl.crawlId])
        .then(([rows]) => {
          this.queuedApprox = Number(rows[0]?.n ?? 0);
        })
        .catch(() => {
          // Only a figure for the progress line: the next count may do better.
        })
        .finally(() => {
          this.counting = null;
        });
    }
    return this.queuedApprox + this.local.length;
  }

  /** One statement; a lost connection is retried with backoff for up to giveUpMs. */
  private q<T extends mysql.RowDataPacket[] | mysql.ResultSetHeader>(sql: string, params: unknown[] = []): Promise<T> {
    return this.retrying(async () => (await this.pool.query<T>(sql, params))[0]);
  }

  /**
   * `statement` (one query, counted), tried again with backoff (backOff()) while the server is
   * away; `onLost` runs after each failure that lost the connection.
   */
  private async retrying<T>(statement: () => Promise<T>, onLost?: () => void): Promise<T> {
    let firstFailure = 0;
    for (let attempt = 1; ; attempt++) {
      this.queries++;
      try {
        const out = await statement();
        this.reached();
        return out;
      } catch (err) {
        if (onLost && isConnectionError(err as { code?: string; fatal?: boolean })) onLost();
        firstFailure ||= Date.now();
        await this.backOff(err, attempt, firstFailure);
      }
    }
  }

  /** A statement or transaction got through: the server is back, if it was away. */
  private reached(): void {
    if (!this.awaySince) return;
    const awayMs = Date.now() - this.awaySince;
    this.awaySince = 0;
    this.onBack?.(awayMs);
  }

  /**
   * After a failed statement or transaction: throws ERR_STORAGE when it is not a lost connection
   * (or a deadlock, `retrySame`) or when the server has been away for giveUpMs; else waits.
   */
  private async backOff(err: unknown, attempt: number, firstFailure: number, retrySame = false): Promise<void> {
    const e = err as { code?: string; message?: string; fatal?: boolean };
    if (err instanceof RawcrawlError) throw err;
    // Given up already (by another statement): no statement waits again.
    if (this.givenUp) throw this.givenUp.error;
    if (!retrySame && !isConnectionError(e)) throw new RawcrawlError('ERR_STORAGE', `MySQL refused a frontier statement: ${e.code ?? ''} ${e.message ?? String(err)}`.trim(), { cause: err });
    if (!retrySame && Date.now() - firstFailure > this.giveUpMs) {
      throw new RawcrawlError('ERR_STORAGE', `MySQL unreachable for ${Math.round(this.giveUpMs / 1000)} s (${e.code ?? e.message ?? String(err)})`, { cause: err });
    }
    if (!retrySame && !this.awaySince) {
      // Said once for all the statements waiting, not once per statement.
      this.awaySince = Date.now();
      this.onAway?.(err as Error);
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, 5 * 2 ** attempt) * (0.5 + Math.random() / 2)));
  }

  async seed(entries: NewEntry[]): Promise<number> {
    const added = await this.transaction(async (conn) => this.insertLinks(conn, entries));
    // Seeded during the crawl (sitemaps): a crawl found over may have work again.
    this.over = false;
    return added;
  }

  get full(): boolean {
    return this.stopped || this.exhausted;
  }

  private takeLock: Promise<unknown> = Promise.resolve();

  /** One take at a time: a take looks at and removes local entries across awaits. */
  take(now: number): Promise<Take> {
    const next = this.takeLock.then(() => this.takeOne(now)).catch((err: unknown) => {
      // Given up on the database here (a claim, a host slot): what is pending goes to the spill file.
      this.failure ??= this.spillOnFailure(err, []);
      throw this.failure;
    });
    this.takeLock = next.catch(() => {});
    return next;
  }

  private async takeOne(_now: number): Promise<Take> {
    if (this.failure) throw this.failure;
    if (this.stopped) return this.inFlight.size > 0 || this.pending.length > 0 ? { waitMs: -1 } : null;
    // The crawl was found over (nothing queued or claimed anywhere, or the budget spent and
    // nothing claimed): each of the other workers ends at once, not after a check of its own
    // (at most one per 250 ms: 20 workers took 5 s to leave).
    if (this.over) return null;
    if (this.local.length < this.claimBatch / 2 && !this.claiming) {
      this.claiming = this.claim()
        .catch((err: unknown) => {
          // Nobody may be waiting for this claim: the next take() reports the failure.
          this.failure ??= this.spillOnFailure(err, []);
        })
        .finally(() => {
          this.claiming = null;
        });
    }
    if (this.local.length === 0 && this.claiming) await this.claiming;
    if (this.failure) throw this.failure;
    const now = Date.now();
    await this.hosts.lockAhead(this.local, now);
    let soonest = Infinity;
    /** Hosts whose every slot is this process's and busy: one frees when a request ends. */
    let ownBusy: Set<string> | null = null;
    for (let i = 0; i < this.local.length; i++) {
      const e = this.local[i]!;
      if (ownBusy?.has(e.host)) continue;
      // A retry waits out its backoff here, still claimed by this process (see retry()).
      const wait = Math.max(this.hosts.waitUntil(e.host), e.notBefore);
      if (wait > now) {
        soonest = Math.min(soonest, wait - now);
        continue;
      }
      const got = await this.hosts.acquire(e.host, e.hash.toString('hex'));
      if (got === true) {
        this.local.splice(i, 1);
        this.inFlight.set(e.hash.toString('hex'), e);
        return { entry: e, host: e.host };
      }
      if (got === OWN_SLOTS_BUSY) {
        // Not a wait for the host: release() wakes this worker the moment one of ours ends.
        (ownBusy ??= new Set()).add(e.host);
        continue;
      }
      this.hosts.waitFor(e.host, got);
      soonest = Math.min(soonest, got);
    }
    if (this.local.length > 0) return { waitMs: soonest === Infinity ? -1 : Math.max(2, Math.min(soonest, 250)) };
    if (this.pending.length > 0) {
      // Links of finished pages become claimable once written: write them now.
      this.kickFlush();
      return { waitMs: -1 };
    }
    // Our own pages in flight will add links or finish: wait for them, not for the database.
    if (this.inFlight.size > 0) return { waitMs: -1 };
    if (this.exhausted) {
      // --max-pages reached for the whole crawl: no new page is claimed, but pages it counted
      // may still be claimed by a process that died (SIGKILL): they are fetched once their lease
      // expires (claim() takes them without budget), so the crawl is over only when none is left.
      if (Date.now() - this.lastEmptyCheck < 250) return { waitMs: 250 };
      this.lastEmptyCheck = Date.now();
      const [row] = await this.q<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM frontier WHERE crawl_id = ? AND state = 'claimed'", [this.crawl.crawlId]);
      if (Number(row?.n ?? 0) > 0) {
        await this.reapDeadEvery();
        return { waitMs: 250 };
      }
      this.over = true;
      return null;
    }
    // Nothing here: done only when nothing is queued or claimed anywhere in the crawl.
    if (Date.now() - this.lastEmptyCheck < 50) return { waitMs: 50 };
    this.lastEmptyCheck = Date.now();
    const rows = await this.q<mysql.RowDataPacket[]>(
      "SELECT state, COUNT(*) AS n FROM frontier WHERE crawl_id = ? AND state IN ('queued', 'claimed') GROUP BY state",
      [this.crawl.crawlId],
    );
    const counts = Object.fromEntries(rows.map((r) => [String(r.state), Number(r.n)]));
    this.queuedApprox = counts.queued ?? 0;
    if ((counts.queued ?? 0) === 0 && (counts.claimed ?? 0) === 0) {
      this.over = true;
      return null;
    }
    if ((counts.claimed ?? 0) > 0) await this.reapDeadEvery();
    return { waitMs: 50 };
  }

  sent(host: string): void {
    this.hosts.sent(host);
  }

  release(entry: FrontierEntry, host: string): void {
    // A slot of the host is free then: a worker waiting for one (OWN_SLOTS_BUSY) takes it now.
    void this.hosts.release(host, (entry as Claimed).hash.toString('hex'))
      .catch(() => {})
      .finally(() => this.ctx.onChange());
  }

  acquireSlot(host: string): Promise<number> {
    // In turn with take(): both count this process's busy slots of the host.
    const next = this.takeLock.then(async () => {
      if (this.failure) throw this.failure;
      const got = await this.hosts.acquire(host, SLOT_KEY);
      return got === true ? 0 : got;
    });
    this.takeLock = next.catch(() => {});
    return next;
  }

  releaseSlot(host: string): void {
    void this.hosts.release(host, SLOT_KEY)
      .catch(() => {})
      .finally(() => this.ctx.onChange());
  }

  setDelay(host: string, delayMs: number): Promise<void> {
    return this.hosts.setDelay(host, delayMs);
  }

  /**
   * A retry stays claimed by this process (its lease renewed with the others) and waits out its
   * backoff in the local list: it was counted against --max-pages when first claimed, and a row
   * back in the queue would need budget again, or be left there once the budget is spent. If
   * this process dies, its lease expires and another process takes it, as any claimed page.
   */
  async retry(entry: FrontierEntry, host: string, notBefore: number): Promise<void> {
    const e = entry as Claimed;
    const key = e.hash.toString('hex');
    // In the local list first (also when stopped: close() then gives it back to the queue with
    // the unstarted ones): while the statements below wait, out through a database outage
    // maybe, its lease is renewed with the others', and no other process takes it.
    this.local.push({ ...e, attempts: e.attempts + 1, notBefore });
    this.inFlight.delete(key);
    await this.hosts.release(host, key);
    await this.q('UPDATE frontier SET attempts = attempts + 1, not_before = NOW(3) + INTERVAL ? MICROSECOND, updated_at = NOW(3) WHERE crawl_id = ? AND url_hash = ? AND lease_owner = ?', [
      Math.max(0, notBefore - Date.now()) * 1000,
      this.crawl.crawlId,
      e.hash,
      this.owner,
    ]);
  }

  /** Back to the front of the local list, still claimed and counted: take() starts it in its host's turn. */
  async defer(entry: FrontierEntry, host: string): Promise<void> {
    const e = entry as Claimed;
    const key = e.hash.toString('hex');
    // In the local list before the slot goes: its lease is renewed with the others meanwhile,
    // and release() sees that this process still wants the host.
    this.local.unshift(e);
    this.inFlight.delete(key);
    await this.hosts.release(host, key);
  }

  async complete(c: Completion): Promise<void> {
    if (this.givenUp) {
      // The database is gone for good: a page that finishes now goes to the spill file.
      this.spillOnFailure(this.givenUp.error, [c]);
      return;
    }
    if (this.failure) throw this.failure;
    if (!c.hostReleased) this.release(c.entry, c.host);
    this.pending.push(c);
    if (this.pending.length >= this.flushBatch) this.kickFlush();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.kickFlush(), this.flushIntervalMs);
    // The worker goes on at once; only a backlog (a slow database) makes it wait.
    while (this.pending.length > MAX_PENDING && !this.failure) await new Promise<void>((r) => this.roomWaiters.push(r));
    if (this.failure) throw this.failure;
  }

  stop(): void {
    this.stopped = true;
  }

  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    await this.counting;
    while ((this.pending.length > 0 || this.flushing) && !this.failure) {
      this.kickFlush();
      await this.flushing;
    }
    // A flush still under way when the database was given up on spills its batch as it fails.
    if (this.flushing) await this.flushing;
    // URLs claimed but never started go back to the queue at once, not after the lease.
    const unstarted = [...this.local, ...this.inFlight.values()];
    this.local = [];
    try {
      if (unstarted.length > 0) {
        // Back in the queue as new pages, their place under --max-pages given back with them:
        // a counted row in the queue would be left there once the budget is spent.
        await this.transaction(async (conn) => {
          const [res] = await conn.query<mysql.ResultSetHeader>(
            `UPDATE frontier SET state = 'queued', counted = 0, lease_owner = NULL, lease_expires = NULL WHERE crawl_id = ? AND lease_owner = ? AND state = 'claimed' AND counted = 1 AND url_hash IN (${unstarted.map(() => '?').join(', ')})`,
            [this.crawl.crawlId, this.owner, ...unstarted.map((e) => e.hash)],
          );
          this.queries++;
          if (res.affectedRows > 0 && this.crawl.options.maxPages !== null) {
            await conn.query('UPDATE crawls SET pages_counted = pages_counted - ? WHERE id = ? AND pages_counted >= ?', [res.affectedRows, this.crawl.crawlId, res.affectedRows]);
            this.queries++;
          }
        });
      }
      await this.hosts.close();
    } finally {
      await this.pool.end().catch(() => {});
    }
    if (this.failure) throw this.failure;
  }

  // --- claims ---------------------------------------------------------------------------------

  private async reapDeadEvery(): Promise<void> {
    if (Date.now() - this.lastReap >= REAP_EVERY_MS) await this.reapDead();
  }

  /**
   * Ends the leases (claimed pages, host start grants) of processes of this crawl that ran on
   * this machine, in this boot and PID namespace (the owner's tag says so), and no longer exist:
   * killed (SIGKILL, OOM), their pages would otherwise wait out the lease. A process elsewhere,
   * or one whose tag this process cannot judge, is never judged dead here: its leases expire.
   * A failure here only means waiting for the leases, as before.
   */
  private async reapDead(): Promise<void> {
    this.lastReap = Date.now();
    if (!this.pidTag) return;
    const like = `%:${this.pidTag}`;
    try {
      const owners = await this.q<mysql.RowDataPacket[]>(
        "SELECT DISTINCT lease_owner AS o FROM frontier WHERE crawl_id = ? AND state = 'claimed' AND lease_expires > NOW(3) AND lease_owner LIKE ? UNION SELECT DISTINCT starter FROM crawl_hosts WHERE crawl_id = ? AND starter LIKE ?",
        [this.crawl.crawlId, like, this.crawl.crawlId, like],
      );
      for (const { o } of owners) {
        const owner = String(o);
        const pid = Number(owner.split(':')[1]);
        if (owner === this.owner || !Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
        await this.q("UPDATE frontier SET lease_expires = NOW(3) - INTERVAL 1 SECOND WHERE crawl_id = ? AND lease_owner = ? AND state = 'claimed'", [this.crawl.crawlId, owner]);
        await this.q('UPDATE crawl_hosts SET starter = NULL, starter_expires = NULL WHERE crawl_id = ? AND starter = ?', [this.crawl.crawlId, owner]);
      }
    } catch {
      // The leases expire by themselves.
    }
  }

  private async claim(): Promise<void> {
    if (this.stopped) return;
    // A run started after a SIGKILL takes the dead process's pages at once, not after its lease.
    if (this.lastReap === 0) await this.reapDead();
    // With --max-pages spent, only expired leases are taken: pages counted already.
    const exhausted = this.exhausted;
    const claimed = await this.transaction(async (conn) => {
      const cols = 'url_hash, url, host, depth, referrer, redirects, attempts, counted';
      // Expired leases first (a dead worker's URLs), then the queue in BFS order. The expired ones
      // are found by a plain read and locked by key: a locking range scan of the lease index also
      // locked the first live lease past the range — the in-flight page likeliest to finish next —
      // so its owner's done mark waited for this claim (measured, bench/frontier.mjs).
      const [stale] = await conn.query<mysql.RowDataPacket[]>(
        "SELECT url_hash FROM frontier WHERE crawl_id = ? AND state = 'claimed' AND lease_expires < NOW(3) ORDER BY lease_expires LIMIT ?",
        [this.crawl.crawlId, this.claimBatch],
      );
      let rows: mysql.RowDataPacket[] = [];
      if (stale.length > 0) {
        const [expired] = await conn.query<mysql.RowDataPacket[]>(
          `SELECT ${cols} FROM frontier WHERE crawl_id = ? AND url_hash IN (${stale.map(() => '?').join(', ')}) AND state = 'claimed' AND lease_expires < NOW(3) FOR UPDATE SKIP LOCKED`,
          [this.crawl.crawlId, ...stale.map((r) => r.url_hash as Buffer)],
        );
        this.queries++;
        rows = expired;
      }
      if (rows.length < this.claimBatch && !exhausted) {
        const [queued] = await conn.query<mysql.RowDataPacket[]>(
          `SELECT ${cols} FROM frontier WHERE crawl_id = ? AND state = 'queued' AND not_before <= NOW(3) ORDER BY depth, id LIMIT ? FOR UPDATE SKIP LOCKED`,
          [this.crawl.crawlId, this.claimBatch - rows.length],
        );
        rows = rows.concat(queued);
        this.queries++;
      }
      this.queries++;
      if (rows.length === 0) return [];
      const fresh = rows.filter((r) => Number(r.counted) === 0);
      if (fresh.length > 0 && this.crawl.options.maxPages !== null) {
        // --max-pages holds for the whole crawl: one counter row, locked for the moment of the claim.
        const [[crawlRow]] = await conn.query<mysql.RowDataPacket[]>('SELECT max_pages, pages_counted FROM crawls WHERE id = ? FOR UPDATE', [this.crawl.crawlId]);
        this.queries++;
        const room = Math.max(0, Number(crawlRow!.max_pages) - Number(crawlRow!.pages_counted));
        if (room < fresh.length) {
          const drop = new Set(fresh.slice(room).map((r) => (r.url_hash as Buffer).toString('hex')));
          rows = rows.filter((r) => !drop.has((r.url_hash as Buffer).toString('hex')));
          if (room === 0) this.exhausted = true;
        }
        const counted = Math.min(room, fresh.length);
        if (counted > 0) {
          await conn.query('UPDATE crawls SET pages_counted = pages_counted + ? WHERE id = ?', [counted, this.crawl.crawlId]);
          this.queries++;
        }
      }
      if (rows.length === 0) return [];
      await conn.query(
        `UPDATE frontier SET state = 'claimed', counted = 1, lease_owner = ?, lease_expires = NOW(3) + INTERVAL ? MICROSECOND, updated_at = NOW(3) WHERE crawl_id = ? AND url_hash IN (${rows.map(() => '?').join(', ')})`,
        [this.owner, this.leaseMs * 1000, this.crawl.crawlId, ...rows.map((r) => r.url_hash as Buffer)],
      );
      this.queries++;
      return rows;
    });
    for (const r of claimed) {
      const url = String(r.url);
      this.seenCache.add(url);
      this.local.push({
        hash: r.url_hash as Buffer,
        url,
        host: String(r.host),
        depth: Number(r.depth),
        referrer: r.referrer === null ? null : String(r.referrer),
        redirects: Number(r.redirects),
        attempts: Number(r.attempts),
        notBefore: 0,
        seq: 0,
      });
    }
    // The batch's new hosts set up together, before a worker takes their pages: two statements
    // a claim, not two round trips per host inside take() (a crawl of many hosts waited on them).
    await this.hosts.ensureHosts([...new Set(claimed.map((r) => String(r.host)))]);
  }

  private async renew(): Promise<void> {
    const mine = [...this.local, ...this.inFlight.values()].map((e) => e.hash);
    if (mine.length === 0) return;
    // By primary key: a scan of every claimed row (an index on state) locked other processes' rows
    // and deadlocked with their flushes (measured, bench/frontier.mjs).
    await this.q(
      `UPDATE frontier SET lease_expires = NOW(3) + INTERVAL ? MICROSECOND WHERE crawl_id = ? AND url_hash IN (${mine.map(() => '?').join(', ')}) AND lease_owner = ? AND state = 'claimed'`,
      [this.leaseMs * 1000, this.crawl.crawlId, ...mine, this.owner],
    );
  }

  // --- per-host politeness across processes -------------------------------------------------------

  // --- completions ------------------------------------------------------------------------------

  private kickFlush(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.flushing || this.pending.length === 0 || this.failure) return;
    const batch = this.pending.splice(0, this.flushBatch);
    this.flushing = this.writeCompletions(batch)
      .then(async () => {
        const waiters = this.roomWaiters;
        this.roomWaiters = [];
        for (const w of waiters) w();
        for (const c of batch) if (c.record) await this.ctx.onRecord(c.record);
        this.ctx.onChange();
      })
      .catch((err: unknown) => {
        // The database is gone for good: stop the crawl. The records not stored go to a spill
        // file (nothing fetched is lost), and their URLs stay claimed, so a resumed crawl
        // fetches them again.
        this.failure = this.spillOnFailure(err, batch);
        for (const w of this.roomWaiters) w();
        this.roomWaiters = [];
        this.ctx.onChange();
      })
      .finally(() => {
        this.flushing = null;
        if (this.pending.length > 0) this.kickFlush();
      });
  }

  /**
   * The crawl's storage error, once given up: the records of `batch` and of every completion
   * still pending are written to a spill file, which the error's message names.
   */
  private spillOnFailure(err: unknown, batch: Completion[]): RawcrawlError {
    if (!this.givenUp) {
      const reason = err instanceof RawcrawlError ? err.message : `MySQL frontier failed: ${String(err)}`;
      this.givenUp = { reason, error: new RawcrawlError('ERR_STORAGE', reason, { cause: err }), spilled: 0 };
    }
    const g = this.givenUp;
    const records = [...batch, ...this.pending].flatMap((c) => (c.record ? [c.record] : []));
    this.pending = [];
    if (records.length > 0) {
      const file = (this.spillFile ??= spillFileName(this.spillDir));
      try {
        appendSpill(file, records);
        g.spilled += records.length;
        g.error.message = `${g.reason}; ${g.spilled} unsaved records written to ${file} (their pages stay claimed: the same command run again fetches them again)`;
      } catch (spillErr) {
        g.error.message = `${g.reason}; ${records.length} unsaved records could not be written to ${file} either: ${(spillErr as NodeJS.ErrnoException).code ?? String(spillErr)}`;
      }
    }
    return g.error;
  }

  /**
   * Links of a batch of pages, then their page rows and state marks. The links are committed first,
   * in their own short transaction: INSERT IGNORE locks rows other processes work on (a URL they
   * are inserting too), and held to the end of the page transaction those locks made the
   * processes' flushes wait on each other and deadlock (measured, bench/frontier.mjs). Safe in this
   * order: a crash between the two leaves the page claimed, not done, so it is fetched again and
   * its links inserted again (ignored); a page still has a row exactly when it is done.
   */
  private async writeCompletions(batch: Completion[]): Promise<void> {
    const links: NewEntry[] = [];
    for (const c of batch) for (const l of c.links) if (this.seenCache.add(l.url)) links.push(l);
    const records = batch.flatMap((c) => (c.record ? [c.record] : []));
    const skippedFresh = batch.filter((c) => c.state === 'skipped' && c.entry.attempts === 0).length;
    if (links.length > 0) await this.transaction(async (conn) => this.insertLinks(conn, links));
    await this.transaction(async (conn) => {
      if (records.length > 0) {
        const { sql, params } = pageUpsert(records);
        await conn.query(sql, params);
        this.queries++;
      }
      for (const state of ['done', 'failed', 'skipped'] as const) {
        const hashes = batch.filter((c) => c.state === state).map((c) => (c.entry as Claimed).hash);
        if (hashes.length === 0) continue;
        await conn.query(
          `UPDATE frontier SET state = ?, lease_owner = NULL, lease_expires = NULL, updated_at = NOW(3) WHERE crawl_id = ? AND url_hash IN (${hashes.map(() => '?').join(', ')})`,
          [state, this.crawl.crawlId, ...hashes],
        );
        this.queries++;
      }
      if (skippedFresh > 0 && this.crawl.options.maxPages !== null) {
        await conn.query('UPDATE crawls SET pages_counted = pages_counted - ? WHERE id = ? AND pages_counted >= ?', [skippedFresh, this.crawl.crawlId, skippedFresh]);
        this.queries++;
      }
    });
    for (const c of batch) this.inFlight.delete((c.entry as Claimed).hash.toString('hex'));
  }

  /** Inserts the links the crawl does not know yet; returns how many rows that added. */
  private async insertLinks(conn: mysql.PoolConnection, links: NewEntry[]): Promise<number> {
    if (links.length === 0) return 0;
    let added = 0;
    // Sorted by key so concurrent batches lock in the same order (fewer deadlocks).
    const all = links.map((l) => ({ l, h: frontierHash(l.url) })).sort((a, b) => Buffer.compare(a.h, b.h));
    for (let i = 0; i < all.length; i += 500) {
      let part = all.slice(i, i + 500);
      // URLs another process already added are dropped after a plain (non-locking) read: INSERT IGNORE
      // of an existing row takes a shared lock on it until commit, and that row is often one its
      // owner is marking done — measured: lock waits and deadlocks between processes' flushes.
      const [known] = await conn.query<mysql.RowDataPacket[]>(
        `SELECT url_hash FROM frontier WHERE crawl_id = ? AND url_hash IN (${part.map(() => '?').join(', ')})`,
        [this.crawl.crawlId, ...part.map((r) => r.h)],
      );
      this.queries++;
      if (known.length > 0) {
        const have = new Set(known.map((r) => (r.url_hash as Buffer).toString('hex')));
        part = part.filter((r) => !have.has(r.h.toString('hex')));
        if (part.length === 0) continue;
      }
      const [inserted] = await conn.query<mysql.ResultSetHeader>(
        `INSERT IGNORE INTO frontier (crawl_id, url_hash, url, host, depth, referrer, redirects) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        part.flatMap(({ l, h }) => [this.crawl.crawlId, h, l.url, l.host, l.depth, l.referrer, l.redirects ?? 0]),
      );
      this.queries++;
      added += inserted.affectedRows;
    }
    return added;
  }

  /**
   * Frontier transactions run READ COMMITTED: under REPEATABLE READ the claim's range scans take
   * next-key locks past the rows they return (on other processes' and our own in-flight rows), so
   * marking a page done or inserting links waited on concurrent claims (measured: row lock waits and
   * deadlocks with a single process, bench/frontier.mjs). Rows are still locked one by one, so SKIP
   * LOCKED claims stay disjoint. Set once per pooled connection (the pool is the frontier's own).
   */
  private async readCommitted(conn: mysql.PoolConnection): Promise<void> {
    const core = conn.connection as object;
    if (this.readCommittedConns.has(core)) return;
    this.queries++;
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    this.readCommittedConns.add(core);
  }

  /** Runs fn in a transaction; deadlocks and lost connections are retried with backoff. */
  private async transaction<T>(fn: (conn: mysql.PoolConnection) => Promise<T>): Promise<T> {
    let firstFailure = 0;
    for (let attempt = 1; ; attempt++) {
      let conn: mysql.PoolConnection | null = null;
      try {
        conn = await this.pool.getConnection();
        await this.readCommitted(conn);
        await conn.beginTransaction();
        const out = await fn(conn);
        await conn.commit();
        conn.release();
        this.reached();
        return out;
      } catch (err) {
        if (conn) {
          await conn.rollback().catch(() => {});
          conn.release();
        }
        const e = err as { errno?: number };
        const retrySame = e.errno !== undefined && RETRY_SAME.has(e.errno);
        if (!retrySame) firstFailure ||= Date.now();
        await this.backOff(err, attempt, firstFailure, retrySame);
      }
    }
  }
}
