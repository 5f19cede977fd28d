import { Frontier, type FrontierEntry } from './frontier.js';
import type { BackendContext, Completion, FrontierBackend, NewEntry, Take } from './frontier-backend.js';
import { SeenSet } from './seen-set.js';

/**
 * The default frontier: per-host queues and a fingerprint seen-set in this process's memory.
 * Records are handed to the crawl's output as soon as a page completes.
 */
export class MemoryBackend implements FrontierBackend {
  private readonly frontier: Frontier;
  private readonly seen = new SeenSet();
  private reserved = 0;
  private stopped = false;

  private readonly maxPages: number;

  constructor(private readonly ctx: BackendContext) {
    this.frontier = new Frontier(ctx.perHost, ctx.delayMs);
    this.maxPages = ctx.maxPages;
  }

  get queued(): number {
    return this.frontier.size;
  }

  async seed(entries: NewEntry[]): Promise<void> {
    this.add(entries);
  }

  async take(now: number): Promise<Take> {
    if (this.stopped) return null;
    const r = this.frontier.take(now);
    if (r && 'entry' in r && r.entry.attempts === 0) {
      if (this.reserved >= this.maxPages) {
        this.frontier.release(r.host);
        this.stop();
        return null;
      }
      this.reserved++;
    }
    return r;
  }

  sent(host: string, now: number): void {
    this.frontier.started(host, now);
  }

  release(_entry: FrontierEntry, host: string): void {
    this.frontier.release(host);
  }

  async setDelay(host: string, delayMs: number): Promise<void> {
    this.frontier.setDelay(host, delayMs);
  }

  async retry(entry: FrontierEntry, host: string, notBefore: number): Promise<void> {
    this.frontier.release(host);
    if (this.stopped) return;
    this.frontier.push(host, { ...entry, attempts: entry.attempts + 1, notBefore });
  }

  async complete(c: Completion): Promise<void> {
    if (!c.hostReleased) this.frontier.release(c.host);
    if (c.state === 'skipped' && c.entry.attempts === 0) this.reserved--;
    this.add(c.links);
    if (c.record) await this.ctx.onRecord(c.record);
  }

  stop(): void {
    this.stopped = true;
    this.frontier.clear();
  }

  async close(): Promise<void> {}

  private add(entries: NewEntry[]): void {
    if (this.stopped) return;
    for (const e of entries) {
      if (!this.seen.add(e.url)) continue;
      this.frontier.push(e.host, { url: e.url, depth: e.depth, referrer: e.referrer, redirects: e.redirects ?? 0, attempts: 0, notBefore: 0 });
    }
  }
}
