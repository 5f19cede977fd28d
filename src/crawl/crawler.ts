import { availableParallelism } from 'node:os';
import { redirectLocation, request, RawcrawlError, type HeaderPairs, type HttpResponse, type RequestOptions } from '../client/index.js';
import { OriginCredentials } from './credentials.js';
import type { CrawlOptions, ResolvedCrawlOptions } from './options.js';
import { planCrawl } from './plan.js';
import type { FrontierEntry } from './frontier.js';
import type { FrontierBackend, NewEntry } from './frontier-backend.js';
import { MemoryBackend } from './memory-backend.js';
import { normalizeUrl } from './normalize-url.js';
import type { ExtractResult } from './extract.js';
import { ParsePool } from './parse-pool.js';
import type { PageRecord } from './record.js';
import { backoffDelay, DEFAULT_BACKOFF, isRetryableError, isRetryableStatus, parseRetryAfter, type BackoffPolicy } from './retry.js';
import { RobotsCache, type RobotsVerdict } from './robots.js';
import { xRobotsTag } from './robots-directives.js';
import { MAX_SITEMAP_BYTES } from './sitemaps.js';
import { readSitemaps } from './sitemap-reader.js';
import { CrawlCookies } from './cookies.js';
import { admit, hostAllowed, matches, type ScopeRules } from './scope.js';
import { emptyStats, type CrawlStats } from './stats.js';
import { isHtml } from './sniff.js';

/** A running crawl: iterate it for records; stop() ends it gracefully. */
export interface Crawl extends AsyncIterable<PageRecord> {
  readonly stats: CrawlStats;
  /** Take no new URLs; in-flight pages finish and are yielded. */
  stop(): void;
}

/**
 * Parser threads when none are asked for: one per core but the I/O thread's, capped at 8. On two
 * cores or fewer there is no core to spare, and handing each page to a thread (a copy, two
 * messages, a wake-up on each side) cost 1.3-1.6 ms of CPU per page more than parsing inline in
 * the crawl benchmark (BENCHMARKS.md): there the default is 0, inline.
 */
export function defaultParseThreads(cores: number): number {
  return cores <= 2 ? 0 : Math.min(8, cores - 1);
}

/** Starts a crawl. Nothing is fetched until the first record is asked for. */
export function crawl(options: CrawlOptions): Crawl {
  return new Crawler(options);
}

/** Pages per fetch slot that may wait for their capture to be written (see finishPage). */
const FINISHING_PER_SLOT = 4;

class Crawler implements Crawl {
  readonly stats: CrawlStats;
  private readonly o: ResolvedCrawlOptions;
  private readonly backend: FrontierBackend;
  private readonly starts: NewEntry[];
  /** CrawlOptions.sitemaps, normalised. */
  private readonly sitemapUrls: string[];
  private readonly scope: ScopeRules;
  private readonly robots: RobotsCache | null;
  private readonly backoff: BackoffPolicy;
  private readonly requestOptions: RequestOptions;
  /** Request headers (User-Agent first, then the caller's), to which a page's cookies are added. */
  private readonly baseHeaders: HeaderPairs;
  private readonly cookies: CrawlCookies | null;
  private readonly credentials: OriginCredentials;
  /** The User-Agent's first word, lower case: the robots.txt and X-Robots-Tag token. */
  private readonly uaToken: string;
  private readonly abort = new AbortController();
  private pool: ParsePool | null = null;

  private stopping = false;
  private finished = false;
  private failure: unknown = null;
  private inFlight = 0;
  /** Pages fetched whose capture is still being written (see finishPage). */
  private readonly finishing = new Set<Promise<void>>();
  private finishError: unknown = null;
  private readonly out: PageRecord[] = [];
  private changeWaiters: Array<() => void> = [];
  private roomWaiters: Array<() => void> = [];
  private recordWaiter: (() => void) | null = null;
  private started = false;
  /** A loop is reading the records (see [Symbol.asyncIterator]). */
  private reading = false;

  constructor(private readonly options: CrawlOptions) {
    const plan = planCrawl(options);
    const { o, extraHeaders, hosts, starts } = plan;
    this.o = o;
    this.credentials = plan.credentials;
    this.sitemapUrls = plan.sitemapUrls;
    this.cookies = options.cookies === false ? null : new CrawlCookies();
    for (const h of options.allowHosts ?? []) hosts.add(h.toLowerCase());
    this.scope = { hosts, include: options.include ?? [], exclude: options.exclude ?? [], maxDepth: o.maxDepth, skipBinary: options.skipBinary === true };
    const ctx = {
      perHost: o.perHost,
      delayMs: o.delayMs,
      maxPages: o.maxPages,
      maxQueue: o.maxQueue,
      onQueueFull: () => {
        this.stats.queueFull++;
      },
      onRecord: (r: PageRecord) => this.emit(r),
      onChange: () => this.notifyChange(),
    };
    this.backend = options.backend ? options.backend(ctx) : new MemoryBackend(ctx);
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.baseHeaders = [['User-Agent', o.userAgent], ...extraHeaders];
    this.requestOptions = {
      timeoutMs: o.timeoutMs,
      idleTimeoutMs: o.idleTimeoutMs,
      maxBodyBytes: o.maxBodyBytes,
      maxRedirects: 0,
      signal: this.abort.signal,
      headers: this.baseHeaders,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
      ...(options.proxyTls ? { proxyTls: options.proxyTls } : {}),
      ...(options.resolve !== undefined ? { resolve: options.resolve } : {}),
      ...(options.onWire ? { onWire: options.onWire } : {}),
    };
    const uaToken = o.userAgent.split(/[\s/]/)[0] ?? 'rawcrawl';
    this.uaToken = uaToken.toLowerCase();
    this.robots = options.ignoreRobots
      ? null
      : new RobotsCache(uaToken, this.requestOptions, {
          onUnavailable: (origin, reason) => {
            this.stats.robotsUnavailable[origin] = reason;
          },
          prepare: (url) => this.credentials.apply(url),
          retries: o.retries,
          backoff: this.backoff,
        });
    this.stats = emptyStats();
    this.starts = starts.map((url) => ({ url, host: new URL(url).host, depth: 0, referrer: null }));
    if (options.signal?.aborted) this.hardStop();
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.backend.stop();
    this.stats.queued = 0;
    this.notifyChange();
  }

  private hardStop(): void {
    this.stop();
    this.abort.abort(new RawcrawlError('ERR_ABORTED', 'crawl aborted'));
    const rooms = this.roomWaiters;
    this.roomWaiters = [];
    for (const f of rooms) f();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PageRecord> {
    // One loop reads the records: a second would take records from the first, and one of them
    // would wait for ever for a record the other took.
    if (this.reading) throw new RawcrawlError('ERR_INVALID_OPTION', 'this crawl is already being read by another loop: read its records in one');
    this.reading = true;
    if (!this.started) {
      this.started = true;
      void this.run();
    }
    try {
      for (;;) {
        if (this.out.length > 0) {
          const r = this.out.shift()!;
          const room = this.roomWaiters.shift();
          room?.();
          yield r;
          continue;
        }
        if (this.finished) {
          if (this.failure) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => {
          this.recordWaiter = resolve;
        });
      }
    } finally {
      this.reading = false;
      // The consumer left early (break, throw): nobody will read further records.
      if (!this.finished) this.hardStop();
    }
  }

  private async run(): Promise<void> {
    // The caller's signal is listened to while the crawl runs, and let go after: a signal that
    // outlives many crawls keeps none of them alive, nor collects their listeners.
    const signal = this.options.signal;
    const onAbort = (): void => this.hardStop();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) this.hardStop();
    try {
      await this.backend.seed(this.starts);
      this.stats.queued = this.backend.queued;
      const threads = this.options.parseThreads ?? defaultParseThreads(availableParallelism());
      this.pool = new ParsePool(threads);
      const workers: Promise<void>[] = [];
      if (this.sitemapUrls.length > 0 || this.options.discoverSitemaps) {
        // Read beside the workers, counted in flight so that none of them leaves before it ends.
        this.inFlight++;
        workers.push(
          this.readSitemaps().finally(() => {
            this.inFlight--;
            this.notifyChange();
          }),
        );
      }
      for (let i = 0; i < this.o.concurrency; i++) {
        workers.push(
          this.worker().catch((err: unknown) => {
            this.stop();
            throw err;
          }),
        );
      }
      // When one worker fails (the frontier gave up on its database), the others still finish
      // the page in hand, so it reaches storage (or the spill file) before the backend closes.
      const ended = await Promise.allSettled(workers);
      while (this.finishing.size > 0) await Promise.allSettled([...this.finishing]);
      const failed = ended.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      if (this.finishError) throw this.finishError;
    } catch (err) {
      this.failure = err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.pool?.close();
      await this.backend.close().catch((err: unknown) => {
        this.failure ??= err;
      });
      // What is left for no one to fetch (none after a stop; with --crawl-id, the shared queue).
      this.stats.queued = this.backend.queued;
      this.stats.inFlight = 0;
      this.finished = true;
      this.wakeConsumer();
    }
  }

  private async worker(): Promise<void> {
    for (;;) {
      // next() counted the job in flight.
      const job = await this.next();
      if (!job) return;
      try {
        await this.process(job.entry, job.host);
        if (this.finishError) throw this.finishError;
      } finally {
        this.inFlight--;
        this.stats.inFlight = this.inFlight;
        this.stats.queued = this.backend.queued;
        this.notifyChange();
      }
    }
  }

  /** The next URL this worker may fetch now, or null when the crawl is over for it. */
  private async next(): Promise<{ entry: FrontierEntry; host: string } | null> {
    for (;;) {
      if (this.stopping) return null;
      const r = await this.backend.take(Date.now());
      if (r && 'entry' in r) {
        // Counted in flight here, in the continuation that receives the entry: takes resolve in
        // the order they were made, so a worker whose take found nothing left after this one
        // sees it. (Counted one await later, in worker(), it was not yet: while the first worker
        // took the start URL every other saw "nothing queued, nothing in flight" and left, and
        // one worker did the whole crawl.)
        this.inFlight++;
        this.stats.inFlight = this.inFlight;
        this.stats.queued = this.backend.queued;
        return r;
      }
      if (r === null && this.inFlight === 0) {
        // Nothing queued and nothing running that could queue more: the crawl is done.
        this.notifyChange();
        return null;
      }
      await this.waitForChange(r && r.waitMs >= 0 ? r.waitMs : -1);
    }
  }

  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.changeWaiters.push(done);
      if (ms >= 0) timer = setTimeout(done, Math.max(1, ms));
    });
  }

  private notifyChange(): void {
    const w = this.changeWaiters;
    this.changeWaiters = [];
    for (const f of w) f();
  }

  private wakeConsumer(): void {
    const w = this.recordWaiter;
    this.recordWaiter = null;
    w?.();
  }

  private async emit(record: PageRecord): Promise<void> {
    this.stats.stored++;
    this.out.push(record);
    this.wakeConsumer();
    if (this.out.length > this.o.outputBuffer && !this.abort.signal.aborted) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
  }

  /** Reads the sitemaps asked for (see readSitemaps), queueing their pages. */
  private readSitemaps(): Promise<void> {
    return readSitemaps({
      sitemapUrls: this.sitemapUrls,
      discover: this.options.discoverSitemaps
        ? {
            origins: [...new Set(this.starts.map((e) => new URL(e.url).origin))],
            // With --ignore-robots robots.txt is still read for its Sitemap lines, and obeyed for nothing.
            robots: this.robots ?? new RobotsCache('rawcrawl', this.requestOptions, { prepare: (url) => this.credentials.apply(url) }),
          }
        : null,
      robots: this.robots,
      backend: this.backend,
      stats: this.stats,
      stopping: () => this.stopping,
      aborted: this.abort.signal,
      waitForChange: (ms) => this.waitForChange(ms),
      notifyChange: () => this.notifyChange(),
      fetch: (url, host) =>
        request(this.credentials.apply(url), { ...this.requestOptions, maxBodyBytes: MAX_SITEMAP_BYTES, onRequestSent: () => this.backend.sent(host, Date.now()) }),
      hostInScope: (url) => hostAllowed(url.hostname, this.scope.hosts),
      inScope: (url, referrer) => this.inScope(url, 0, referrer),
    }).catch((err: unknown) => {
      // An abort ends the reading wherever it is (a robots.txt or sitemap request cut short).
      if (this.abort.signal.aborted) return;
      throw err;
    });
  }

  /** The link as a frontier entry if it is in scope (normalised URL expected), else null. */
  private inScope(url: string, depth: number, referrer: string, redirects = 0): NewEntry | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return null;
    }
    if (admit(parsed, depth, this.scope) !== 'ok') return null;
    // Counted only in scope: a long link to another site would not be followed anyway.
    if (url.length > this.o.maxUrlLength) {
      this.stats.urlsTooLong++;
      return null;
    }
    return { url, host: parsed.host, depth, referrer, redirects };
  }

  /** The request headers with the jar's cookies: in the caller's Cookie header if there is one, else their own. */
  private withCookie(cookie: string): HeaderPairs {
    const i = this.baseHeaders.findIndex(([n]) => n.length === 6 && n.toLowerCase() === 'cookie');
    if (i === -1) return [...this.baseHeaders, ['Cookie', cookie]];
    // A null Cookie (-H 'Cookie:') sends no Cookie field at all: the jar's are left out too.
    if (this.baseHeaders[i]![1] === null) return this.baseHeaders;
    const out = [...this.baseHeaders];
    out[i] = [out[i]![0], `${out[i]![1]}; ${cookie}`];
    return out;
  }

  /** The crawl was aborted: the page in hand is dropped, with no record, and counted. */
  private abandoned(): boolean {
    if (!this.abort.signal.aborted) return false;
    this.stats.abandoned++;
    return true;
  }

  private async retryLater(entry: FrontierEntry, host: string, retryAfterMs: number | null): Promise<boolean> {
    if (entry.attempts >= this.o.retries || this.stopping) return false;
    const delay = backoffDelay(entry.attempts + 1, retryAfterMs, this.backoff);
    this.stats.retried++;
    await this.backend.retry(entry, host, Date.now() + delay);
    return true;
  }

  private async process(entry: FrontierEntry, host: string): Promise<void> {
    const url = new URL(entry.url);
    if (this.robots) {
      const takenAt = Date.now();
      let verdict: RobotsVerdict;
      try {
        verdict = await this.robots.check(url, () => this.backend.sent(host, Date.now()));
      } catch (err) {
        // Its robots.txt request was cut short by the abort: no verdict on the page.
        if (this.abandoned()) return;
        throw err;
      }
      if (verdict.delayMs > 0) await this.backend.setDelay(host, verdict.delayMs);
      if (!verdict.allowed) {
        this.stats.robotsDisallowed++;
        await this.backend.complete({ entry, host, record: null, links: [], state: 'skipped' });
        return;
      }
      // Put back, to start in the host's turn, when robots.txt went out after this page was taken
      // (for this check, or another of its origin's): that was the host's request, and the page
      // waits the host's delay after it like any other, as Scrapy's and Heritrix's robots.txt
      // requests count; or when the page was taken before a Crawl-delay larger than --delay was
      // known. Once only: should its origin's rules be let go (the cache is bounded) and fetched
      // again before its turn, it goes on then.
      const robotsAfterTake = verdict.sentAt >= takenAt && (this.o.delayMs > 0 || verdict.delayMs > 0);
      const delayAfterTake = verdict.delayMs > this.o.delayMs && takenAt < verdict.loadedAt;
      if ((robotsAfterTake || delayAfterTake) && !entry.deferred) {
        await this.backend.defer({ ...entry, deferred: true }, host);
        return;
      }
    }
    let res: HttpResponse;
    try {
      const cookie = this.cookies?.header(entry.url) ?? '';
      const headers = cookie === '' ? this.requestOptions.headers : this.withCookie(cookie);
      res = await request(this.credentials.apply(url), { ...this.requestOptions, headers, onRequestSent: () => this.backend.sent(host, Date.now()) });
    } catch (err) {
      if (this.abandoned()) return;
      const e = err instanceof RawcrawlError ? err : new RawcrawlError('ERR_CONNECTION_RESET', String(err));
      if (isRetryableError(e.code) && (await this.retryLater(entry, host, null))) return;
      await this.finishPage(entry, host, this.failedRecord(entry, e), [], true);
      return;
    }
    this.cookies?.store(entry.url, res.rawHeaders);
    if (isRetryableStatus(res.status) && (await this.retryLater(entry, host, parseRetryAfter(res.header('retry-after'))))) return;

    const contentType = res.header('content-type');
    const record: PageRecord = {
      url: entry.url,
      final_url: res.url,
      status: res.status,
      content_type: contentType,
      title: null,
      fields: {},
      depth: entry.depth,
      referrer: entry.referrer,
      bytes: res.body.length,
      fetched_at: new Date().toISOString(),
      timings: res.timings,
      error: null,
      error_message: null,
      error_offset: null,
      error_excerpt: null,
      leniencies: res.leniencies.map((l) => ({ kind: l.kind, offset: l.offset })),
      attempts: entry.attempts + 1,
    };
    for (const [name] of [...(this.options.selects ?? []), ...(this.options.selectAll ?? [])]) record.fields[name] = null;
    let store = true;
    const found: NewEntry[] = [];
    // Read as the client reads a Location it follows: raw UTF-8 as UTF-8, as browsers do.
    const location = redirectLocation(res);
    if (location !== null) {
      // Redirects are followed by the frontier, so their targets are deduplicated like links.
      const target = normalizeUrl(location, res.url);
      if (target !== null) {
        record.final_url = target;
        // A chain of redirects never gets deeper: the count of them in a row bounds it (a site
        // that redirects every URL to a new one, a session id each time, is a crawler trap).
        if (entry.redirects >= this.o.maxRedirects) this.stats.redirectsTooMany++;
        else {
          const e = this.inScope(target, entry.depth, entry.url, entry.redirects + 1);
          if (e) found.push(e);
        }
      } else {
        // Not followed (ftp:, javascript:, no host), but the record says where it pointed.
        const resolved = URL.canParse(location, res.url) ? new URL(location, res.url) : null;
        if (resolved) {
          resolved.username = '';
          resolved.password = '';
          record.final_url = resolved.href;
        }
      }
    } else if (res.status >= 200 && res.status < 300 && isHtml(contentType, res.body)) {
      let parsed: ExtractResult;
      try {
        parsed = await this.pool!.run({
          body: res.body,
          contentType,
          url: res.url,
          selects: this.options.selects ?? [],
          selectAll: this.options.selectAll ?? [],
          wantText: Boolean(this.options.storeBody),
        });
      } catch (err) {
        // One page the parser cannot handle is that page's failure, not the crawl's.
        record.error = 'ERR_EXTRACT';
        record.error_message = `cannot extract from the page: ${err instanceof Error ? err.message : String(err)}`;
        await this.finishPage(entry, host, record, [], true);
        return;
      }
      record.title = parsed.title;
      record.fields = parsed.fields;
      if (parsed.fieldsError !== undefined) {
        // The page's fields could not be read; its title and links were, and are kept.
        record.error = 'ERR_EXTRACT';
        record.error_message = parsed.fieldsError;
      }
      if (this.options.storeBody) record.body = parsed.text;
      const header = xRobotsTag(
        res.rawHeaders.filter(([n]) => n.length === 12 && n.toLowerCase() === 'x-robots-tag').map(([, v]) => v),
        this.uaToken,
      );
      const nofollow = parsed.nofollow || header.nofollow;
      if (parsed.noindex || header.noindex) store = false;
      const links: string[] = [];
      if (!nofollow && entry.depth + 1 <= this.o.maxDepth) {
        for (const link of parsed.links) {
          const n = normalizeUrl(link);
          if (n === null) continue;
          links.push(n);
          const e = this.inScope(n, entry.depth + 1, entry.url);
          if (e) found.push(e);
        }
      }
      record.links = links;
    } else if (this.options.storeBody) {
      record.body = res.body.length > 0 && /^text\//i.test(contentType ?? '') ? res.text() : null;
    }
    if (this.options.storeOnly && this.options.storeOnly.length > 0 && !this.options.storeOnly.some((re) => matches(re, entry.url))) store = false;
    await this.finishPage(entry, host, record, found, store);
  }

  private failedRecord(entry: FrontierEntry, e: RawcrawlError): PageRecord {
    return {
      url: entry.url,
      final_url: entry.url,
      status: null,
      content_type: null,
      title: null,
      fields: {},
      depth: entry.depth,
      referrer: entry.referrer,
      bytes: 0,
      fetched_at: new Date().toISOString(),
      timings: null,
      error: e.code,
      error_message: e.message,
      error_offset: e.offset ?? null,
      error_excerpt: e.excerpt ?? null,
      leniencies: [],
      attempts: entry.attempts + 1,
    };
  }

  /**
   * Counts, stores and follows a fetched page. With `annotate` (the CLI's --warc/--capture:
   * where the page's exchange was archived), the page waits for its archive write off the
   * fetch slot, as Scrapy's item pipelines run apart from downloads: the slot goes on to the
   * next URL while the write finishes, and so does the host's per-host slot (its request is
   * over). The page still counts as in flight (so the crawl does not end before its links are
   * in), and at most FINISHING_PER_SLOT × concurrency pages wait.
   */
  private async finishPage(entry: FrontierEntry, host: string, record: PageRecord, links: NewEntry[], store: boolean): Promise<void> {
    if (this.abandoned()) return;
    const annotate = this.options.annotate;
    if (!annotate) return this.completePage(entry, host, record, links, store);
    // The request is over: the host may take its next one while this page waits for its write.
    this.backend.release(entry, host);
    this.inFlight++;
    const task: Promise<void> = annotate(record)
      .then(() => this.completePage(entry, host, record, links, store, true))
      .catch((err: unknown) => {
        this.finishError ??= err;
      })
      .finally(() => {
        this.finishing.delete(task);
        this.inFlight--;
        this.stats.inFlight = this.inFlight;
        this.notifyChange();
      });
    this.finishing.add(task);
    while (this.finishing.size > this.o.concurrency * FINISHING_PER_SLOT) await Promise.race(this.finishing);
  }

  private async completePage(entry: FrontierEntry, host: string, record: PageRecord, links: NewEntry[], store: boolean, hostReleased = false): Promise<void> {
    if (this.abandoned()) return;
    this.stats.fetched++;
    this.stats.bytes += record.bytes;
    const key = record.status === null ? 'error' : String(record.status);
    this.stats.statuses[key] = (this.stats.statuses[key] ?? 0) + 1;
    if (record.error) {
      this.stats.errors++;
      this.stats.errorCodes[record.error] = (this.stats.errorCodes[record.error] ?? 0) + 1;
    }
    await this.backend.complete({ entry, host, record: store ? record : null, links: this.stopping ? [] : links, state: record.error ? 'failed' : 'done', hostReleased });
  }
}
