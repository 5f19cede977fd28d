import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { RawcrawlError } from '../errors.js';
import { URL_COLUMN_BYTES } from '../crawl/options.js';
import type { PageRecord } from '../crawl/record.js';
import { storedFields, type Sink } from './sink.js';

export interface MysqlSinkOptions {
  /** Rows per INSERT (default 500). */
  batchSize?: number;
  /** Flush a partial batch after this long (default 200 ms). */
  flushIntervalMs?: number;
  /** Records held while the database is slow or away; write() waits beyond this (default 5000). */
  maxHeld?: number;
  /** Keep retrying a database that went away for this long before giving up (default 60 s). */
  giveUpMs?: number;
  /** Where held records go when giving up (default: the current directory). */
  spillDir?: string;
  /** Called once per retry with the reason (progress output). */
  onRetry?: (err: Error, attempt: number) => void;
}

export const PAGE_COLUMNS = [
  'url_hash', 'url', 'final_url', 'status', 'content_type', 'title', 'fields', 'depth', 'referrer',
  'bytes', 'fetched_at', 'timings', 'error', 'error_message', 'error_offset', 'error_excerpt', 'leniencies',
  'attempts', 'warc_file', 'warc_offset', 'capture', 'body',
] as const;
const UPDATE = PAGE_COLUMNS.filter((c) => c !== 'url_hash').map((c) => `${c} = VALUES(${c})`).join(', ');
const ROW = `(${PAGE_COLUMNS.map(() => '?').join(', ')})`;
/** Keep one statement well under max_allowed_packet (16 MiB by default) when bodies are stored. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** MySQL errors worth retrying the same batch for: deadlock, lock wait timeout. */
export const RETRY_SAME = new Set([1213, 1205]);

export function urlHash(url: string): Buffer {
  return createHash('sha256').update(url).digest();
}

/** The schema.sql shipped with the package, split into statements. */
export function schemaStatements(): string[] {
  const file = new URL('../../schema.sql', import.meta.url);
  const text = readFileSync(file, 'utf8');
  return text
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}

/** The statements of schema.sql with the table each creates (null for any other statement). */
export function schemaTables(): Array<{ table: string | null; sql: string }> {
  return schemaStatements().map((sql) => ({ table: /^CREATE TABLE IF NOT EXISTS (\w+)/i.exec(sql)?.[1]?.toLowerCase() ?? null, sql }));
}

/** The tables of the connection's database, each with its columns (names lower-cased). */
async function existingColumns(pool: mysql.Pool): Promise<Map<string, Set<string>>> {
  const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()');
  const tables = new Map<string, Set<string>>();
  for (const r of rows) {
    const t = String(r.t).toLowerCase();
    if (!tables.has(t)) tables.set(t, new Set());
    tables.get(t)!.add(String(r.c).toLowerCase());
  }
  return tables;
}

/**
 * Applies schema.sql: the tables missing are made, the ones there are left as they are. CREATE
 * TABLE IF NOT EXISTS needs the CREATE privilege even for a table that exists, so it is not run
 * for those: a user who may only read and write works in a database made for it (by `init-db`
 * as another user).
 */
async function applySchema(pool: mysql.Pool): Promise<void> {
  const have = await existingColumns(pool);
  for (const { table, sql } of schemaTables()) if (table === null || !have.has(table)) await pool.query(sql);
  await addMissingColumns(pool);
  // A table made otherwise (by hand, by something else) that lacks a column rawcrawl writes would
  // refuse every record: said now, once, rather than after a crawl's worth of spilled records.
  const now = await existingColumns(pool);
  for (const { table, sql } of schemaTables()) {
    if (table === null) continue;
    for (const [, column] of sql.matchAll(/^\s*([a-z_][a-z0-9_]*)\s+[A-Z]/gm)) {
      if (!now.get(table)?.has(column!)) throw new Error(`table ${table} has no column ${column} (schema.sql has it)`);
    }
  }
}

/**
 * Columns schema.sql gained after its tables were first made: CREATE TABLE IF NOT EXISTS leaves
 * a table made by an earlier rawcrawl as it was, so they are added here (MySQL 8 has no ADD
 * COLUMN IF NOT EXISTS). Table, column and definition are constants, never input.
 */
const ADDED_COLUMNS: ReadonlyArray<readonly [table: string, column: string, definition: string]> = [
  ['frontier', 'redirects', 'SMALLINT UNSIGNED NOT NULL DEFAULT 0 AFTER referrer'],
];

async function addMissingColumns(pool: mysql.Pool): Promise<void> {
  for (const [table, column, definition] of ADDED_COLUMNS) {
    const [rows] = await pool.query<mysql.RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
      [table, column],
    );
    if (Number(rows[0]!.n) > 0) continue;
    try {
      await pool.query(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    } catch (err) {
      // Another process starting at the same time added it first.
      if ((err as { code?: string }).code !== 'ER_DUP_FIELDNAME') throw err;
    }
  }
}

function describeTarget(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.hostname}:${u.port || 3306}${u.pathname}`;
  } catch {
    return 'the given URL';
  }
}

/**
 * Opens a pool, checks the server answers, applies schema.sql (creating the database when it is
 * missing). One clear error if it cannot. `readOnly` (what `status` reads with): no database or
 * table is created; a missing database is ERR_INVALID_OPTION naming it.
 */
export async function connectMysql(uri: string, options: { readOnly?: boolean } = {}): Promise<mysql.Pool> {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new RawcrawlError('ERR_INVALID_OPTION', `--mysql ${JSON.stringify(uri)} is not a URL like mysql://user:pass@host:3306/db`);
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new RawcrawlError('ERR_INVALID_OPTION', `--mysql URL must start with mysql://, got ${parsed.protocol}`);
  }
  if (parsed.pathname.length <= 1) throw new RawcrawlError('ERR_INVALID_OPTION', `--mysql URL names no database: ${describeTarget(uri)}`);
  parsed.protocol = 'mysql:';
  const pool = mysql.createPool({
    uri: parsed.href,
    connectionLimit: 6,
    charset: 'utf8mb4',
    timezone: 'Z',
    connectTimeout: 5000,
    supportBigNumbers: true,
  });
  if (options.readOnly) {
    try {
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => {});
      const e = err as { code?: string; message?: string };
      if (e.code === 'ER_BAD_DB_ERROR') {
        throw new RawcrawlError('ERR_INVALID_OPTION', `no database ${JSON.stringify(decodeURIComponent(parsed.pathname.slice(1)))} at ${parsed.host}`, { cause: err });
      }
      throw new RawcrawlError('ERR_STORAGE', `cannot use MySQL at ${describeTarget(uri)}: ${e.code ?? ''} ${e.message ?? String(err)}`.replace(/\s+/g, ' ').trim(), { cause: err });
    }
    return pool;
  }
  try {
    try {
      await applySchema(pool);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_BAD_DB_ERROR') throw err;
      // The database itself is missing: create it (utf8mb4, as the tables), then the tables.
      await createDatabase(parsed);
      await applySchema(pool);
    }
  } catch (err) {
    await pool.end().catch(() => {});
    const e = err as { code?: string; message?: string };
    throw new RawcrawlError('ERR_STORAGE', `cannot use MySQL at ${describeTarget(uri)}: ${e.code ?? ''} ${e.message ?? String(err)}`.replace(/\s+/g, ' ').trim(), { cause: err });
  }
  return pool;
}

/** CREATE DATABASE IF NOT EXISTS for the database a mysql:// URL names, over a connection to none. */
async function createDatabase(url: URL): Promise<void> {
  const name = decodeURIComponent(url.pathname.slice(1));
  const server = new URL(url.href);
  server.pathname = '/';
  const conn = await mysql.createConnection({ uri: server.href, charset: 'utf8mb4', connectTimeout: 5000 });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${mysql.escapeId(name, true)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end().catch(() => {});
  }
}

/** One parameterised multi-row upsert of page records. */
export function pageUpsert(records: PageRecord[]): { sql: string; params: unknown[] } {
  return {
    sql: `INSERT INTO pages (${PAGE_COLUMNS.join(', ')}) VALUES ${records.map(() => ROW).join(', ')} ON DUPLICATE KEY UPDATE ${UPDATE}`,
    params: records.flatMap(toRow),
  };
}

function toRow(r: PageRecord): unknown[] {
  return [
    urlHash(r.url),
    r.url,
    // A redirect's target is recorded even when it is not followed for its length (url is held
    // to maxUrlLength): cut to what the TEXT column holds (ASCII), not a refused batch.
    r.final_url === null ? null : r.final_url.slice(0, URL_COLUMN_BYTES),
    r.status,
    r.content_type === null ? null : r.content_type.slice(0, 255),
    r.title === null ? null : r.title.slice(0, 16_000),
    JSON.stringify(r.fields),
    r.depth,
    r.referrer,
    r.bytes,
    new Date(r.fetched_at),
    r.timings === null ? null : JSON.stringify(r.timings),
    r.error,
    r.error_message === null ? null : r.error_message.slice(0, 4000),
    r.error_offset,
    r.error_excerpt,
    r.leniencies.length > 0 ? JSON.stringify(r.leniencies) : null,
    r.attempts,
    r.capture?.warc_file ?? null,
    r.capture?.warc_offset ?? null,
    r.capture ? JSON.stringify({ capture_file: r.capture.capture_file, phases: r.capture.phases, tls: r.capture.tls, remote_address: r.capture.remote_address }) : null,
    r.body ?? null,
  ];
}

/**
 * Batched, parameterised upserts into `pages`. One batch in flight at a time (no deadlocks among
 * our own batches; 1213/1205 from other writers are retried). When the database goes away,
 * records are held (bounded; writers wait), retried with backoff, and after `giveUpMs` written to
 * a JSONL file: a fetched page is never dropped.
 */
export class MysqlSink implements Sink {
  written = 0;
  private held: PageRecord[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failure: RawcrawlError | null = null;
  private roomWaiters: Array<() => void> = [];
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxHeld: number;
  private readonly giveUpMs: number;

  constructor(
    private readonly pool: mysql.Pool,
    private readonly options: MysqlSinkOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.maxHeld = options.maxHeld ?? 5000;
    this.giveUpMs = options.giveUpMs ?? 60_000;
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.held.length;
  }

  /**
   * The storage failure, once the sink has given up (records then go to the spill file), or
   * rows MySQL refused, which went to the spill file while the crawl went on.
   */
  get error(): RawcrawlError | null {
    if (this.failure) return this.failure;
    if (this.refused === 0) return null;
    const where = this.lost === 0 ? `written to ${this.spillFile}` : this.spillNote();
    return new RawcrawlError('ERR_STORAGE', `MySQL refused ${this.refused} record${this.refused === 1 ? '' : 's'} (first: ${this.refusedReason}); ${where}`);
  }

  async write(record: PageRecord): Promise<void> {
    if (this.failure) {
      this.spill([record]);
      return;
    }
    this.held.push(record);
    if (this.held.length >= this.batchSize) this.kick();
    else if (!this.timer) this.timer = setTimeout(() => this.kick(), this.flushIntervalMs);
    while (this.held.length > this.maxHeld && !this.failure) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  async close(): Promise<void> {
    try {
      while (this.held.length > 0 && !this.failure) {
        this.kick();
        await Promise.race([this.flushing, this.abandoned]);
      }
      await Promise.race([this.flushing, this.abandoned]);
    } finally {
      if (this.timer) clearTimeout(this.timer);
      // Abandoned: a statement may still be waiting on a connection that will never answer.
      if (this.failure && this.flushing) void this.pool.end().catch(() => {});
      else await this.pool.end().catch(() => {});
    }
  }

  private abandonedNow: () => void = () => {};
  private readonly abandoned = new Promise<void>((resolve) => (this.abandonedNow = resolve));

  /**
   * Stops waiting for an unreachable database now (a second Ctrl+C): the held records go to the
   * spill file, as after --mysql-give-up. Nothing to do when none are held.
   */
  abandon(reason: string): void {
    if (this.failure || this.held.length === 0) return;
    this.giveUp(reason);
    this.abandonedNow();
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing || this.failure) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
      if (this.held.length > 0 && !this.failure) this.timer = setTimeout(() => this.kick(), 0);
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.held.length > 0 && !this.failure) {
      await this.writeBatch(this.takeBatch());
      this.wakeWriters();
      if (this.held.length < this.batchSize) return;
    }
  }

  private takeBatch(): PageRecord[] {
    let bytes = 0;
    let n = 0;
    while (n < this.held.length && n < this.batchSize) {
      bytes += (this.held[n]!.body?.length ?? 0) * 2 + 2048;
      if (n > 0 && bytes > MAX_BATCH_BYTES) break;
      n++;
    }
    return this.held.slice(0, n);
  }

  private async writeBatch(batch: PageRecord[]): Promise<void> {
    const { sql, params } = pageUpsert(batch);
    const firstFailure = { at: 0 };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.pool.query(sql, params);
        // Only now are the records safe: drop them from the held list.
        this.held.splice(0, batch.length);
        this.written += batch.length;
        return;
      } catch (err) {
        const e = err as { errno?: number; code?: string; message?: string; fatal?: boolean };
        if (e.errno !== undefined && RETRY_SAME.has(e.errno)) {
          await sleep(Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random() / 2));
          continue;
        }
        if (!isConnectionError(e)) {
          // A row the server refuses (bad data) costs neither the batch's other rows nor the
          // crawl: they go one by one, and a refused one goes to the spill file.
          if (batch.length > 1) {
            for (const record of batch) {
              await this.writeBatch([record]);
              if (this.failure) return;
            }
            return;
          }
          this.held.splice(0, 1);
          this.refuse(batch[0]!, `${e.code ?? ''} ${e.message ?? String(err)}`.trim());
          return;
        }
        // Given up meanwhile (abandon()): the batch is in the spill file.
        if (this.failure) return;
        if (firstFailure.at === 0) firstFailure.at = Date.now();
        if (Date.now() - firstFailure.at > this.giveUpMs) {
          this.giveUp(`MySQL unreachable for ${Math.round(this.giveUpMs / 1000)} s (${e.code ?? e.message})`);
          return;
        }
        this.options.onRetry?.(err as Error, attempt);
        await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
        if (this.failure) return;
      }
    }
  }

  private spillFile: string | null = null;
  private spilled = 0;

  /** Where records went once the database was given up on. */
  get spillPath(): string | null {
    return this.spillFile;
  }

  /** Records the spill file could not take either (a full disk), and why. */
  private lost = 0;
  private lostReason = '';

  /**
   * Appends records to the spill file (JSONL, the same fields as the table). One that cannot be
   * written either (a full disk) is said in the error, not thrown: it would crash the process from
   * the flush loop, with the held records in it.
   */
  private spill(records: PageRecord[]): void {
    if (records.length === 0) return;
    this.spillFile ??= spillFileName(this.options.spillDir);
    try {
      appendSpill(this.spillFile, records);
      this.spilled += records.length;
    } catch (err) {
      this.lost += records.length;
      this.lostReason ||= (err as NodeJS.ErrnoException).code ?? String(err);
    }
    if (this.failure) this.failure.message = `${this.reason}; ${this.spillNote()}`;
  }

  /** Where the records that MySQL did not take went. */
  private spillNote(): string {
    const saved = this.spilled > 0 ? `${this.spilled} unsaved records written to ${this.spillFile}` : '';
    const lost = this.lost > 0 ? `${this.lost} unsaved records could not be written to ${this.spillFile} either: ${this.lostReason}` : '';
    return [saved, lost].filter(Boolean).join('; ');
  }

  private reason = '';
  private refused = 0;
  private refusedReason = '';

  /** Rows MySQL refused (bad data): the crawl goes on, each is kept in the spill file. */
  get refusedRows(): number {
    return this.refused;
  }

  /** Sets aside a record MySQL refused: into the spill file, named by error() at the end. */
  private refuse(record: PageRecord, reason: string): void {
    this.refused++;
    this.refusedReason ||= `${reason} (${record.url.length > 200 ? `${record.url.slice(0, 200)}…` : record.url})`;
    this.spill([record]);
  }

  /** Gives up on the database: held records (and any later ones) go to a JSONL file. */
  private giveUp(reason: string): void {
    this.reason = reason;
    this.failure = new RawcrawlError('ERR_STORAGE', reason);
    const records = this.held;
    this.held = [];
    this.spill(records);
    this.wakeWriters();
  }

  private wakeWriters(): void {
    if (this.held.length > this.maxHeld && !this.failure) return;
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const f of w) f();
  }
}

/** A new spill file's path: `rawcrawl-unsaved-<time>.jsonl` in `dir` (default: the current directory). */
export function spillFileName(dir: string | undefined): string {
  return path.resolve(dir ?? '.', `rawcrawl-unsaved-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
}

/** Appends records to a spill file: JSON Lines, the fields of the pages table. */
export function appendSpill(file: string, records: PageRecord[]): void {
  appendFileSync(file, records.map((r) => JSON.stringify(storedFields(r)) + '\n').join(''));
}

export function isConnectionError(e: { code?: string; fatal?: boolean }): boolean {
  return Boolean(e.fatal) || /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|PROTOCOL_CONNECTION_LOST|ER_CON_COUNT_ERROR|ENOTFOUND|EHOSTUNREACH|ER_SERVER_SHUTDOWN|ER_ACCESS_DENIED_ERROR)$/.test(e.code ?? '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
