import { accessSync, constants, statSync, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import { crawl } from '../crawl/crawler.js';
import { checkCrawlOptions } from '../crawl/plan.js';
import { CRAWL_DEFAULTS, URL_COLUMN_BYTES, type CrawlOptions } from '../crawl/options.js';
import { RawcrawlError } from '../errors.js';
import type { HeaderPairs } from '../http/request-writer.js';
import { untilCancelled } from '../net/cancel.js';
import { drainOrClose } from '../net/stream-writer.js';
import type { Sink } from '../sinks/sink.js';
import type { SharedCrawlOptions } from '../sinks/mysql-frontier.js';
import { JsonlSink } from '../sinks/jsonl.js';
import { CsvSink } from '../sinks/csv.js';
import { chainListeners } from '../wire/events.js';
import { wireTraceWriter } from '../wire/trace-writer.js';
import type { CaptureSink } from '../capture/sink.js';
import type { PageRecord } from '../crawl/record.js';
import { errorLine } from './fetch.js';
import { closeOutputFile, EXIT, openOutputFile, StdoutWatch, type Io } from './io.js';
import { addConnectionOptions, connectionFromFlags, type ConnectionFlags } from './connection-flags.js';
import { captureFromFlags, discardUnused, warcRenamedLine } from './capture-flags.js';
import { Progress, summary } from './progress.js';
import { collect, collectHeader, idleTimeoutFrom, parseCount, parseDuration, parseInterval, parsePositive, parseSize, parseTimeout } from './values.js';

interface CrawlFlags extends ConnectionFlags {
  /** The flags given on the command line (attribute names), not defaults or the environment. */
  given?: Set<string>;
  concurrency?: number;
  perHost?: number;
  delay?: number;
  maxPages?: number;
  maxDepth?: number;
  timeout?: number;
  idleTimeout?: number;
  maxUrlLength?: number;
  maxQueue?: number;
  maxRedirects?: number;
  maxBody?: number;
  retries?: number;
  allowHost?: string[];
  sitemap?: string[];
  sitemaps?: boolean;
  include?: string[];
  exclude?: string[];
  storeOnly?: string[];
  skipBinary?: boolean;
  select?: string[];
  selectAll?: string[];
  storeBody?: boolean;
  ignoreRobots?: boolean;
  userAgent?: string;
  header?: HeaderPairs;
  cookies?: boolean;
  out?: string;
  format?: 'jsonl' | 'csv';
  mysql?: string;
  mysqlGiveUp?: number;
  spillDir?: string;
  crawlId?: string;
  lease?: number;
  quiet?: boolean;
  progressEvery?: number;
  dumpWire?: string | boolean;
  dumpWireMatch?: string;
  dumpWireFull?: boolean;
  parseThreads?: number;
  grace?: number;
  maxTime?: number;
  capture?: string;
  warc?: string;
  warcMaxSize?: number;
}

function regex(flag: string) {
  return (value: string, previous: RegExp[] = []): RegExp[] => {
    try {
      return [...previous, new RegExp(value)];
    } catch (err) {
      throw new InvalidArgumentError(`${flag} ${JSON.stringify(value)} is not a valid regular expression: ${(err as Error).message}`);
    }
  };
}

function parseSelect(value: string, previous: string[] = []): string[] {
  const i = value.indexOf('=');
  if (i <= 0 || i === value.length - 1) throw new InvalidArgumentError(`${JSON.stringify(value)} is not name=CSS`);
  return [...previous, value];
}

export function crawlCommand(io: Io, setExit: (code: number) => void): Command {
  const command = new Command('crawl')
    .description('crawl from the start URL(s) and store one record per page (JSON Lines, CSV or MySQL)')
    .argument('[start-url...]', 'where to start; their hosts are in scope (none: start from --sitemap, whose hosts are)')
    .option('-c, --concurrency <n>', 'pages fetched at once', parsePositive, CRAWL_DEFAULTS.concurrency)
    .option('--per-host <n>', 'pages fetched at once from one host', parsePositive, CRAWL_DEFAULTS.perHost)
    .option('--delay <duration>', 'least time between request starts per host (robots Crawl-delay wins when larger)', parseDuration, 0)
    .option('--max-pages <n>', 'stop after fetching this many pages', parsePositive)
    .option('--max-depth <n>', 'follow links at most this deep (start URLs are depth 0)', parseCount)
    .option('--timeout <duration>', 'limit on each request', parseTimeout, 30_000)
    .option('--idle-timeout <duration>', 'limit on the wait for the next byte (default 15s, or --timeout when given and longer)', parseTimeout)
    .option('--max-url-length <n>', `do not follow links or redirects to longer URLs (at most ${URL_COLUMN_BYTES})`, parseMaxUrlLength, 8000)
    .option('--max-queue <n>', 'URLs the in-memory queue holds at most; links found while it is full are not queued (counted in the summary)', parsePositive, CRAWL_DEFAULTS.maxQueue)
    .option('--max-redirects <n>', 'redirects followed in a row from a page', parseCount, 10)
    .option('--max-body <size>', 'limit on each decoded body', parseSize, 16 * 1024 * 1024)
    .option('--retries <n>', 'further attempts for connect errors, resets, timeouts, 429 and 5xx', parseCount, 2)
    .option('--allow-host <host>', 'also crawl this host ("*.example.com" for subdomains; repeatable)', collect)
    .option('--sitemap <url>', 'queue the page URLs of this sitemap (XML, sitemap index or text; gzipped or not) as start URLs (repeatable)', collect)
    .option('--sitemaps', "also read the sitemaps each start URL's robots.txt names (or its /sitemap.xml)")
    .addOption(new Option('--include <regex>', 'fetch only URLs matching (repeatable: any)').argParser(regex('--include')))
    .addOption(new Option('--exclude <regex>', 'never fetch URLs matching (repeatable)').argParser(regex('--exclude')))
    .option('--skip-binary', 'do not follow links to images, audio, video, archives, office files, PDFs, fonts or CSS (by extension, as Scrapy)')
    .addOption(new Option('--store-only <regex>', 'store only pages whose URL matches; others are fetched for their links only (repeatable)').argParser(regex('--store-only')))
    .option('--select <name=css>', 'store the text of the first match of CSS as fields.name, or with ::attr(NAME) at the end its attribute NAME (repeatable)', parseSelect)
    .option('--select-all <name=css>', 'as --select, but fields.name lists every match (repeatable)', parseSelect)
    .option('--store-body', 'store the decoded body text')
    .option('--ignore-robots', 'do not fetch or obey robots.txt')
    .option('--user-agent <ua>', 'User-Agent header; its first word is the robots.txt token')
    .option('-H, --header <line>', '"Name: value" header sent with every request of the crawl, robots.txt included (repeatable; not Host or User-Agent)', collectHeader)
    .option('--no-cookies', 'do not keep the cookies sites set, nor send them back (by default kept in memory, RFC 6265)')
    .option('-o, --out <file>', 'write the records to FILE instead of stdout (CSV when it ends in .csv)')
    .addOption(new Option('--format <format>', 'records as JSON Lines (every field) or CSV (a header row, then the flat fields, fields.NAME per --select and --select-all); default: jsonl, or csv for -o *.csv').choices(['jsonl', 'csv']))
    .addOption(new Option('--mysql <url>', 'store in MySQL/MariaDB: mysql://user:pass@host:3306/db').env('RAWCRAWL_MYSQL_URL'))
    .option('--crawl-id <name>', 'keep the frontier in MySQL under this name: resumable, shareable by several processes (needs --mysql)')
    .option('--lease <duration>', 'with --crawl-id: lease on claimed URLs, renewed while working; a dead process\'s URLs are retaken after it (at least 1s)', parseLease, 30_000)
    .option('--mysql-give-up <duration>', 'how long to wait for a MySQL server that went away before saving records to a file', parseDuration, 60_000)
    .option('--spill-dir <dir>', 'where records go if MySQL stays away past --mysql-give-up (default: the current directory)')
    .option('-q, --quiet', 'no progress and no summary on stderr')
    .option('--progress-every <duration>', 'progress line interval when stderr is not a terminal', parseInterval, 5000)
    .addOption(new Option('--dump-wire [file]', 'trace every connection (stderr, or FILE)'))
    .option('--dump-wire-match <regex>', 'trace only connections whose URL matches')
    .option('--dump-wire-full', 'show whole bodies in the wire trace')
    .option('--parse-threads <n>', 'worker threads for HTML parsing (default: cores - 1, up to 8; 0 on 2 cores or fewer: parse on the main thread)', parseCount);
  return addConnectionOptions(command)
    .option('--capture <dir>', 'store each exchange (exact bytes, reads, timings, TLS) as a file in DIR (docs/capture.md)')
    .option('--warc <file>', 'write every exchange to a WARC/1.1 file (.warc.gz: gzip per record)')
    .option('--warc-max-size <size>', 'start a new WARC file at this size (1G, 512M)', parseSize)
    .option('--grace <duration>', 'after Ctrl+C or --max-time, how long in-flight requests may finish', parseDuration, 10_000)
    .option('--max-time <duration>', 'stop taking pages after this long (30m, 2h): in-flight ones finish within --grace, exit 0; with --crawl-id the rest stays queued for the next run', parseTimeout)
    .action(async (startUrls: string[], flags: CrawlFlags) => {
      flags.given = new Set(command.options.map((o) => o.attributeName()).filter((k) => command.getOptionValueSource(k) === 'cli'));
      // -o or --format on the command line wins over a database named only by RAWCRAWL_MYSQL_URL.
      if ((flags.out !== undefined || flags.format !== undefined) && !flags.crawlId && command.getOptionValueSource('mysql') === 'env') delete flags.mysql;
      setExit(await runCrawl(startUrls, flags, io));
    });
}

/** --max-url-length: a count the MySQL url column can hold. */
function parseMaxUrlLength(value: string): number {
  const n = parseCount(value);
  if (n > URL_COLUMN_BYTES) throw new InvalidArgumentError(`"${value}" is more than ${URL_COLUMN_BYTES}, what the MySQL url column holds`);
  return n;
}

/**
 * --spill-dir is only written to when MySQL has gone away for good: a directory that is not
 * there or not writable would lose the records then, so it is checked now.
 */
function checkSpillDir(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `--spill-dir ${dir} is not a writable directory: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** --lease: a claim must outlast the renewal that keeps it (every third of the lease) and a page's fetch. */
function parseLease(value: string): number {
  const ms = parseDuration(value);
  if (ms < 1000) throw new InvalidArgumentError(`"${value}" is too short for a lease: at least 1s, so that a claim outlasts its renewal`);
  return ms;
}

/** With --crawl-id the frontier stores records itself: the sink only counts. */
class CountingSink implements Sink {
  written = 0;
  async write(): Promise<void> {
    this.written++;
  }
  async close(): Promise<void> {}
}

/**
 * What this command asked for that the joined crawl's stored options override, each as the
 * crawl has it: "--max-pages 2000 (asked: 2100)". Only flags given on the command line (a
 * default the crawl was started without is no request), and the start URLs.
 */
function overridden(flags: CrawlFlags, mine: SharedCrawlOptions, stored: SharedCrawlOptions): string[] {
  const given = flags.given ?? new Set<string>();
  const show = (v: unknown, key: keyof SharedCrawlOptions): string => {
    if (key === 'delayMs') return `${String(v)}ms`;
    if (Array.isArray(v)) return v.length === 0 ? 'none' : v.map((x) => (Array.isArray(x) ? x.join('=') : String(x))).join(' ');
    return v === null || v === undefined ? 'none' : v === true ? 'on' : v === false ? 'off' : String(v);
  };
  const out: string[] = [];
  const check = (flag: string, key: keyof SharedCrawlOptions, attr: string | null): void => {
    if (attr !== null && !given.has(attr)) return;
    // Not stored (an older crawl): this command's own applies.
    if (stored[key] === undefined || JSON.stringify(mine[key]) === JSON.stringify(stored[key])) return;
    out.push(`${flag} ${show(stored[key], key)} (asked: ${show(mine[key], key)})`);
  };
  check('start URLs', 'startUrls', null);
  check('--allow-host', 'allowHosts', 'allowHost');
  check('--include', 'include', 'include');
  check('--exclude', 'exclude', 'exclude');
  check('--store-only', 'storeOnly', 'storeOnly');
  check('--max-depth', 'maxDepth', 'maxDepth');
  check('--max-pages', 'maxPages', 'maxPages');
  check('--per-host', 'perHost', 'perHost');
  check('--delay', 'delayMs', 'delay');
  check('--select', 'selects', 'select');
  check('--select-all', 'selectAll', 'selectAll');
  check('--store-body', 'storeBody', 'storeBody');
  check('--ignore-robots', 'ignoreRobots', 'ignoreRobots');
  check('--skip-binary', 'skipBinary', 'skipBinary');
  check('--user-agent', 'userAgent', 'userAgent');
  return out;
}

/** --crawl-id: joins (or creates) the crawl in MySQL; its stored scope and limits win. */
async function openSharedFrontier(flags: CrawlFlags, options: CrawlOptions, io: Io, progress: () => Progress | null): Promise<void> {
  if (!flags.mysql) throw new RawcrawlError('ERR_INVALID_OPTION', '--crawl-id needs --mysql URL (or RAWCRAWL_MYSQL_URL)');
  const { connectMysql } = await import('../sinks/mysql.js');
  const { joinCrawl, MysqlFrontier } = await import('../sinks/mysql-frontier.js');
  const pool = await connectMysql(flags.mysql);
  const mine: SharedCrawlOptions = {
    startUrls: options.startUrls,
    allowHosts: options.allowHosts ?? [],
    include: (options.include ?? []).map((r) => r.source),
    exclude: (options.exclude ?? []).map((r) => r.source),
    storeOnly: (options.storeOnly ?? []).map((r) => r.source),
    maxDepth: options.maxDepth ?? null,
    maxPages: options.maxPages ?? null,
    perHost: options.perHost ?? CRAWL_DEFAULTS.perHost,
    delayMs: options.delayMs ?? 0,
    selects: options.selects ?? [],
    selectAll: options.selectAll ?? [],
    storeBody: Boolean(options.storeBody),
    ignoreRobots: Boolean(options.ignoreRobots),
    skipBinary: Boolean(options.skipBinary),
    userAgent: options.userAgent ?? null,
  };
  let joined;
  try {
    joined = await joinCrawl(pool, flags.crawlId!, mine);
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  const o = joined.options;
  if (!joined.created && !flags.quiet) {
    const differ = overridden(flags, mine, o);
    io.stderr.write(`rawcrawl: joining crawl ${joined.name}: its start URLs, scope, limits and record fields apply${differ.length > 0 ? ` (not this command's: ${differ.join(', ')})` : ''}\n`);
  }
  options.startUrls = o.startUrls;
  options.allowHosts = o.allowHosts;
  options.include = o.include.map((r) => new RegExp(r));
  options.exclude = o.exclude.map((r) => new RegExp(r));
  options.storeOnly = o.storeOnly.map((r) => new RegExp(r));
  if (o.maxDepth !== null) options.maxDepth = o.maxDepth;
  else delete options.maxDepth;
  options.perHost = o.perHost;
  options.delayMs = o.delayMs;
  // Records alike whichever process fetched the page (a crawl stored before these were shared
  // has none of them: each process keeps its own).
  if (o.selects !== undefined) options.selects = o.selects;
  if (o.selectAll !== undefined) options.selectAll = o.selectAll;
  if (o.storeBody !== undefined) options.storeBody = o.storeBody;
  if (o.ignoreRobots !== undefined) options.ignoreRobots = o.ignoreRobots;
  if (o.skipBinary !== undefined) options.skipBinary = o.skipBinary;
  if (o.userAgent !== undefined) {
    if (o.userAgent === null) delete options.userAgent;
    else options.userAgent = o.userAgent;
  }
  // --max-pages is counted by the shared frontier across processes, not per process.
  delete options.maxPages;
  options.backend = (ctx) =>
    new MysqlFrontier(pool, joined, ctx, {
      leaseMs: flags.lease ?? 30_000,
      giveUpMs: flags.mysqlGiveUp ?? 60_000,
      ...(flags.spillDir ? { spillDir: flags.spillDir } : {}),
      onAway: (err) => {
        if (!flags.quiet) progress()?.say(`rawcrawl: MySQL frontier unreachable (${(err as { code?: string }).code ?? err.message}); waiting and retrying`);
      },
      onBack: (awayMs) => {
        if (!flags.quiet) progress()?.say(`rawcrawl: MySQL frontier reachable again after ${(awayMs / 1000).toFixed(1)} s`);
      },
    });
}

async function openSink(flags: CrawlFlags, options: CrawlOptions, io: Io, progress: () => Progress | null): Promise<Sink> {
  if (flags.mysql || flags.crawlId) {
    // Records go to one place: a flag for another would be silently ignored.
    if (flags.out) throw new RawcrawlError('ERR_INVALID_OPTION', `-o ${flags.out} and --mysql both say where records go: give one of them`);
    if (flags.format) throw new RawcrawlError('ERR_INVALID_OPTION', '--format is for records written to -o FILE or stdout: with --mysql they go to the database');
  }
  if (flags.crawlId) return new CountingSink();
  if (flags.mysql) {
    // Loaded only when asked for: mysql2 is not needed for a JSON Lines crawl.
    const { connectMysql, MysqlSink } = await import('../sinks/mysql.js');
    const pool = await connectMysql(flags.mysql);
    return new MysqlSink(pool, {
      giveUpMs: flags.mysqlGiveUp ?? 60_000,
      ...(flags.spillDir ? { spillDir: flags.spillDir } : {}),
      onRetry: (err, attempt) => {
        if (attempt === 1 && !flags.quiet) progress()?.say(`rawcrawl: MySQL write failed (${(err as { code?: string }).code ?? err.message}); holding records and retrying`);
      },
    });
  }
  const csv = (flags.format ?? (flags.out?.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl')) === 'csv';
  const columns = { fields: [...(options.selects ?? []), ...(options.selectAll ?? [])].map(([name]) => name), body: Boolean(options.storeBody), capture: Boolean(flags.warc || flags.capture) };
  if (flags.out) {
    const file = await openOutputFile(flags.out, 'output file');
    const name = `output file ${flags.out}`;
    return csv ? new CsvSink(file, true, name, columns) : new JsonlSink(file, true, name);
  }
  return csv ? new CsvSink(io.stdout, false, 'stdout', columns) : new JsonlSink(io.stdout, false, 'stdout');
}

async function runCrawl(startUrls: string[], flags: CrawlFlags, io: Io): Promise<number> {
  /** The --dump-wire FILE, when the trace goes to one (else stderr). */
  let traceFile: WriteStream | null = null;
  /** Where --dump-wire writes (traceFile or stderr): the crawl waits while it is behind. */
  let traceOut: Writable | null = null;
  let progress: Progress | null = null;
  let sink: Sink;
  let capture: CaptureSink | null = null;
  const controller = new AbortController();
  const options: CrawlOptions = { startUrls, signal: controller.signal };
  try {
    if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
    if (flags.perHost !== undefined) options.perHost = flags.perHost;
    if (flags.delay !== undefined) options.delayMs = flags.delay;
    if (flags.maxPages !== undefined) options.maxPages = flags.maxPages;
    if (flags.maxDepth !== undefined) options.maxDepth = flags.maxDepth;
    if (flags.timeout !== undefined) options.timeoutMs = flags.timeout;
    // --timeout's default (30 s) leaves the idle limit at 15 s; a --timeout given raises it too.
    const idle = idleTimeoutFrom(flags.idleTimeout, flags.given?.has('timeout') ? flags.timeout : undefined);
    if (idle !== undefined) options.idleTimeoutMs = idle;
    if (flags.maxUrlLength !== undefined) options.maxUrlLength = flags.maxUrlLength;
    if (flags.maxRedirects !== undefined) options.maxRedirects = flags.maxRedirects;
    if (flags.maxQueue !== undefined) options.maxQueue = flags.maxQueue;
    if (flags.maxBody !== undefined) options.maxBodyBytes = flags.maxBody;
    if (flags.retries !== undefined) options.retries = flags.retries;
    if (flags.allowHost) options.allowHosts = flags.allowHost;
    if (flags.sitemap) options.sitemaps = flags.sitemap;
    if (flags.sitemaps) options.discoverSitemaps = true;
    if (flags.include) options.include = flags.include as unknown as RegExp[];
    if (flags.skipBinary) options.skipBinary = true;
    if (flags.exclude) options.exclude = flags.exclude as unknown as RegExp[];
    if (flags.storeOnly) options.storeOnly = flags.storeOnly as unknown as RegExp[];
    const pairs = (list: string[]): Array<[string, string]> => list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]);
    if (flags.select) options.selects = pairs(flags.select);
    if (flags.selectAll) options.selectAll = pairs(flags.selectAll);
    if (flags.storeBody) options.storeBody = true;
    if (flags.ignoreRobots) options.ignoreRobots = true;
    if (flags.userAgent) options.userAgent = flags.userAgent;
    if (flags.header) options.headers = flags.header;
    if (flags.cookies === false) options.cookies = false;
    if (flags.parseThreads !== undefined) options.parseThreads = flags.parseThreads;
    Object.assign(options, connectionFromFlags(flags, io.env));
    // Refused here, before any output is opened: a crawl that cannot start empties no -o file.
    checkCrawlOptions(options);
    if (flags.dumpWire === undefined || flags.dumpWire === false) {
      // A flag that would do nothing: most likely --dump-wire was meant too.
      if (flags.dumpWireMatch !== undefined) throw new RawcrawlError('ERR_INVALID_OPTION', '--dump-wire-match needs --dump-wire');
      if (flags.dumpWireFull) throw new RawcrawlError('ERR_INVALID_OPTION', '--dump-wire-full needs --dump-wire');
    } else {
      let match: RegExp | undefined;
      if (flags.dumpWireMatch !== undefined) {
        try {
          match = new RegExp(flags.dumpWireMatch);
        } catch (err) {
          throw new RawcrawlError('ERR_INVALID_OPTION', `--dump-wire-match is not a valid regular expression: ${(err as Error).message}`);
        }
      }
      if (typeof flags.dumpWire === 'string' && flags.dumpWire !== '-') traceFile = await openOutputFile(flags.dumpWire, '--dump-wire file');
      traceOut = traceFile ?? io.stderr;
      options.onWire = wireTraceWriter(traceOut, { full: Boolean(flags.dumpWireFull), ...(match ? { match: (u: string) => match.test(u) } : {}) });
    }
    if (flags.spillDir !== undefined) checkSpillDir(flags.spillDir);
    if (flags.crawlId) await openSharedFrontier(flags, options, io, () => progress);
    capture = captureFromFlags(flags);
    // The sink last: -o FILE is emptied only once everything else is open. A crawl that cannot
    // start then (its database unreachable, …) leaves no WARC file either.
    try {
      sink = await openSink(flags, options, io, () => progress);
    } catch (err) {
      if (capture) await discardUnused(capture);
      throw err;
    }
    if (capture) {
      const renamed = warcRenamedLine(flags, capture);
      if (renamed && !flags.quiet) io.stderr.write(renamed + '\n');
      const onWire = chainListeners([options.onWire, capture.onWire]);
      if (onWire) options.onWire = onWire;
      options.annotate = annotateFrom(capture);
    }
  } catch (err) {
    // `rawcrawl stauts`, `rawcrawl imprt f.jsonl`: a word where a command or a URL was due is
    // most likely a command mistyped.
    const first = startUrls[0];
    const word = first !== undefined && /^[a-z][a-z-]*$/.test(first) && err instanceof RawcrawlError && err.code === 'ERR_INVALID_URL' && err.message.includes(JSON.stringify(first));
    const hint = word ? ` (nor a command: ${closestCommand(first) ? `did you mean ${closestCommand(first)}?` : 'see rawcrawl --help'})` : '';
    io.stderr.write(errorLine(err) + hint + '\n');
    return err instanceof RawcrawlError && (err.code === 'ERR_INVALID_OPTION' || err.code === 'ERR_INVALID_URL') ? EXIT.USAGE : EXIT.FAILED;
  }

  let run;
  try {
    run = crawl(options);
  } catch (err) {
    await sink.close().catch(() => {});
    if (capture) await discardUnused(capture);
    io.stderr.write(errorLine(err) + '\n');
    return EXIT.USAGE;
  }

  // Ctrl+C / SIGTERM / SIGHUP: stop taking URLs, let in-flight pages finish (bounded), flush,
  // exit 130 (SIGHUP: the terminal hung up; rather that than a kill with records held).
  // A second one (or the end of --grace) aborts in-flight requests at once; what was fetched is
  // still stored, or, if MySQL is away, saved to the spill file now rather than after
  // --mysql-give-up (docker stop and systemd send SIGKILL some seconds after their SIGTERM).
  // The handlers stay on until storage is closed: a signal during the last flush is no SIGKILL.
  let interrupted = 0;
  let graceTimer: NodeJS.Timeout | undefined;
  const stopNow = (): void => {
    controller.abort();
    sink.abandon?.(`stopped while MySQL was unreachable`);
  };
  const onSignal = (): void => {
    interrupted++;
    if (interrupted === 1) {
      if (!flags.quiet) progress?.say('rawcrawl: stopping: finishing in-flight pages (Ctrl+C again to abort them)');
      run.stop();
      graceTimer = setTimeout(stopNow, flags.grace ?? 10_000);
    } else {
      stopNow();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // --max-time: the same graceful stop, as a planned end (exit 0).
  const maxTime = flags.maxTime;
  const maxTimeTimer =
    maxTime === undefined
      ? undefined
      : setTimeout(() => {
          if (interrupted > 0) return;
          if (!flags.quiet) progress?.say(`rawcrawl: --max-time reached (${maxTime / 1000} s): finishing in-flight pages`);
          run.stop();
          graceTimer = setTimeout(() => controller.abort(), flags.grace ?? 10_000);
        }, maxTime);

  if (!flags.quiet) {
    progress = new Progress(io, run.stats, flags.progressEvery ?? 5000);
    progress.start();
  }
  let fatal: unknown = null;
  const quirks = new Map<string, Map<string, number>>();
  // `rawcrawl … | head`: when the reader of stdout goes away, stop crawling quietly. (Any other
  // error writing stdout is the sink's to report.)
  const stdout = new StdoutWatch(io.stdout, () => controller.abort());
  try {
    for await (const record of run) {
      countQuirks(quirks, record);
      if (stdout.readerGone) continue;
      await sink.write(record);
      // The trace is written as events come (a listener cannot wait): a reader slower than the
      // crawl (a pipe over ssh, a terminal) holds up the records instead, and so the crawl,
      // rather than the unwritten trace piling up in memory.
      // (drainOrClose() never rejects: the catch takes the abort, a reader gone for good holds no Ctrl+C up.)
      if (traceOut?.writableNeedDrain) await untilCancelled(drainOrClose(traceOut), controller.signal).catch(() => {});
      if ((sink.error || capture?.error) && !controller.signal.aborted) {
        // Storage is gone for good: stop fetching; what is still yielded goes to the spill file
        // (or, when the WARC or capture directory failed, to the sink, without its capture).
        controller.abort();
      }
    }
  } catch (err) {
    if (!stdout.readerGone) fatal = err;
    controller.abort();
  } finally {
    clearTimeout(maxTimeTimer);
    progress?.stop();
  }
  try {
    await sink.close();
  } catch (err) {
    if (!stdout.readerGone) fatal ??= err;
  }
  if (traceFile) {
    try {
      await closeOutputFile(traceFile, '--dump-wire file');
    } catch (err) {
      fatal ??= err;
    }
  }
  if (capture) {
    try {
      await capture.close();
    } catch (err) {
      fatal ??= err;
    }
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  clearTimeout(graceTimer);
  if (!flags.quiet) io.stderr.write(summary(run.stats, sink.written) + quirksSummary(quirks));
  if (sink.error) {
    io.stderr.write(errorLine(sink.error) + '\n');
    return EXIT.FAILED;
  }
  if (fatal) {
    io.stderr.write(errorLine(fatal) + '\n');
    return EXIT.FAILED;
  }
  return interrupted > 0 ? EXIT.INTERRUPTED : EXIT.OK;
}

/** Adds where the capture sink put a page's exchange to its record. */
function annotateFrom(capture: CaptureSink): (record: PageRecord) => Promise<void> {
  return async (record) => {
    const page = await capture.recordFor(record.url);
    if (!page) return;
    const phases: Record<string, number> = {};
    for (const [k, v] of Object.entries(page.timings)) if (typeof v === 'number') phases[k] = v;
    record.capture = {
      warc_file: page.warcFile,
      warc_offset: page.warcOffset,
      capture_file: page.captureFile,
      phases,
      tls: page.tls
        ? { protocol: page.tls.protocol, cipher: page.tls.cipher, closeNotify: page.tls.closeNotify, ...(page.tls.fingerprint256 ? { fingerprint256: page.tls.fingerprint256 } : {}) }
        : null,
      remote_address: page.remoteAddress,
    };
  };
}

/** Host → leniency kind → pages, for the summary's table of server quirks. */
function countQuirks(quirks: Map<string, Map<string, number>>, record: PageRecord): void {
  if (record.leniencies.length === 0) return;
  const host = new URL(record.url).host;
  let byKind = quirks.get(host);
  if (!byKind) quirks.set(host, (byKind = new Map()));
  for (const kind of new Set(record.leniencies.map((l) => l.kind))) byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
}

function quirksSummary(quirks: Map<string, Map<string, number>>): string {
  if (quirks.size === 0) return '';
  const lines = ['  server quirks (pages where the parser was lenient):'];
  for (const [host, byKind] of [...quirks].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`    ${host}  ${[...byKind].map(([k, n]) => `${k}=${n}`).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/** The commands besides the crawl, for a mistyped one. */
const COMMANDS = ['crawl', 'fetch', 'init-db', 'import', 'replay', 'status', 'help'];

/** The command `word` is at most 2 edits (insert, delete, replace, swap) from, if one. */
function closestCommand(word: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of COMMANDS) {
    const d = editDistance(word, name);
    if (d <= 2 && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
