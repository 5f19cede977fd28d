import { checkRequestOptions, RawcrawlError, validateHeaders, type HeaderPairs, type RequestOptions, type WireListener } from '../client/index.js';
import type { BackendContext, FrontierBackend } from './frontier-backend.js';
import type { PageRecord } from './record.js';
import type { BackoffPolicy } from './retry.js';

export interface CrawlOptions {
  /** Where the crawl starts; their hosts are in scope. */
  startUrls: string[];
  /** Pages fetched at once (default 8). */
  concurrency?: number;
  /** Pages fetched at once from one host (default 8). */
  perHost?: number;
  /** Least time between request starts to one host, ms (default 0); robots Crawl-delay wins when larger. */
  delayMs?: number;
  /** Stop after this many pages have been fetched (default: no limit). */
  maxPages?: number;
  /** Links deeper than this are not followed; start URLs are depth 0 (default: no limit). */
  maxDepth?: number;
  /** Per-request limit (default 30 s). */
  timeoutMs?: number;
  /** A request fails when no byte is received or sent for this long (default 15 s, as request()'s). */
  idleTimeoutMs?: number;
  /**
   * Links and redirect targets whose normalised URL is longer than this many characters are not
   * followed (counted in stats.urlsTooLong); a longer start URL is an error. Default 8,000 (RFC
   * 9110 §4.1: the least length senders and recipients should support); at most 65,535, what
   * the MySQL `url` column holds. A page of hostile markup cannot then make rows MySQL refuses.
   */
  maxUrlLength?: number;
  /**
   * URLs the in-memory frontier holds at most (default 1,000,000: about 0.3 GB). A link found
   * while it is full is not queued, nor marked seen (found again once there is room, it is
   * queued then), and is counted in stats.queueFull: a site of endless links cannot exhaust the
   * heap. The MySQL frontier (--crawl-id) keeps its queue in the database and has no such bound.
   */
  maxQueue?: number;
  /**
   * Redirects followed in a row from a page (default 10, as Crawlee; Scrapy 20): the next is
   * recorded (its status and final_url) but not followed, and counted in stats.redirectsTooMany.
   * Each redirect target is queued and deduplicated like a link, at its source's depth.
   */
  maxRedirects?: number;
  /** Per-page body limit (default 16 MiB). */
  maxBodyBytes?: number;
  /** Further attempts for connect errors, resets, timeouts, 429 and 5xx (default 2). */
  retries?: number;
  /** More hosts to crawl besides the start URLs' ("*.example.com" for subdomains). */
  allowHosts?: string[];
  /** Only URLs matching one of these are fetched (default: all in scope). */
  include?: RegExp[];
  /** URLs matching any of these are never fetched. */
  exclude?: RegExp[];
  /**
   * Links, redirects and sitemap URLs whose path ends in an image, audio, video, archive,
   * office, PDF, font or style-sheet extension (scope.ts BINARY_EXTENSIONS, Scrapy's list) are
   * not fetched (default false: everything in scope is). Start URLs are fetched whatever they are.
   */
  skipBinary?: boolean;
  /**
   * Only pages whose URL matches one of these become records; the others are still fetched and
   * parsed for links (crawl listing pages to find article pages, store only the articles).
   */
  storeOnly?: RegExp[];
  /**
   * name → CSS selector; each record's `fields[name]` is the text of the first match, or with
   * `::attr(NAME)` at the end of the selector its attribute NAME (null when nothing matches).
   */
  selects?: Array<[string, string]>;
  /** name → CSS selector, as `selects`, but `fields[name]` lists every match (text or attribute), in document order. */
  selectAll?: Array<[string, string]>;
  /** Put the decoded body text into each record. */
  storeBody?: boolean;
  /**
   * Sitemaps to read (sitemaps.org: XML `urlset` or `sitemapindex`, or text; gzipped or not):
   * their page URLs are queued as start URLs are (depth 0, the same scope, --include/--exclude
   * and dedupe), while the crawl runs. Indexes are followed, up to 1,000 sitemap files a crawl.
   */
  sitemaps?: string[];
  /**
   * Also read the sitemaps named by the `Sitemap:` lines of each start URL's robots.txt, or its
   * `/sitemap.xml` when it names none (default false).
   */
  discoverSitemaps?: boolean;
  /** Do not fetch or obey robots.txt. */
  ignoreRobots?: boolean;
  /** Sent as User-Agent; its first word is the robots.txt user-agent token. */
  userAgent?: string;
  /** Worker threads for HTML parsing (default: cores - 1, up to 8; on 2 cores or fewer 0, i.e. inline). */
  parseThreads?: number;
  /** Wire events of every connection the crawl opens. */
  onWire?: WireListener | undefined;
  /** Aborts in-flight requests at once; records already made are still yielded. */
  signal?: AbortSignal;
  /** Passed to every request. */
  tls?: RequestOptions['tls'];
  /**
   * Keep the cookies sites set and send them back (default true), as Scrapy, Crawlee and wget
   * do: RFC 6265 rules, in memory, per process. A Cookie in `headers` goes with every request too.
   */
  cookies?: boolean;
  /** Proxy for every request, robots.txt included (see RequestOptions.proxy). */
  proxy?: RequestOptions['proxy'];
  /** TLS with an https:// proxy (see RequestOptions.proxyTls). */
  proxyTls?: RequestOptions['proxyTls'];
  /** Addresses for host:port instead of DNS, for every request (see RequestOptions.resolve). */
  resolve?: RequestOptions['resolve'];
  headers?: RequestOptions['headers'];
  /** Retry backoff (tests shorten it). */
  backoff?: Partial<BackoffPolicy>;
  /**
   * A frontier other than the in-memory one (the MySQL frontier of `rawcrawl/mysql`): it then owns
   * dedupe, politeness, --max-pages and storing records; they are yielded once stored.
   */
  backend?: (ctx: BackendContext) => FrontierBackend;
  /**
   * Called for each page record before it is stored (with its request finished): adds what a
   * caller knows of the exchange, e.g. where --capture / --warc put its bytes.
   */
  annotate?: (record: PageRecord) => Promise<void>;
  /** Records held for a slow consumer before fetching pauses (default 256). */
  outputBuffer?: number;
}

/**
 * What the MySQL `url` column (TEXT) holds: the most maxUrlLength may be, and where the sink cuts
 * a longer `final_url`. A normalised URL is ASCII, one byte a character.
 */
export const URL_COLUMN_BYTES = 65_535;

export const CRAWL_DEFAULTS = {
  // One host gets at most half the workers, as Scrapy's 16 and 8: a host that answers a byte a
  // second holds 8 of them, and the crawl of every other host goes on with the rest.
  concurrency: 16,
  perHost: 8,
  delayMs: 0,
  maxPages: Infinity,
  maxDepth: Infinity,
  timeoutMs: 30_000,
  idleTimeoutMs: 15_000,
  maxUrlLength: 8_000,
  maxRedirects: 10,
  maxBodyBytes: 16 * 1024 * 1024,
  retries: 2,
  userAgent: 'rawcrawl/0.1 (+https://github.com/rawcrawl/rawcrawl)',
  outputBuffer: 256,
  maxQueue: 1_000_000,
} as const;

/** The options CRAWL_DEFAULTS gives a default for, each with its value. */
export type ResolvedCrawlOptions = { -readonly [K in keyof typeof CRAWL_DEFAULTS]: CrawlOptions[K] & {} };

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? JSON.stringify(v) : typeof v);

/** The kinds of crawl()'s list and switch options (plain JavaScript has no compiler to check them). */
function checkCrawlKinds(options: CrawlOptions): void {
  const fail = (name: string, want: string, v: unknown): never => {
    throw new RawcrawlError('ERR_INVALID_OPTION', `${name} must be ${want}, got ${kindOf(v)}`);
  };
  for (const name of ['include', 'exclude', 'storeOnly'] as const) {
    const v: unknown = options[name];
    if (v !== undefined && !(Array.isArray(v) && v.every((r) => r instanceof RegExp))) fail(name, 'an array of RegExp', v);
  }
  for (const name of ['allowHosts', 'sitemaps'] as const) {
    const v: unknown = options[name];
    if (v !== undefined && !(Array.isArray(v) && v.every((h) => typeof h === 'string'))) fail(name, 'an array of strings', v);
  }
  for (const name of ['selects', 'selectAll'] as const) {
    const v: unknown = options[name];
    if (v !== undefined && !(Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string'))) {
      fail(name, 'an array of [name, CSS] pairs', v);
    }
  }
  for (const name of ['skipBinary', 'storeBody', 'ignoreRobots', 'cookies', 'discoverSitemaps'] as const) {
    const v: unknown = options[name];
    if (v !== undefined && typeof v !== 'boolean') fail(name, 'a boolean', v);
  }
}

/**
 * The crawl's numbers with their defaults, and its extra request headers, checked: a bad value
 * is one ERR_INVALID_OPTION at the start, not a failed page each. (Selectors are extract's to
 * check: this module stays free of cheerio, for the MySQL sink that reads URL_COLUMN_BYTES.)
 */
export function resolveCrawlOptions(options: CrawlOptions): { o: ResolvedCrawlOptions; headers: HeaderPairs } {
  const o: ResolvedCrawlOptions = {
    concurrency: options.concurrency ?? CRAWL_DEFAULTS.concurrency,
    perHost: options.perHost ?? CRAWL_DEFAULTS.perHost,
    delayMs: options.delayMs ?? CRAWL_DEFAULTS.delayMs,
    maxPages: options.maxPages ?? CRAWL_DEFAULTS.maxPages,
    maxDepth: options.maxDepth ?? CRAWL_DEFAULTS.maxDepth,
    timeoutMs: options.timeoutMs ?? CRAWL_DEFAULTS.timeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? CRAWL_DEFAULTS.idleTimeoutMs,
    maxUrlLength: options.maxUrlLength ?? CRAWL_DEFAULTS.maxUrlLength,
    maxRedirects: options.maxRedirects ?? CRAWL_DEFAULTS.maxRedirects,
    maxBodyBytes: options.maxBodyBytes ?? CRAWL_DEFAULTS.maxBodyBytes,
    retries: options.retries ?? CRAWL_DEFAULTS.retries,
    userAgent: options.userAgent ?? CRAWL_DEFAULTS.userAgent,
    outputBuffer: options.outputBuffer ?? CRAWL_DEFAULTS.outputBuffer,
    maxQueue: options.maxQueue ?? CRAWL_DEFAULTS.maxQueue,
  };
  if (!Array.isArray(options.startUrls)) throw new RawcrawlError('ERR_INVALID_OPTION', `startUrls must be an array of URLs, got ${kindOf(options.startUrls)}`);
  if (typeof o.userAgent !== 'string') throw new RawcrawlError('ERR_INVALID_OPTION', `userAgent must be a string, got ${kindOf(o.userAgent)}`);
  checkCrawlKinds(options);
  for (const [k, v] of Object.entries(o)) {
    if (k === 'userAgent') continue;
    // request() takes no time limit of 0: checked here, it is one error, not a failed page each.
    const min = k === 'concurrency' || k === 'perHost' || k === 'timeoutMs' || k === 'maxQueue' ? 1 : 0;
    // Times may be fractional ms; counts and sizes are whole (or Infinity: no limit).
    const whole = k !== 'timeoutMs' && k !== 'idleTimeoutMs' && k !== 'delayMs';
    if (typeof v !== 'number' || !(v >= min) || (whole && !Number.isInteger(v) && v !== Infinity)) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `${k} must be ${whole ? 'an integer' : 'a number'} >= ${min}, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
    }
  }
  // What the crawl hands every request, checked once rather than failing each page.
  checkRequestOptions({ tls: options.tls, proxyTls: options.proxyTls, resolve: options.resolve, onWire: options.onWire, signal: options.signal });
  if (!(o.maxUrlLength <= URL_COLUMN_BYTES)) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `maxUrlLength must be at most ${URL_COLUMN_BYTES} (the MySQL url column), got ${o.maxUrlLength}`);
  }
  const headers = validateHeaders(options.headers);
  for (const [name] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'host') throw new RawcrawlError('ERR_INVALID_OPTION', 'a crawl cannot send one Host header: it visits several hosts, each named in its own requests');
    if (lower === 'user-agent') throw new RawcrawlError('ERR_INVALID_OPTION', 'give the User-Agent as userAgent (--user-agent): its first word is also the robots.txt token');
  }
  if (options.startUrls.length === 0 && (options.sitemaps ?? []).length === 0) throw new RawcrawlError('ERR_INVALID_OPTION', 'no start URL or sitemap given');
  return { o, headers };
}
