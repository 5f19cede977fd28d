/** A crawl's counters, as crawl().stats shows them while it runs and after it ends. */
export interface CrawlStats {
  startedAt: number;
  /** Pages whose fetch finished (stored or not, failed or not). */
  fetched: number;
  /** Records yielded. */
  stored: number;
  queued: number;
  inFlight: number;
  /** Pages that ended with an error code. */
  errors: number;
  /** Attempts that were retried. */
  retried: number;
  bytes: number;
  robotsDisallowed: number;
  /** In-scope links and redirect targets not followed for being longer than maxUrlLength (each time seen). */
  urlsTooLong: number;
  /** Redirects not followed because maxRedirects of them in a row led to the page. */
  redirectsTooMany: number;
  /** Links not queued because the in-memory queue held maxQueue URLs (each time found). */
  queueFull: number;
  /** Pages in flight when the crawl was aborted (signal, second Ctrl+C, --max-time's grace): no record. */
  abandoned: number;
  /**
   * Origin → why its robots.txt could not be had (error code and message, or "status 503"): RFC
   * 9309 then disallows the whole origin, so its pages count in robotsDisallowed.
   */
  robotsUnavailable: Record<string, string>;
  /** Status code (or "error") → pages. */
  statuses: Record<string, number>;
  /** Error code → pages. */
  errorCodes: Record<string, number>;
  /** Sitemap files read (CrawlOptions.sitemaps, discoverSitemaps); 0 when none was asked for. */
  sitemapsRead: number;
  /**
   * Page URLs the sitemaps gave that were in scope and new to the crawl, so queued: not those
   * already seen, those --max-queue turned away (counted in queueFull), nor those left unread
   * once no more pages would be taken.
   */
  sitemapUrls: number;
  /** Sitemap URL → why it could not be read ("status 404", an error code, "not a sitemap: …"). */
  sitemapsFailed: Record<string, string>;
  /** Sitemaps named (by indexes, robots.txt) past the MAX_SITEMAPS a crawl reads: not read, only counted. */
  sitemapsOverLimit: number;
}

/** Counters of a crawl that has not begun. */
export function emptyStats(): CrawlStats {
  return {
    startedAt: Date.now(),
    fetched: 0,
    stored: 0,
    queued: 0,
    inFlight: 0,
    errors: 0,
    retried: 0,
    bytes: 0,
    robotsDisallowed: 0,
    urlsTooLong: 0,
    redirectsTooMany: 0,
    queueFull: 0,
    abandoned: 0,
    robotsUnavailable: {},
    statuses: {},
    errorCodes: {},
    sitemapsRead: 0,
    sitemapUrls: 0,
    sitemapsFailed: {},
    sitemapsOverLimit: 0,
  };
}
