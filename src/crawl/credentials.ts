import { RawcrawlError } from '../client/index.js';

/**
 * The user names and passwords that start and sitemap URLs carried (https://user:pass@host/, as
 * spelled there), by origin. Every request the crawl makes to that origin (pages, sitemaps and
 * its robots.txt) carries them, and request() sends them as Basic Authorization (an
 * Authorization in the crawl's headers wins). Records never show them: URLs are stored
 * normalised, without userinfo.
 */
export class OriginCredentials {
  private readonly byOrigin = new Map<string, { username: string; password: string }>();

  /** Keeps the user name and password in `given` (normalised to `n`, without them) for its origin. */
  keep(given: string, n: string, what: string): void {
    const { origin, username, password } = new URL(given);
    if (username === '' && password === '') return;
    try {
      decodeURIComponent(username + password);
    } catch {
      throw new RawcrawlError('ERR_INVALID_URL', `${what} ${n}: its user name or password holds a malformed %-escape`);
    }
    this.byOrigin.set(origin, { username, password });
  }

  /** The URL to request: with the user name and password kept for its origin, if any. */
  apply(url: URL): URL {
    const given = this.byOrigin.size > 0 ? this.byOrigin.get(url.origin) : undefined;
    if (!given) return url;
    const u = new URL(url.href);
    u.username = given.username;
    u.password = given.password;
    return u;
  }
}
