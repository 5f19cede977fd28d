import { createHash } from 'node:crypto';
import type mysql from 'mysql2/promise';
import { isConnectionError } from './mysql.js';

/**
 * acquire(): every one of the host's --per-host slots is held by this process, busy. Not a time
 * to wait: the next of its requests to the host to end frees one (release()).
 */
export const OWN_SLOTS_BUSY = -1;

/** What HostSlots takes of the frontier it works for. */
export interface HostSlotsContext {
  pool: mysql.Pool;
  crawlId: number;
  /** The crawl's --per-host and --delay, as stored for every process. */
  perHost: number;
  delayMs: number;
  /** This process's lease owner name, which a start grant is held under. */
  owner: string;
  /** How long a start grant lasts if its process dies before writing its request. */
  leaseMs: number;
  /** One statement, retried while the server is away (the frontier's backoff), counted. */
  q: <T extends mysql.RowDataPacket[] | mysql.ResultSetHeader>(sql: string, params: unknown[]) => Promise<T>;
  /** `statement` retried as q() is; `onLost` runs after each failure that lost the connection. */
  retrying: <T>(statement: () => Promise<T>, onLost: () => void) => Promise<T>;
  /** Counts a statement run outside q() and retrying(). */
  counted: () => void;
  /** Pages of the host this process has claimed and not yet started. */
  waitingFor: (host: string) => number;
}

/** The host's slot numbers this process does not hold, from a random one on (spreads processes over slots). */
function freeSlots(held: readonly number[], perHost: number): number[] {
  const first = Math.floor(Math.random() * perHost);
  const out: number[] = [];
  for (let k = 0; k < perHost; k++) {
    const slot = (first + k) % perHost;
    if (!held.includes(slot)) out.push(slot);
  }
  return out;
}

/**
 * Per-host politeness shared by every process of a crawl: --per-host in-flight slots are the
 * server's named locks (GET_LOCK: no disk write per request, and a dead process's slots are
 * freed with its connection), held on one connection of this process's; with a delay, the right
 * to start is a `starter` grant on the host's crawl_hosts row, and `last_start` says when the
 * last request to the host was written, by the database's clock.
 */
export class HostSlots {
  private readonly knownHosts = new Set<string>();
  /** Each host's delay as this process knows it (stored option, robots Crawl-delay). */
  private readonly hostDelay = new Map<string, number>();
  /**
   * Host → the key (a taken entry's url hash, hex) holding the host's `starter` grant: granted,
   * request not yet written. At most one per host, across all processes.
   */
  private readonly starting = new Map<string, string>();
  /** The host's `starter` cleared by sent() or release(), statement under way. */
  private readonly clearing = new Map<string, Promise<void>>();
  private lockConn: mysql.PoolConnection | null = null;
  /**
   * Host → slot numbers whose named lock this process holds on lockConn, and how many requests
   * of this process to the host are in flight. The entries live as long as the process: an
   * acquire() holds on to one across its awaits, and a lost lock connection empties `held`
   * (the server let those locks go with it) but not `busy` (those requests still run), so no
   * request starts until every one in flight has its slot locked again (acquire()).
   */
  private readonly heldSlots = new Map<string, { held: number[]; busy: number }>();
  /** Slot locks to give up on lockConn (releaseSlots()), and the statement doing it. */
  private toRelease: string[] = [];
  private releasing: Promise<void> | null = null;
  /** Hosts we may not start before this time (ms, local clock), learned from failed acquires. */
  private readonly hostWait = new Map<string, number>();

  constructor(private readonly c: HostSlotsContext) {}

  /** When the host may be tried again (ms, local clock; 0: now). */
  waitUntil(host: string): number {
    return this.hostWait.get(host) ?? 0;
  }

  /** Tries the host again no sooner than `ms` from now. */
  waitFor(host: string, ms: number): void {
    this.hostWait.set(host, Date.now() + ms);
  }

  /** The request of the start grant's holder is written: the next may start delay_ms after now. */
  sent(host: string): void {
    if (!this.starting.delete(host)) return;
    void this.clearStarter(host, 'last_start = NOW(3), ').catch(() => {});
  }

  /** Ends this process's start grant on the host (`also`: more columns to set with it). */
  private clearStarter(host: string, also: string): Promise<void> {
    const done = this.c
      .q(`UPDATE crawl_hosts SET ${also}starter = NULL, starter_expires = NULL WHERE crawl_id = ? AND host = ? AND starter = ?`, [this.c.crawlId, host, this.c.owner])
      .then(() => {})
      .finally(() => {
        if (this.clearing.get(host) === settled) this.clearing.delete(host);
      });
    const settled = done.catch(() => {});
    this.clearing.set(host, settled);
    return done;
  }

  async setDelay(host: string, delayMs: number): Promise<void> {
    // The row first: a sitemap's host may have none yet, and an UPDATE of no row keeps nothing.
    await this.ensureHosts([host]);
    const before = this.hostDelay.get(host) ?? 0;
    this.hostDelay.set(host, Math.max(before, delayMs));
    // A delay this process learns now (robots.txt's Crawl-delay) was read by a request to the
    // host that took no start grant, there being no delay to keep then, so sent() moved nothing:
    // the next start counts from now, a little after that request (never before it).
    const since = delayMs > before ? 'last_start = GREATEST(last_start, NOW(3)), ' : '';
    await this.c.q(`UPDATE crawl_hosts SET ${since}delay_ms = GREATEST(delay_ms, ?) WHERE crawl_id = ? AND host = ?`, [Math.round(delayMs), this.c.crawlId, host]);
  }

  /** Each host's crawl_hosts row made if missing, and its delay (set by any process) read. */
  async ensureHosts(hosts: string[]): Promise<void> {
    const fresh = hosts.filter((h) => !this.knownHosts.has(h));
    if (fresh.length === 0) return;
    const id = this.c.crawlId;
    const delay = this.c.delayMs;
    await this.c.q(`INSERT IGNORE INTO crawl_hosts (crawl_id, host, delay_ms) VALUES ${fresh.map(() => '(?, ?, ?)').join(', ')}`, fresh.flatMap((h) => [id, h, delay]));
    const rows = await this.c.q<mysql.RowDataPacket[]>(`SELECT host, delay_ms FROM crawl_hosts WHERE crawl_id = ? AND host IN (${fresh.map(() => '?').join(', ')})`, [id, ...fresh]);
    for (const row of rows) {
      const host = String(row.host);
      this.hostDelay.set(host, Math.max(this.hostDelay.get(host) ?? 0, Number(row.delay_ms ?? 0)));
    }
    for (const h of fresh) this.knownHosts.add(h);
  }

  /**
   * Locks, in one statement, a slot for each host of `local` (pages claimed, not started) that
   * may start now and has no slot of this process free: acquire() then finds one held, without
   * a round trip of its own. (Takes run one at a time; a crawl of many hosts spent them waiting
   * for a GET_LOCK each, and ran at the rate of those round trips whatever its concurrency.) A
   * slot another process holds stays for acquire() to look past.
   */
  async lockAhead(local: ReadonlyArray<{ host: string; notBefore: number }>, now: number): Promise<void> {
    const perHost = Math.max(1, this.c.perHost);
    const want = new Map<string, number>();
    for (const e of local) {
      if (want.has(e.host) || Math.max(this.waitUntil(e.host), e.notBefore) > now) continue;
      const slots = this.heldSlots.get(e.host);
      // A free slot of ours, or every slot ours or in use: nothing to lock ahead.
      if (slots && (slots.held.length > slots.busy || slots.held.length >= perHost || slots.busy >= perHost)) continue;
      want.set(e.host, freeSlots(slots?.held ?? [], perHost)[0]!);
    }
    // One host is what acquire() does anyway.
    if (want.size < 2) return;
    const hosts = [...want.keys()];
    await this.ensureHosts(hosts);
    const { value: [rows], conn } = await this.onLockConnection((c) =>
      c.query<mysql.RowDataPacket[]>(`SELECT ${hosts.map((_, i) => `GET_LOCK(?, 0) AS g${i}`).join(', ')}`, hosts.map((h) => this.slotLock(h, want.get(h)!))),
    );
    this.c.counted();
    // Lost since the reply came: the server let the locks go with it.
    if (conn !== this.lockConn) return;
    const row = rows[0]!;
    hosts.forEach((host, i) => {
      if (Number(row[`g${i}`]) !== 1) {
        // Its one slot is another process's: wait as acquire() would after trying it.
        if (perHost === 1) this.waitFor(host, 20);
        return;
      }
      this.slotsOf(host).held.push(want.get(host)!);
    });
  }

  /**
   * Takes an in-flight slot of the host and the right to start now, for the entry `key`: true,
   * or ms to wait before trying again, or OWN_SLOTS_BUSY.
   */
  async acquire(host: string, key: string): Promise<true | number> {
    await this.ensureHosts([host]);
    const perHost = Math.max(1, this.c.perHost);
    const slots = this.slotsOf(host);
    if (slots.busy >= perHost) return OWN_SLOTS_BUSY;
    // One locked slot for each request in flight (again, after a lost lock connection) and one
    // for this one.
    if (!(await this.lockSlots(host, slots.busy + 1))) return 20;
    slots.busy++;
    if ((this.hostDelay.get(host) ?? 0) === 0) return true;
    // With a delay: one process at a time may be starting a request to the host, and only
    // delay_ms after the last one was written (sent() records that moment). A grant of this
    // process's is either out (another of its requests is starting) or being cleared (sent(),
    // release()): then `starter` is this owner only where this very statement set it before, its
    // reply lost and the statement sent again, and the grant is this request's (not one to wait
    // out for the length of a lease, the whole crawl's host stalled on it).
    await this.clearing.get(host);
    const start = this.starting.has(host)
      ? { affectedRows: 0 }
      : await this.c.q<mysql.ResultSetHeader>(
          `UPDATE crawl_hosts SET starter = ?, starter_expires = NOW(3) + INTERVAL ? MICROSECOND
           WHERE crawl_id = ? AND host = ? AND (starter IS NULL OR starter_expires < NOW(3) OR starter = ?) AND last_start <= NOW(3) - INTERVAL (delay_ms * 1000) MICROSECOND`,
          [this.c.owner, this.c.leaseMs * 1000, this.c.crawlId, host, this.c.owner],
        );
    if (start.affectedRows === 1) {
      this.starting.set(host, key);
      // The lock connection was lost while the grant was asked for: the slot is locked again
      // before the request starts, or the start given up.
      if (await this.lockSlots(host, slots.busy)) return true;
      await this.release(host, key);
      return 20;
    }
    await this.release(host, key);
    const [row] = await this.c.q<mysql.RowDataPacket[]>(
      'SELECT GREATEST(0, TIMESTAMPDIFF(MICROSECOND, NOW(3), last_start + INTERVAL (delay_ms * 1000) MICROSECOND)) AS wait_us FROM crawl_hosts WHERE crawl_id = ? AND host = ?',
      [this.c.crawlId, host],
    );
    return Math.max(1, Math.ceil(Number(row?.wait_us ?? 0) / 1000));
  }

  /** Frees the in-flight slot of the entry `key`, and its start grant if it never wrote its request. */
  async release(host: string, key: string): Promise<void> {
    if (this.starting.get(host) === key) {
      this.starting.delete(host);
      // Granted but never written (connect failed, say): free the start without moving last_start.
      await this.clearStarter(host, '');
    }
    const slots = this.heldSlots.get(host);
    if (!slots) return;
    slots.busy = Math.max(0, slots.busy - 1);
    // After a lost lock connection `held` may be short of `busy`: nothing to give back then.
    // A slot stays locked while this process has more work for the host (no query per page);
    // once it has none, spare slots go back to the other processes.
    const wanted = slots.busy + this.c.waitingFor(host);
    while (slots.held.length > Math.max(slots.busy, wanted) && this.lockConn) this.toRelease.push(this.slotLock(host, slots.held.pop()!));
    if (this.toRelease.length > 0) this.kickRelease();
  }

  /** Sends the names waiting in toRelease, once at a time; again if more came while it ran. */
  private kickRelease(): void {
    this.releasing ??= this.releaseSlots().finally(() => {
      this.releasing = null;
      if (this.toRelease.length > 0 && this.lockConn) this.kickRelease();
    });
  }

  /** Gives every slot back (the crawl is over for this process) and the lock connection to the pool. */
  async close(): Promise<void> {
    await this.releasing;
    const conn = this.lockConn;
    if (!conn) return;
    this.lockConn = null;
    try {
      await conn.query('SELECT RELEASE_ALL_LOCKS()');
      conn.release();
    } catch {
      // Lost: its locks went with it.
      conn.destroy();
    }
  }

  /** Locks slots of the host until this process holds `n` (or all it can): true when it does. */
  private async lockSlots(host: string, n: number): Promise<boolean> {
    const slots = this.slotsOf(host);
    const perHost = Math.max(1, this.c.perHost);
    while (slots.held.length < n) {
      let locked = false;
      for (const candidate of freeSlots(slots.held, perHost)) {
        const { value: [rows], conn } = await this.onLockConnection((c) => c.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [this.slotLock(host, candidate)]));
        // Taken on a connection lost since the reply came: no lock (and `held` was emptied).
        if (conn !== this.lockConn) break;
        if (Number(rows[0]!.got) === 1) {
          slots.held.push(candidate);
          locked = true;
          break;
        }
      }
      if (!locked) return false;
    }
    return true;
  }

  /** The host's entry in heldSlots, made on first use and kept (see heldSlots). */
  private slotsOf(host: string): { held: number[]; busy: number } {
    let slots = this.heldSlots.get(host);
    if (!slots) this.heldSlots.set(host, (slots = { held: [], busy: 0 }));
    return slots;
  }

  /** The connection that holds this process's slot locks. */
  private async lockConnection(): Promise<mysql.PoolConnection> {
    if (!this.lockConn) {
      const conn = await this.c.pool.getConnection();
      // Also when idle: the next statement must not take a lock on top of one it believes held.
      conn.on('error', () => this.lost(conn));
      this.lockConn = conn;
    }
    return this.lockConn;
  }

  /**
   * The lock connection `conn` is gone, and with it (the server's doing) every slot lock it held:
   * no slot is held any more, and none is given up on the next connection. Only the current
   * connection counts: a late error of an earlier one says nothing of the locks held now (it
   * emptied them once, and locks taken on the new connection were then forgotten while held:
   * a second GET_LOCK of the same name on it succeeded, re-entrant, and the lock, counted twice,
   * outlived its one RELEASE_LOCK, shutting the other processes out of the host for good).
   */
  private lost(conn: mysql.PoolConnection): void {
    if (this.lockConn !== conn) return;
    this.lockConn = null;
    conn.destroy();
    for (const slots of this.heldSlots.values()) slots.held = [];
    this.toRelease = [];
  }

  /**
   * A statement on the lock connection, and the connection it ran on (the caller checks it is
   * still lockConn before it counts a lock as taken). A lost connection is reopened (with
   * backoff, for up to giveUpMs): see lost().
   */
  private async onLockConnection<T>(fn: (conn: mysql.PoolConnection) => Promise<T>): Promise<{ value: T; conn: mysql.PoolConnection }> {
    let conn: mysql.PoolConnection | null = null;
    const value = await this.c.retrying(
      async () => fn((conn = await this.lockConnection())),
      () => {
        if (conn) this.lost(conn);
      },
    );
    return { value, conn: conn! };
  }

  private slotLock(host: string, slot: number): string {
    // Lock names are at most 64 characters: hash crawl and host.
    return `rawcrawl:${createHash('sha1').update(`${this.c.crawlId}\n${host}`).digest('hex').slice(0, 32)}:${slot}`;
  }

  /**
   * Gives up the slot locks queued in toRelease, in one statement for all those queued while the
   * last one ran (a crawl of many hosts gives up a slot per page: one round trip each kept the
   * lock connection, which takes slots too, busy). Locks are re-entrant per connection and the
   * connection runs statements in order, so a slot taken again meanwhile stays held.
   */
  private async releaseSlots(): Promise<void> {
    // lost() empties toRelease: names queued for a lost connection are never given up on the
    // next one, where this process may hold them again.
    while (this.toRelease.length > 0 && this.lockConn) {
      const conn = this.lockConn;
      const names = this.toRelease.splice(0, 200);
      this.c.counted();
      try {
        await conn.query(`DO ${names.map(() => 'RELEASE_LOCK(?)').join(', ')}`, names);
      } catch (err) {
        // A lost connection released every lock it held (and no 'error' event says so when the
        // statement got the error). Any other failure leaves the locks to the connection's end,
        // as before: a slot held longer, never one more.
        if (isConnectionError(err as { code?: string; fatal?: boolean })) this.lost(conn);
      }
    }
  }
}
