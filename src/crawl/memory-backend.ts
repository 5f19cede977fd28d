import { Frontier, type FrontierEntry } from './frontier.js';
import type { BackendContext, Completion, FrontierBackend, NewEntry, Take } from './frontier-backend.js';
import { SeenSet } from './seen-set.js';

const isRetry = (e: FrontierEntry): boolean => e.attempts > 0;

/**
 * The default frontier: per-host queues and a fingerprint seen-set in this process's memory.
 * Records are handed to the crawl's output as soon as a page completes.
 */
export class MemoryBackend implements FrontierBackend {
  private readonly frontier: Frontier;
  private readonly seen = new SeenSet();
  /** Pages counted toward maxPages: taken new, less those robots.txt then disallowed. */
  private reserved = 0;
  /** Of those, pages not completed yet (in flight, or queued for a retry). */
  private open = 0;
  /** Retries in the queue. */
  private retries = 0;
  private stopped = false;

  private readonly maxPages: number;

  constructor(private readonly ctx: BackendContext) {
    this.frontier = new Frontier(ctx.perHost, ctx.delayMs);
    this.maxPages = ctx.maxPages;
  }

  get queued(): number {
    return this.frontier.size;
  }

  get full(): boolean {
    return this.stopped || this.reserved >= this.maxPages;
  }

  async seed(entries: NewEntry[]): Promise<number> {
    return this.add(entries);
  }

  async take(now: number): Promise<Take> {
    if (this.stopped) return null;
    if (this.reserved >= this.maxPages) {
      // At the limit only retries of counted pages may start; a page still open may yet give
      // its place back (robots.txt disallowed it), so the crawl ends when none is open.
      if (this.open === 0) {
        this.stop();
        return null;
      }
      const r = this.retries > 0 ? this.frontier.take(now, isRetry) : null;
      if (r && 'entry' in r) this.retries--;
      return r ?? { waitMs: -1 };
    }
    const r = this.frontier.take(now);
    if (r && 'entry' in r) {
      if (r.entry.attempts === 0) {
        this.reserved++;
        this.open++;
      } else this.retries--;
    }
    return r;
  }

  sent(host: string, now: number): void {
    this.frontier.started(host, now);
  }

  release(_entry: FrontierEntry, host: string): void {
    this.frontier.release(host);
  }

  async acquireSlot(host: string, now: number): Promise<number> {
    return this.frontier.acquire(host, now);
  }

  releaseSlot(host: string): void {
    this.frontier.release(host);
  }

  async setDelay(host: string, delayMs: number): Promise<void> {
    this.frontier.setDelay(host, delayMs);
  }

  async retry(entry: FrontierEntry, host: string, notBefore: number): Promise<void> {
    this.frontier.release(host);
    if (this.stopped) return;
    this.frontier.push(host, { ...entry, attempts: entry.attempts + 1, notBefore });
    this.retries++;
  }

  async defer(entry: FrontierEntry, host: string): Promise<void> {
    this.frontier.release(host);
    // As if take() had not taken it: a new page gives its place under --max-pages back.
    if (isRetry(entry)) this.retries++;
    else {
      this.reserved--;
      this.open--;
    }
    if (!this.stopped) this.frontier.requeue(host, entry);
  }

  async complete(c: Completion): Promise<void> {
    // Disallowed by robots.txt: no request was made, so none counts toward the host's delay.
    if (c.state === 'skipped') this.frontier.unstart(c.host, c.entry);
    if (!c.hostReleased) this.frontier.release(c.host);
    this.open--;
    if (c.state === 'skipped' && c.entry.attempts === 0) this.reserved--;
    this.add(c.links);
    if (c.record) await this.ctx.onRecord(c.record);
  }

  stop(): void {
    this.stopped = true;
    this.frontier.clear();
  }

  async close(): Promise<void> {}

  /** Queues the entries not yet seen; returns how many that was. */
  private add(entries: NewEntry[]): number {
    if (this.stopped) return 0;
    let added = 0;
    for (const e of entries) {
      if (this.frontier.size >= this.ctx.maxQueue) {
        // Full: not marked seen, so that it is queued when found again with room to spare.
        if (!this.seen.has(e.url)) this.ctx.onQueueFull();
        continue;
      }
      if (!this.seen.add(e.url)) continue;
      this.frontier.push(e.host, { url: e.url, depth: e.depth, referrer: e.referrer, redirects: e.redirects ?? 0, attempts: 0, notBefore: 0 });
      added++;
    }
    return added;
  }
}
