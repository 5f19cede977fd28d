import { RawcrawlError, redirectLocation, type HttpResponse } from '../client/index.js';
import type { FrontierBackend, NewEntry } from './frontier-backend.js';
import { normalizeUrl } from './normalize-url.js';
import type { RobotsCache } from './robots.js';
import { MAX_SITEMAPS, parseSitemap } from './sitemaps.js';
import type { CrawlStats } from './stats.js';

/** What reading a crawl's sitemaps takes of the crawl. */
export interface SitemapRun {
  /** Sitemap URLs given (CrawlOptions.sitemaps), normalised. */
  sitemapUrls: string[];
  /** discoverSitemaps: the start origins, and the robots.txt cache that gives their Sitemap lines. */
  discover: { origins: string[]; robots: RobotsCache } | null;
  /** The crawl's robots.txt rules (null with ignoreRobots): a sitemap they disallow is not read. */
  robots: RobotsCache | null;
  backend: FrontierBackend;
  stats: CrawlStats;
  stopping: () => boolean;
  aborted: AbortSignal;
  waitForChange: (ms: number) => Promise<void>;
  notifyChange: () => void;
  /** Requests a sitemap (the crawl's request options, with the origin's credentials). */
  fetch: (url: URL, host: string) => Promise<HttpResponse>;
  /** Whether the URL's host is in the crawl's scope (--allow-host, the start URLs'). */
  hostInScope: (url: URL) => boolean;
  /** A page URL the sitemap named, as a frontier entry at depth 0 if it is in scope, else null. */
  inScope: (url: string, referrer: string) => NewEntry | null;
}

/**
 * Reads the sitemaps (CrawlOptions.sitemaps; with discoverSitemaps, those of each start
 * origin's robots.txt, or its /sitemap.xml) one at a time, following indexes, and queues the
 * page URLs in scope as start URLs are. A sitemap robots.txt disallows is not read, and each
 * request takes one of its host's slots as a page does, so --per-host and the host's delay
 * hold across sitemaps and pages alike (one whose host must wait lets the others go first). One that fails is noted in stats.sitemapsFailed and
 * the rest go on.
 */
export async function readSitemaps(run: SitemapRun): Promise<void> {
  const { backend, stats } = run;
  const todo: string[] = [];
  // Every sitemap queued to be read, at most MAX_SITEMAPS: an index names up to ~1.2 million in
  // its 50 MiB, and those past the limit are only counted (kept, they could fill the memory).
  const queued = new Set<string>();
  /**
   * Queues a sitemap; false if it was queued before. One an index or a redirect names (`from`)
   * is read only on that sitemap's host (sitemaps.org: an index names sitemaps of its own site)
   * or a host in scope: a site's index cannot send the crawler's requests to any host it likes.
   */
  const add = (url: string, from?: string): boolean => {
    if (queued.has(url)) return false;
    if (queued.size >= MAX_SITEMAPS) {
      stats.sitemapsOverLimit++;
      return true;
    }
    queued.add(url);
    const at = new URL(url);
    if (from !== undefined && at.hostname !== new URL(from).hostname && !run.hostInScope(at)) stats.sitemapsFailed[url] = 'on a host out of scope';
    else todo.push(url);
    return true;
  };
  for (const url of run.sitemapUrls) add(url);
  if (run.discover) {
    for (const origin of run.discover.origins) {
      // A robots.txt read here is a request to its host: the host's delay counts from it.
      const originHost = new URL(origin).host;
      const named = await run.discover.robots.sitemaps(origin, () => backend.sent(originHost, Date.now()));
      const found = named.map((u) => normalizeUrl(u, `${origin}/robots.txt`)).filter((u): u is string => u !== null);
      for (const url of found.length > 0 ? found : [`${origin}/sitemap.xml`]) add(url);
    }
  }
  // A host whose delay or busy slots hold its sitemap back does not hold up the other hosts':
  // the sitemap is put back, and the reader waits only once every one left waits for its host
  // (for the soonest turn among them; -1: until a request ends). Hosts found waiting since the
  // last wait are not asked again (with --crawl-id each asking is a query).
  const waiting = new Set<string>();
  let putBack = 0;
  let soonest = -1;
  /** A new round: after a wait, or once a sitemap could be read. */
  const newRound = (): void => {
    waiting.clear();
    putBack = 0;
    soonest = -1;
  };
  const putBackFor = async (url: string, wait: number): Promise<void> => {
    todo.push(url);
    if (wait > 0) soonest = soonest < 0 ? wait : Math.min(soonest, wait);
    if (++putBack < todo.length) return;
    await run.waitForChange(soonest);
    newRound();
  };
  while (todo.length > 0 && !run.stopping() && !backend.full) {
    const url = todo.shift()!;
    const parsed = new URL(url);
    const host = parsed.host;
    if (waiting.has(host)) {
      await putBackFor(url, -1);
      continue;
    }
    if (run.robots) {
      const verdict = await run.robots.check(parsed, () => backend.sent(host, Date.now()));
      if (!verdict.allowed) {
        stats.sitemapsFailed[url] = 'disallowed by robots.txt';
        continue;
      }
      if (verdict.delayMs > 0) await backend.setDelay(host, verdict.delayMs);
    }
    // A slot of the host, as a page takes one: --per-host and the delay hold for sitemaps too.
    const wait = await backend.acquireSlot(host, Date.now());
    if (wait !== 0) {
      waiting.add(host);
      await putBackFor(url, wait);
      continue;
    }
    newRound();
    let res: HttpResponse;
    try {
      if (run.stopping()) return;
      res = await run.fetch(parsed, host);
    } catch (err) {
      if (run.aborted.aborted) return;
      stats.sitemapsFailed[url] = err instanceof RawcrawlError ? `${err.code} ${err.message}` : String(err);
      continue;
    } finally {
      backend.releaseSlot(host);
      run.notifyChange();
    }
    // Moved (http: to https:, a CDN): the target is read as a sitemap of its own, so robots.txt,
    // the host's slots, the limit and the dedupe (which ends a loop) hold for it too.
    const location = redirectLocation(res);
    const target = location !== null ? normalizeUrl(location, res.url) : null;
    if (target !== null) {
      if (!add(target, url)) stats.sitemapsFailed[url] = `status ${res.status} to ${target}, a sitemap already read`;
      continue;
    }
    if (res.status !== 200) {
      stats.sitemapsFailed[url] = `status ${res.status}`;
      continue;
    }
    let sitemap;
    try {
      sitemap = parseSitemap(res.body);
    } catch (err) {
      stats.sitemapsFailed[url] = (err as Error).message;
      continue;
    }
    stats.sitemapsRead++;
    const locs = sitemap.locs.map((l) => normalizeUrl(l, res.url)).filter((u): u is string => u !== null);
    if (sitemap.kind === 'index') {
      for (const loc of locs) add(loc, res.url);
      continue;
    }
    const entries: NewEntry[] = [];
    for (const loc of locs) {
      const e = run.inScope(loc, url);
      if (e) entries.push(e);
    }
    for (let i = 0; i < entries.length && !run.stopping() && !backend.full; i += 1000) {
      stats.sitemapUrls += await backend.seed(entries.slice(i, i + 1000));
      stats.queued = backend.queued;
      run.notifyChange();
    }
  }
}
