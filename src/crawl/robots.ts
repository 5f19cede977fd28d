import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRawcrawlError, RawcrawlError, request, type HttpResponse, type RequestOptions } from '../client/index.js';
import { normalizeEscapes } from './normalize-url.js';
import { backoffDelay, DEFAULT_BACKOFF, isRetryableError, isRetryableStatus, parseRetryAfter, type BackoffPolicy } from './retry.js';

interface RobotsTxt {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
  getSitemaps(): string[];
}
// robots-parser is CommonJS with a `declare module` typing NodeNext cannot call: load it plainly.
const robotsParser = createRequire(import.meta.url)('robots-parser') as (url: string, contents: string) => RobotsTxt;

export interface RobotsVerdict {
  allowed: boolean;
  /** Crawl-delay for our user agent, in ms (0 when none). */
  delayMs: number;
  /**
   * When (Date.now()) robots.txt's request was last written for this origin, by whichever check
   * fetched it; 0 if it never was (an error before sending).
   */
  sentAt: number;
  /** When (Date.now()) these rules came in: a Crawl-delay in them holds from then. */
  loadedAt: number;
}

interface OriginRules {
  isAllowed(url: string): boolean;
  /** When its request was last written (0: never). */
  sentAt: number;
  /** When the rules came in. */
  loadedAt: number;
  /** The robots.txt's length (0 when there was none to keep), for the cache's budget. */
  bytes: number;
  delayMs: number;
  /** Its `Sitemap:` lines. */
  sitemaps: string[];
}

const allowAll = (sentAt: number): OriginRules => ({ isAllowed: () => true, sentAt, loadedAt: Date.now(), bytes: 0, delayMs: 0, sitemaps: [] });
const disallowAll = (sentAt: number): OriginRules => ({ isAllowed: () => false, sentAt, loadedAt: Date.now(), bytes: 0, delayMs: 0, sitemaps: [] });

/** What encodeURI escapes and a WHATWG URL's path or query may hold raw. */
const RAW_IN_URL = /[[\]\\^`{|}]/g;

/** An Allow or Disallow line: the key, then its value. */
const RULE_LINE = /^([ \t]*(?:dis)?allow[ \t]*:)(.*)$/gim;

/**
 * robots.txt with its rules' escapes normalised as URLs are (normalizeUrl): `Disallow: /%7Ejoe`
 * is `/~joe`, as RFC 9309 §2.2.2 reads an escaped unreserved character; else no URL the crawl
 * fetches could match it, since `/%7Ejoe` is fetched as `/~joe`.
 */
function normaliseRules(text: string): string {
  return text.includes('%') ? text.replace(RULE_LINE, (_m, key: string, value: string) => key + normalizeEscapes(value)) : text;
}

/**
 * The URL as robots-parser is to match it: robots-parser escapes a rule's path with encodeURI
 * (`/*?f[` is matched as `/*?f%5B`) but takes the URL's as WHATWG URL leaves it (`?f[a]=1`
 * raw), so those characters are escaped in the URL's path and query too, and either spelling
 * in robots.txt matches either in the URL.
 */
function robotsForm(url: URL): string {
  const target = url.pathname + url.search;
  const escaped = target.replace(RAW_IN_URL, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return escaped === target ? url.href : url.origin + escaped;
}

/**
 * RFC 9309 §2.5: parse at least 500 KiB. A longer file is cut here and its first part parsed
 * (a rule cut in two at the end is lost, as the RFC allows), not treated as unreachable.
 */
export const MAX_ROBOTS_BYTES = 512 * 1024;

/**
 * Rules kept at most: of this many origins, and of robots.txt files this large together. A crawl
 * of endless subdomains (*.example.com), each with a large robots.txt, kept 1.4 MB an origin for
 * good; the least recently used origins' rules now go, and are read again if their pages come.
 */
export const ROBOTS_CACHE_ORIGINS = 10_000;
export const ROBOTS_CACHE_BYTES = 32 * 1024 * 1024;

export interface RobotsOptions {
  /**
   * Hears, once per origin, why its robots.txt could not be had (an error code and message, or
   * a 5xx status): all its pages are then disallowed.
   */
  onUnavailable?: (origin: string, reason: string) => void;
  /**
   * The URL to request for a robots.txt URL: the crawl adds the user name and password its
   * start URLs gave the origin, so a site behind Basic auth is asked as its pages are (without
   * them it answers 401, and RFC 9309 §2.3.1.3 would have every page allowed).
   */
  prepare?: (url: URL) => URL;
  /**
   * Further attempts at a robots.txt that answers 429 or 5xx or cannot be reached (a timeout, a
   * reset) before its origin is disallowed: one passing failure should not shut a site out for
   * the whole crawl. The crawl's --retries and backoff; default none.
   */
  retries?: number;
  backoff?: BackoffPolicy;
  /** The cache's bounds (default ROBOTS_CACHE_ORIGINS, ROBOTS_CACHE_BYTES). */
  maxOrigins?: number;
  maxBytes?: number;
}

/**
 * robots.txt per origin (RFC 9309), fetched once through rawcrawl's own client and cached.
 * 2xx → the rules; 4xx → allow all (§2.3.1.3); 5xx or unreachable → disallow all (§2.3.1.4).
 * Matching (groups, longest match, `*`, `$`) is robots-parser's.
 */
export class RobotsCache {
  /** Per origin, its rules (or their loading), least recently used first. */
  private readonly origins = new Map<string, Promise<OriginRules>>();
  /** Origins whose rules are in (their robots.txt read, or given up on), and their bytes. */
  private readonly known = new Map<string, number>();
  private knownBytes = 0;
  private readonly maxOrigins: number;
  private readonly maxBytes: number;

  private readonly onUnavailable: (origin: string, reason: string) => void;
  private readonly prepare: (url: URL) => URL;
  private readonly retries: number;
  private readonly backoff: BackoffPolicy;

  constructor(
    private readonly userAgent: string,
    private readonly requestOptions: RequestOptions,
    hooks: RobotsOptions = {},
  ) {
    this.onUnavailable = hooks.onUnavailable ?? (() => {});
    this.prepare = hooks.prepare ?? ((u) => u);
    this.retries = hooks.retries ?? 0;
    this.backoff = hooks.backoff ?? DEFAULT_BACKOFF;
    this.maxOrigins = hooks.maxOrigins ?? ROBOTS_CACHE_ORIGINS;
    this.maxBytes = hooks.maxBytes ?? ROBOTS_CACHE_BYTES;
  }

  /** Origins whose rules are kept now (for tests and stats). */
  get cachedOrigins(): number {
    return this.known.size;
  }

  /**
   * `onSent` is called when robots.txt's request is written, if this check is the one that
   * fetches it (the first for its origin): that is a request to the host, for its politeness.
   * Rejects with ERR_ABORTED, and keeps nothing, when the crawl is aborted while it is fetched.
   */
  async check(url: URL, onSent?: () => void): Promise<RobotsVerdict> {
    const r = await this.rules(url.origin, onSent);
    return { allowed: r.isAllowed(robotsForm(url)), delayMs: r.delayMs, sentAt: r.sentAt, loadedAt: r.loadedAt };
  }

  /** The sitemaps the origin's robots.txt names (its `Sitemap:` lines), as written; `onSent` as check()'s. */
  async sitemaps(origin: string, onSent?: () => void): Promise<string[]> {
    return (await this.rules(origin, onSent)).sitemaps;
  }

  private rules(origin: string, onSent?: () => void): Promise<OriginRules> {
    let rules = this.origins.get(origin);
    if (!rules) {
      const loading = this.load(origin, onSent).then(
        (r) => {
          // Kept unless it was let go meanwhile (never while loading: see evict()).
          if (this.origins.get(origin) === loading) {
            this.known.set(origin, r.bytes);
            this.knownBytes += r.bytes;
            this.evict(origin);
          }
          return r;
        },
        (err: unknown) => {
          // Aborted: no verdict to keep.
          if (this.origins.get(origin) === loading) this.origins.delete(origin);
          throw err;
        },
      );
      rules = loading;
      this.origins.set(origin, rules);
    } else if (this.known.has(origin)) {
      // Used now: last to go.
      this.origins.delete(origin);
      this.origins.set(origin, rules);
    }
    return rules;
  }

  /** Lets the least recently used origins' rules go while over a bound (never `keep`'s). */
  private evict(keep: string): void {
    if (this.known.size <= this.maxOrigins && this.knownBytes <= this.maxBytes) return;
    for (const origin of this.origins.keys()) {
      if (this.known.size <= this.maxOrigins && this.knownBytes <= this.maxBytes) return;
      const bytes = this.known.get(origin);
      // Still loading (its waiters share the promise), or the one just kept.
      if (bytes === undefined || origin === keep) continue;
      this.origins.delete(origin);
      this.known.delete(origin);
      this.knownBytes -= bytes;
    }
  }

  private async load(origin: string, onSent: (() => void) | undefined): Promise<OriginRules> {
    const robotsUrl = `${origin}/robots.txt`;
    let sentAt = 0;
    const sent = (): void => {
      sentAt = Date.now();
      onSent?.();
    };
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await request(this.prepare(new URL(robotsUrl)), { ...this.requestOptions, maxBodyBytes: MAX_ROBOTS_BYTES, truncateBody: true, maxRedirects: 5, onRequestSent: sent });
      } catch (err) {
        // The crawl was aborted: that says nothing of the origin (its pages are not fetched now anyway).
        if (isRawcrawlError(err) && err.code === 'ERR_ABORTED') throw err;
        if (isRawcrawlError(err) && isRetryableError(err.code) && (await this.pause(attempt, null))) continue;
        this.onUnavailable(origin, isRawcrawlError(err) ? `${err.code} ${err.message}` : String(err));
        return disallowAll(sentAt);
      }
      if (res.status >= 200 && res.status < 300) {
        let text = res.text();
        // Cut at the limit: its last line may be a rule cut in two ("Disallow: /pri" for
        // "/private/"), which would say something the file does not. It is left out.
        if (res.truncated) text = text.slice(0, Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) + 1);
        const parsed = robotsParser(robotsUrl, normaliseRules(text));
        const delay = parsed.getCrawlDelay(this.userAgent);
        return {
          sentAt,
          loadedAt: Date.now(),
          bytes: text.length,
          sitemaps: parsed.getSitemaps(),
          isAllowed: (u) => parsed.isAllowed(u, this.userAgent) !== false,
          delayMs: delay !== undefined && Number.isFinite(delay) && delay > 0 ? Math.min(delay, 3600) * 1000 : 0,
        };
      }
      if (res.status >= 400 && res.status < 500 && res.status !== 429) return allowAll(sentAt);
      if (isRetryableStatus(res.status) && (await this.pause(attempt, parseRetryAfter(res.header('retry-after'))))) continue;
      // RFC 9309 §2.3.1.3-4: 429 is read as a server error (Google's reading); 5xx disallows all.
      this.onUnavailable(origin, `status ${res.status}`);
      return disallowAll(sentAt);
    }
  }

  /**
   * Waits before attempt `attempt + 1`; false when there is none left. Rejects with ERR_ABORTED
   * when the crawl is aborted (before or during the wait): no verdict then.
   */
  private async pause(attempt: number, retryAfterMs: number | null): Promise<boolean> {
    if (attempt >= this.retries) return false;
    const signal = this.requestOptions.signal;
    try {
      if (signal?.aborted) throw signal.reason;
      await sleep(backoffDelay(attempt + 1, retryAfterMs, this.backoff), undefined, signal ? { signal } : {});
      return true;
    } catch {
      throw new RawcrawlError('ERR_ABORTED', 'robots.txt not read: the crawl was aborted');
    }
  }
}
