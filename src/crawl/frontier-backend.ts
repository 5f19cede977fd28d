import type { FrontierEntry } from './frontier.js';
import type { PageRecord } from './record.js';

/** A URL to add to the frontier (deduplicated by the backend). */
export interface NewEntry {
  url: string;
  host: string;
  depth: number;
  referrer: string | null;
  /** Redirects in a row that led here (default 0: a start URL or a link). */
  redirects?: number;
}

/** What became of a page; the backend records it atomically with the links it found. */
export interface Completion {
  entry: FrontierEntry;
  host: string;
  /** The record to store, or null (noindex, --store-only, robots-disallowed). */
  record: PageRecord | null;
  /** Links (and redirect targets) found on the page, already normalised and in scope. */
  links: NewEntry[];
  state: 'done' | 'failed' | 'skipped';
  /** The entry's host slot was freed already, by release(). */
  hostReleased?: boolean;
}

/** What a backend gets from the crawl it serves. */
export interface BackendContext {
  perHost: number;
  delayMs: number;
  maxPages: number;
  /** URLs an in-memory queue holds at most (CrawlOptions.maxQueue). */
  maxQueue: number;
  /** A link was not queued: the in-memory queue held maxQueue URLs. */
  onQueueFull(): void;
  /** Hands a stored record to the crawl's output (waits while the consumer is behind). */
  onRecord(record: PageRecord): Promise<void>;
  /** Something a waiting take() could use has happened (links written, a page ended). */
  onChange(): void;
}

export type Take = { entry: FrontierEntry; host: string } | { waitMs: number } | null;

/**
 * Where the crawl keeps its queue and its seen-set: in memory (the default) or in MySQL
 * (a persistent frontier shared by several processes). Politeness and --max-pages live here, so
 * they hold for whatever the backend spans.
 */
export interface FrontierBackend {
  /**
   * Adds URLs (the start URLs, a sitemap's) that are not yet known to the crawl; resolves with
   * how many were new and queued (idempotent: a second call adds none).
   */
  seed(entries: NewEntry[]): Promise<number>;
  /**
   * The next entry that may start now (its host's politeness already accounted for), or how long
   * to wait (-1: until something changes), or null when the crawl has nothing left anywhere.
   */
  take(now: number): Promise<Take>;
  /**
   * The request of a taken entry has been written to the socket: delays between request starts
   * count from here, so a process that stalls between take() and the write cannot crowd a host.
   */
  sent(host: string, now: number): void;
  /** Raises a host's delay between request starts (robots Crawl-delay). */
  setDelay(host: string, delayMs: number): Promise<void>;
  /**
   * The taken entry's request is over: frees its host's in-flight slot now rather than at
   * complete(), for a page that waits on something other than the host before it completes (its
   * WARC write), so that the wait does not hold back the host's next request. Its complete() then
   * says `hostReleased`, and frees nothing more.
   */
  release(entry: FrontierEntry, host: string): void;
  /**
   * A request to `host` that is no queued entry (a sitemap) takes one of the host's in-flight
   * slots and the right to start now, by the rules take() keeps for entries: 0 when it did (say
   * sent() once its request is written, and releaseSlot() once it is over); else ms to wait
   * before asking again, or -1 while the host's slots are busy (until one of its requests ends).
   */
  acquireSlot(host: string, now: number): Promise<number>;
  /** Frees the slot acquireSlot() took. */
  releaseSlot(host: string): void;
  /** Puts a taken entry back, to be tried again not before `notBefore`. */
  retry(entry: FrontierEntry, host: string, notBefore: number): Promise<void>;
  /**
   * Puts a taken entry back as it was (no attempt counted, first in its host's turn): its own
   * request did not start, because another request to the host (its robots.txt) went first and
   * the host's delay now stands before it.
   */
  defer(entry: FrontierEntry, host: string): Promise<void>;
  /**
   * Ends a taken entry. The record reaches onRecord once it is stored (at once in memory; after its
   * transaction with MySQL); this resolves when the backend can take more (bounded buffering).
   */
  complete(c: Completion): Promise<void>;
  /** Entries waiting (for progress output; may be approximate). */
  readonly queued: number;
  /**
   * No new URL will be taken any more (--max-pages spent, or stopped): URLs seeded now would
   * never be fetched. (Sitemaps stop being read.)
   */
  readonly full: boolean;
  /** Takes nothing more (graceful stop). */
  stop(): void;
  close(): Promise<void>;
}
