import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import type { PageRecord } from '../crawl/record.js';
import { RawcrawlError } from '../errors.js';
import { errorLine } from './fetch.js';
import { EXIT, type Io } from './io.js';

/**
 * Records held by the sink while it writes: the reading waits beyond this, so a large file is
 * never in memory (two of the sink's 500-row batches).
 */
const MAX_HELD = 1000;

export function importCommand(io: Io, setExit: (code: number) => void): Command {
  return new Command('import')
    .description('load JSON Lines page records (rawcrawl-unsaved-*.jsonl, crawl -o output) into MySQL (safe to run again)')
    .argument('<files...>', 'JSON Lines files, one page record a line (- for standard input)')
    .addOption(new Option('--mysql <url>', 'mysql://user:pass@host:3306/db').env('RAWCRAWL_MYSQL_URL'))
    .action(async (files: string[], flags: { mysql?: string }) => {
      setExit(await runImport(files, flags, io));
    });
}

/** An input: a file opened, or standard input (`-`, no handle). */
interface Input {
  file: string;
  handle: FileHandle | null;
}

async function runImport(files: string[], flags: { mysql?: string }, io: Io): Promise<number> {
  const inputs: Input[] = [];
  try {
    if (!flags.mysql) throw new RawcrawlError('ERR_INVALID_OPTION', 'import needs --mysql URL (or RAWCRAWL_MYSQL_URL)');
    const dashes = files.filter((f) => f === '-').length;
    if (dashes > 1) throw new RawcrawlError('ERR_INVALID_OPTION', 'standard input (-) can be read once only');
    if (dashes === 1 && !io.stdin) throw new RawcrawlError('ERR_INVALID_OPTION', 'no standard input to read (-)');
    // Every file is opened before the database is touched: a wrong name costs nothing.
    for (const file of files) inputs.push({ file, handle: file === '-' ? null : await openInput(file) });
  } catch (err) {
    await Promise.all(inputs.map((i) => i.handle?.close().catch(() => {})));
    io.stderr.write(errorLine(err) + '\n');
    return err instanceof RawcrawlError && err.code === 'ERR_INVALID_OPTION' ? EXIT.USAGE : EXIT.FAILED;
  }
  let code: number = EXIT.OK;
  try {
    const { connectMysql, MysqlSink } = await import('../sinks/mysql.js');
    for (const { file, handle } of inputs) {
      // The same connect (schema.sql applied, tables made when missing) and the same batched
      // upsert as a crawl's --mysql; a sink per file, so that each file's count is its own.
      const pool = await connectMysql(flags.mysql);
      const sink = new MysqlSink(pool, {
        maxHeld: MAX_HELD,
        onRetry: (err, attempt) => {
          if (attempt === 1) io.stderr.write(`rawcrawl: MySQL write failed (${(err as { code?: string }).code ?? err.message}); holding records and retrying\n`);
        },
      });
      const name = handle ? file : 'standard input';
      let result: { skipped: number; readError: unknown };
      try {
        const input = handle ? handle.createReadStream({ encoding: 'utf8', autoClose: false }) : stdinText(io);
        result = await readRecords(name, input, io, (record) => sink.write(record));
      } finally {
        // Stores what was read, also after a read error.
        await sink.close();
      }
      const { skipped, readError } = result;
      io.stderr.write(`rawcrawl: imported ${sink.written} record${sink.written === 1 ? '' : 's'} from ${name} (${skipped} line${skipped === 1 ? '' : 's'} skipped)\n`);
      if (readError) io.stderr.write(errorLine(readError) + '\n');
      if (sink.error) io.stderr.write(errorLine(sink.error) + '\n');
      if (skipped > 0 || readError || sink.error) code = EXIT.FAILED;
    }
  } catch (err) {
    io.stderr.write(errorLine(err) + '\n');
    code = err instanceof RawcrawlError && err.code === 'ERR_INVALID_OPTION' ? EXIT.USAGE : EXIT.FAILED;
  } finally {
    await Promise.all(inputs.map((i) => i.handle?.close().catch(() => {})));
  }
  return code;
}

/** Standard input as text (runImport has checked that there is one). */
function stdinText(io: Io): Readable {
  const stdin = io.stdin!;
  stdin.setEncoding('utf8');
  return stdin;
}

function cannotRead(file: string, err: unknown): RawcrawlError {
  return new RawcrawlError('ERR_STORAGE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
}

/** Opens an input file; a directory is refused now rather than at its first read. */
async function openInput(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw cannotRead(file, err);
  }
  try {
    if ((await handle.stat()).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (err) {
    await handle.close().catch(() => {});
    throw cannotRead(file, err);
  }
  return handle;
}

/**
 * Reads `input` (text) line by line (readline over a stream: the reading waits while `store`
 * does), hands each valid record to `store`, and reports each line that is not one on stderr,
 * named by `file`.
 */
async function readRecords(file: string, input: Readable, io: Io, store: (record: PageRecord) => Promise<void>): Promise<{ skipped: number; readError: unknown }> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let skipped = 0;
  let first = true;
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      // A blank line (an editor's trailing newline, say) holds no record: not counted.
      if (line.trim() === '') continue;
      // `crawl -o pages.csv` given by mistake: one line saying so, not one per row.
      if (first && line.startsWith('url,final_url,')) {
        return { skipped, readError: new RawcrawlError('ERR_INVALID_OPTION', `${file} is CSV (its first line is rawcrawl's CSV header row): import reads JSON Lines (crawl -o FILE.jsonl, or --format jsonl)`) };
      }
      first = false;
      const parsed = parseRecord(line);
      if (typeof parsed === 'string') {
        skipped++;
        io.stderr.write(`rawcrawl: ${file}:${lineNo}: skipped, ${oneLine(parsed)}\n`);
        continue;
      }
      await store(parsed);
    }
    return { skipped, readError: null };
  } catch (err) {
    return { skipped, readError: err instanceof RawcrawlError ? err : cannotRead(file, err) };
  } finally {
    lines.close();
    input.destroy();
  }
}

function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * One line as a page record (the fields storedFields() writes), or what is wrong with it. `url`
 * and `fetched_at` are required; a field left out takes the column's default (null, 0, 1 attempt,
 * no leniencies); a field of the wrong type makes the line invalid, so that one bad line never
 * costs the batch it would be stored in.
 */
function parseRecord(line: string): PageRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (!isObject(value)) return 'not a record (a JSON object)';
  const r = value;
  if (typeof r.url !== 'string' || r.url === '') return 'no url';
  if (typeof r.fetched_at !== 'string' || Number.isNaN(Date.parse(r.fetched_at))) return r.fetched_at === undefined ? 'no fetched_at' : 'fetched_at is not a date';
  const bad = (field: string, what: string): string => `${field} is not ${what}`;
  for (const f of ['final_url', 'content_type', 'title', 'referrer', 'error', 'error_message', 'error_excerpt', 'body'] as const) {
    if (r[f] !== undefined && r[f] !== null && typeof r[f] !== 'string') return bad(f, 'a string or null');
  }
  for (const f of ['status', 'error_offset'] as const) {
    if (r[f] !== undefined && r[f] !== null && !isCount(r[f])) return bad(f, 'a whole number or null');
  }
  for (const f of ['depth', 'bytes', 'attempts'] as const) {
    if (r[f] !== undefined && !isCount(r[f])) return bad(f, 'a whole number');
  }
  for (const f of ['timings', 'capture'] as const) {
    if (r[f] !== undefined && r[f] !== null && !isObject(r[f])) return bad(f, 'an object or null');
  }
  if (r.fields !== undefined && !isObject(r.fields)) return bad('fields', 'an object');
  if (r.leniencies !== undefined && !Array.isArray(r.leniencies)) return bad('leniencies', 'a list');
  const record: PageRecord = {
    url: r.url,
    final_url: (r.final_url ?? null) as string,
    status: (r.status ?? null) as number | null,
    content_type: (r.content_type ?? null) as string | null,
    title: (r.title ?? null) as string | null,
    fields: (r.fields ?? {}) as PageRecord['fields'],
    depth: (r.depth ?? 0) as number,
    referrer: (r.referrer ?? null) as string | null,
    bytes: (r.bytes ?? 0) as number,
    fetched_at: r.fetched_at,
    timings: (r.timings ?? null) as PageRecord['timings'],
    error: (r.error ?? null) as string | null,
    error_message: (r.error_message ?? null) as string | null,
    error_offset: (r.error_offset ?? null) as number | null,
    error_excerpt: (r.error_excerpt ?? null) as string | null,
    leniencies: (r.leniencies ?? []) as PageRecord['leniencies'],
    capture: (r.capture ?? null) as PageRecord['capture'],
    attempts: (r.attempts ?? 1) as number,
  };
  if (r.body !== undefined) record.body = r.body as string | null;
  return record;
}
