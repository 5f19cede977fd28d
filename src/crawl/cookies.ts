import { CookieJar } from 'tough-cookie';

/** Cookies stored at most; later ones are dropped (a site handing out a new cookie per page). */
const MAX_STORED = 10_000;
/**
 * Longest Cookie header sent: servers refuse longer request lines (nginx's default buffer for
 * one is 8 KiB, answered with 400 or 431). The jar lists the most specific cookies first
 * (RFC 6265 §5.4), so those are the ones kept.
 */
const MAX_HEADER = 8 * 1024;

/**
 * The crawl's cookie jar (RFC 6265, by tough-cookie, which also refuses cookies for public
 * suffixes): Set-Cookie from each response is stored, and the matching cookies go with each
 * later request, as Scrapy, Crawlee and wget do by default, so a site that sets a session or
 * consent cookie on the first page is crawled as a browser sees it. Kept in memory, per process.
 */
export class CrawlCookies {
  private readonly jar = new CookieJar();
  /** Cookies accepted so far (a replaced one counts again): the bound on what is kept. */
  private stored = 0;

  /** The Cookie header value for a request to `url`, or '' (at once when nothing was stored). */
  header(url: string): string {
    if (this.stored === 0) return '';
    const all = this.jar.getCookieStringSync(url);
    if (all.length <= MAX_HEADER) return all;
    const cut = all.lastIndexOf('; ', MAX_HEADER);
    return cut === -1 ? '' : all.slice(0, cut);
  }

  /** Stores the response's Set-Cookie fields; ones the jar refuses (another site's domain, bad syntax) are skipped. */
  store(url: string, rawHeaders: ReadonlyArray<readonly [string, string]>): void {
    for (const [name, value] of rawHeaders) {
      if (name.length !== 10 || name.toLowerCase() !== 'set-cookie' || this.stored >= MAX_STORED) continue;
      if (this.jar.setCookieSync(value, url, { ignoreError: true })) this.stored++;
    }
  }
}
