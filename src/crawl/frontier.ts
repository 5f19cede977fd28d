/** A URL waiting to be fetched. */
export interface FrontierEntry {
  url: string;
  depth: number;
  referrer: string | null;
  /** Redirects in a row that led here (0 for a start URL or a link): bounds a redirect chain. */
  redirects: number;
  /** Attempts already made (0 for a new URL). */
  attempts: number;
  /** Not before this time (ms since epoch), for retries. */
  notBefore: number;
  /** Insertion order: BFS across hosts. */
  seq: number;
}

interface HostState {
  queue: FrontierEntry[];
  head: number;
  inflight: number;
  /** When the last request to this host started (the delay counts from there). */
  lastStart: number;
  delayMs: number;
}

export type TakeResult = { entry: FrontierEntry; host: string } | { waitMs: number } | null;

/**
 * Per-host FIFO queues (breadth-first: depth order within a host, insertion order across hosts)
 * with politeness: at most `perHost` in flight and `delayMs` between request starts per host.
 */
export class Frontier {
  private readonly hosts = new Map<string, HostState>();
  private seq = 0;
  private queued = 0;

  constructor(
    private readonly perHost: number,
    private readonly defaultDelayMs: number,
  ) {}

  get size(): number {
    return this.queued;
  }

  push(host: string, entry: Omit<FrontierEntry, 'seq'>): void {
    const h = this.state(host);
    const e: FrontierEntry = { ...entry, seq: this.seq++ };
    // Retries wait for their time: keep each queue ordered by notBefore, then seq.
    if (e.notBefore > 0) {
      let i = h.queue.length;
      while (i > h.head && h.queue[i - 1]!.notBefore > e.notBefore) i--;
      h.queue.splice(i, 0, e);
    } else {
      h.queue.push(e);
    }
    this.queued++;
  }

  /** The host's delay between request starts (robots Crawl-delay wins when larger). */
  setDelay(host: string, delayMs: number): void {
    const h = this.state(host);
    h.delayMs = Math.max(this.defaultDelayMs, delayMs);
  }

  /**
   * The next entry allowed to start now (and marks it in flight), or how long until one may,
   * or null when nothing is queued.
   */
  take(now: number, only?: (e: FrontierEntry) => boolean): TakeResult {
    if (this.queued === 0) return null;
    let best: { host: string; h: HostState; e: FrontierEntry; at: number } | null = null;
    let wait = Infinity;
    let any = false;
    for (const [host, h] of this.hosts) {
      if (h.head >= h.queue.length) continue;
      // With `only`, the first entry of the host's queue that passes (a scan: for the rare case).
      let at = h.head;
      if (only) while (at < h.queue.length && !only(h.queue[at]!)) at++;
      if (at >= h.queue.length) continue;
      any = true;
      if (h.inflight >= this.perHost) continue;
      const e = h.queue[at]!;
      const ready = Math.max(h.lastStart + h.delayMs, e.notBefore);
      if (ready > now) {
        wait = Math.min(wait, ready - now);
        continue;
      }
      if (!best || e.depth < best.e.depth || (e.depth === best.e.depth && e.seq < best.e.seq)) best = { host, h, e, at };
    }
    if (!best) return only && !any ? null : { waitMs: wait === Infinity ? -1 : wait };
    const { h, e, host, at } = best;
    if (at !== h.head) {
      h.queue.splice(at, 1);
    } else {
      h.head++;
      if (h.head > 1024 && h.head * 2 > h.queue.length) {
        h.queue.splice(0, h.head);
        h.head = 0;
      }
    }
    this.queued--;
    h.inflight++;
    h.lastStart = now;
    return { entry: e, host };
  }

  /** The request really starts now (after robots.txt was read): the delay counts from here. */
  started(host: string, now: number): void {
    const h = this.hosts.get(host);
    if (h) h.lastStart = now;
  }

  /** A request to `host` has finished. */
  release(host: string): void {
    const h = this.hosts.get(host);
    if (h) h.inflight--;
  }

  /** Drops every queued entry (a graceful stop). */
  clear(): void {
    for (const h of this.hosts.values()) {
      h.queue = [];
      h.head = 0;
    }
    this.queued = 0;
  }

  private state(host: string): HostState {
    let h = this.hosts.get(host);
    if (!h) {
      h = { queue: [], head: 0, inflight: 0, lastStart: -Infinity, delayMs: this.defaultDelayMs };
      this.hosts.set(host, h);
    }
    return h;
  }
}
