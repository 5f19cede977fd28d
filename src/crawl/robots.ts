import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRawcrawlError, request, type HttpResponse, type RequestOptions } from '../client/index.js';
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
  /** The origin's robots.txt was not read yet when the check began: it was fetched meanwhile. */
  fresh: boolean;
}

interface OriginRules {
  isAllowed(url: string): boolean;
  delayMs: number;
  /** Its `Sitemap:` lines. */
  sitemaps: string[];
}

const ALLOW_ALL: OriginRules = { isAllowed: () => true, delayMs: 0, sitemaps: [] };
const DISALLOW_ALL: OriginRules = { isAllowed: () => false, delayMs: 0, sitemaps: [] };

/**
 * RFC 9309 §2.5: parse at least 500 KiB. A longer file is cut here and its first part parsed
 * (a rule cut in two at the end is lost, as the RFC allows), not treated as unreachable.
 */
export const MAX_ROBOTS_BYTES = 512 * 1024;

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
}

/**
 * robots.txt per origin (RFC 9309), fetched once through rawcrawl's own client and cached.
 * 2xx → the rules; 4xx → allow all (§2.3.1.3); 5xx or unreachable → disallow all (§2.3.1.4).
 * Matching (groups, longest match, `*`, `$`) is robots-parser's.
 */
export class RobotsCache {
  private readonly origins = new Map<string, Promise<OriginRules>>();
  /** Origins whose rules are in (their robots.txt read, or given up on). */
  private readonly known = new Set<string>();

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
  }

  /**
   * `onSent` is called when robots.txt's request is written, if this check is the one that
   * fetches it (the first for its origin): that is a request to the host, for its politeness.
   */
  async check(url: URL, onSent?: () => void): Promise<RobotsVerdict> {
    const fresh = !this.known.has(url.origin);
    const r = await this.rules(url.origin, onSent);
    return { allowed: r.isAllowed(url.href), delayMs: r.delayMs, fresh };
  }

  /** The sitemaps the origin's robots.txt names (its `Sitemap:` lines), as written; `onSent` as check()'s. */
  async sitemaps(origin: string, onSent?: () => void): Promise<string[]> {
    return (await this.rules(origin, onSent)).sitemaps;
  }

  private rules(origin: string, onSent?: () => void): Promise<OriginRules> {
    let rules = this.origins.get(origin);
    if (!rules) {
      rules = this.load(origin, onSent).finally(() => this.known.add(origin));
      this.origins.set(origin, rules);
    }
    return rules;
  }

  private async load(origin: string, onSent: (() => void) | undefined): Promise<OriginRules> {
    const robotsUrl = `${origin}/robots.txt`;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await request(this.prepare(new URL(robotsUrl)), { ...this.requestOptions, maxBodyBytes: MAX_ROBOTS_BYTES, truncateBody: true, maxRedirects: 5, onRequestSent: onSent });
      } catch (err) {
        if (isRawcrawlError(err) && isRetryableError(err.code) && (await this.pause(attempt, null))) continue;
        this.onUnavailable(origin, isRawcrawlError(err) ? `${err.code} ${err.message}` : String(err));
        return DISALLOW_ALL;
      }
      if (res.status >= 200 && res.status < 300) {
        let text = res.text();
        // Cut at the limit: its last line may be a rule cut in two ("Disallow: /pri" for
        // "/private/"), which would say something the file does not. It is left out.
        if (res.truncated) text = text.slice(0, Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) + 1);
        const parsed = robotsParser(robotsUrl, text);
        const delay = parsed.getCrawlDelay(this.userAgent);
        return {
          sitemaps: parsed.getSitemaps(),
          isAllowed: (u) => parsed.isAllowed(u, this.userAgent) !== false,
          delayMs: delay !== undefined && Number.isFinite(delay) && delay > 0 ? Math.min(delay, 3600) * 1000 : 0,
        };
      }
      if (res.status >= 400 && res.status < 500 && res.status !== 429) return ALLOW_ALL;
      if (isRetryableStatus(res.status) && (await this.pause(attempt, parseRetryAfter(res.header('retry-after'))))) continue;
      // RFC 9309 §2.3.1.3-4: 429 is read as a server error (Google's reading); 5xx disallows all.
      this.onUnavailable(origin, `status ${res.status}`);
      return DISALLOW_ALL;
    }
  }

  /** Waits before attempt `attempt + 1`; false when there is none left (or the crawl was aborted). */
  private async pause(attempt: number, retryAfterMs: number | null): Promise<boolean> {
    if (attempt >= this.retries) return false;
    const signal = this.requestOptions.signal;
    if (signal?.aborted) return false;
    try {
      await sleep(backoffDelay(attempt + 1, retryAfterMs, this.backoff), undefined, signal ? { signal } : {});
      return true;
    } catch {
      return false;
    }
  }

}
