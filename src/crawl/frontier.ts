import TinyQueue from 'tinyqueue';

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
  /** Put back once already for its host's turn after robots.txt (see Crawler.process). */
  deferred?: boolean;
  /** Insertion order: BFS across hosts. */
  seq: number;
}

interface HostState {
  queue: FrontierEntry[];
  head: number;
  inflight: number;
  /** When the last request to this host started (the delay counts from there). */
  lastStart: number;
  /**
   * The last entry taken whose request has not started yet, and the lastStart before its take:
   * if it makes no request (robots.txt disallows it), unstart() gives the host that time back.
   */
  taken: FrontierEntry | null;
  startBefore: number;
  delayMs: number;
  /** Bumped at each change that can move the host in the heaps: its older heap items are stale. */
  version: number;
}

/** A host in one of the heaps, as it was at `version`. */
interface Slot {
  host: string;
  h: HostState;
  version: number;
  /** When its next request may start: its last start plus its delay, or its head's notBefore. */
  at: number;
  /** Its head entry's depth and seq (breadth-first order across hosts). */
  depth: number;
  seq: number;
}

/** When the host may start `e` (its head): its last start plus its delay, or e's notBefore. */
const readyAt = (h: HostState, e: FrontierEntry): number => Math.max(h.lastStart + h.delayMs, e.notBefore);

const byDepthThenSeq = (a: Slot, b: Slot): number => a.depth - b.depth || a.seq - b.seq;
const byTime = (a: Slot, b: Slot): number => a.at - b.at || byDepthThenSeq(a, b);

export type TakeResult = { entry: FrontierEntry; host: string } | { waitMs: number } | null;

/** Hosts kept before idle ones with a delay are first swept out (see Frontier.sweep()). */
const SWEEP_MIN_HOSTS = 4096;

/**
 * Per-host FIFO queues (breadth-first: depth order within a host, insertion order across hosts)
 * with politeness: at most `perHost` in flight and `delayMs` between request starts per host.
 *
 * take() costs O(log hosts), not a scan of every host: a host with something queued and a free
 * slot is in `waiting` (by the time it may start next) until that time, then in `ready` (by its
 * head entry's depth and seq). A host whose slots are all busy is in neither, until release().
 * Heap items are dropped lazily: a change to a host bumps its version and queues it afresh. (A
 * scan was 170 µs a take at 1,000 hosts queued, 4 ms at 10,000: a crawl of many sites stalled.)
 */
export class Frontier {
  private readonly hosts = new Map<string, HostState>();
  private seq = 0;
  private queued = 0;
  private waiting = new TinyQueue<Slot>([], byTime);
  private ready = new TinyQueue<Slot>([], byDepthThenSeq);
  /** The latest time take(), acquire() or started() was given: what a sweep counts delays to. */
  private lastNow = -Infinity;
  /** Hosts kept before the next sweep of idle ones (see sweep()). */
  private sweepAt = SWEEP_MIN_HOSTS;

  constructor(
    private readonly perHost: number,
    private readonly defaultDelayMs: number,
  ) {}

  get size(): number {
    return this.queued;
  }

  push(host: string, entry: Omit<FrontierEntry, 'seq'>): void {
    const h = this.state(host);
    // Spelled out, not `{ ...entry, seq }`: V8 gives each object made so a hidden class of its
    // own (map, descriptors, property array: 376 bytes an entry instead of 80).
    const e: FrontierEntry = {
      url: entry.url,
      depth: entry.depth,
      referrer: entry.referrer,
      redirects: entry.redirects,
      attempts: entry.attempts,
      notBefore: entry.notBefore,
      seq: this.seq++,
    };
    if (entry.deferred !== undefined) e.deferred = entry.deferred;
    // Retries wait for their time: keep each queue ordered by notBefore, then seq.
    let at = h.queue.length;
    if (e.notBefore > 0) {
      while (at > h.head && h.queue[at - 1]!.notBefore > e.notBefore) at--;
      h.queue.splice(at, 0, e);
    } else {
      h.queue.push(e);
    }
    this.queued++;
    // Only a new head changes where the host stands.
    if (at === h.head) this.touch(host, h);
  }

  /** Puts a taken entry back at the head of its host's queue, as it was (see defer()). */
  requeue(host: string, e: FrontierEntry): void {
    const h = this.state(host);
    if (h.head > 0) h.queue[--h.head] = e;
    else h.queue.unshift(e);
    this.queued++;
    this.touch(host, h);
  }

  /** The host's delay between request starts (robots Crawl-delay wins when larger). */
  setDelay(host: string, delayMs: number): void {
    const h = this.state(host);
    h.delayMs = Math.max(this.defaultDelayMs, delayMs);
    this.touch(host, h);
  }

  /**
   * The next entry allowed to start now (and marks it in flight), or how long until one may
   * (-1: until a request ends), or null when nothing is queued. With `only`, the first entry
   * that passes it, from anywhere in a host's queue, or null when none does (a scan of every
   * host: for the rare case, retries at the --max-pages limit).
   */
  take(now: number, only?: (e: FrontierEntry) => boolean): TakeResult {
    this.lastNow = now;
    if (this.queued === 0) return null;
    if (only) return this.takeFiltered(now, only);
    for (let s = this.waiting.peek(); s !== undefined && s.at <= now; s = this.waiting.peek()) {
      this.waiting.pop();
      if (s.version === s.h.version) this.ready.push(s);
    }
    for (let s = this.ready.pop(); s !== undefined; s = this.ready.pop()) {
      if (s.version !== s.h.version) continue;
      return this.takeAt(s.host, s.h, s.h.head, now);
    }
    for (let s = this.waiting.peek(); s !== undefined && s.version !== s.h.version; s = this.waiting.peek()) this.waiting.pop();
    const next = this.waiting.peek();
    return { waitMs: next ? next.at - now : -1 };
  }

  /**
   * A request to `host` that is no queued entry (a sitemap) takes one of its slots now, by the
   * rules take() keeps: 0 when it did (release() it once the request is over), else ms until
   * the host's delay has passed, or -1 while all of its slots are busy (until a request ends).
   */
  acquire(host: string, now: number): number {
    this.lastNow = now;
    const h = this.state(host);
    if (h.inflight >= this.perHost) return -1;
    const at = h.lastStart + h.delayMs;
    if (at > now) return at - now;
    this.begin(host, h, now);
    return 0;
  }

  /** The request really starts now (after robots.txt was read): the delay counts from here. */
  started(host: string, now: number): void {
    this.lastNow = now;
    // A host not met yet too: the robots.txt of a sitemap's host is read before its slot is taken.
    const h = this.state(host);
    h.lastStart = now;
    h.taken = null;
    this.touch(host, h);
  }

  /**
   * `e`, taken from `host`, made no request (robots.txt disallowed it): unless the host has
   * taken another since, its delay counts from its start before again, so that a run of
   * disallowed URLs does not cost a delay each.
   */
  unstart(host: string, e: FrontierEntry): void {
    const h = this.hosts.get(host);
    if (!h || h.taken !== e) return;
    h.lastStart = h.startBefore;
    h.taken = null;
    this.touch(host, h);
  }

  /** Hosts with state kept (queued, in flight, or with a delay to keep). */
  get hostCount(): number {
    return this.hosts.size;
  }

  /** A request to `host` has finished. */
  release(host: string): void {
    const h = this.hosts.get(host);
    if (!h) return;
    h.inflight--;
    if (h.inflight === 0 && h.head >= h.queue.length && h.delayMs === 0) {
      // Nothing queued, nothing in flight, no delay to count from its last start: nothing to
      // keep. A crawl of endless hosts (*.example.com) would otherwise keep every one it met.
      this.hosts.delete(host);
      h.version++;
      return;
    }
    // A host that was full has a slot again; one that was not is in the heaps already.
    if (h.inflight === this.perHost - 1) this.touch(host, h);
  }

  /** Drops every queued entry (a graceful stop). */
  clear(): void {
    for (const h of this.hosts.values()) {
      h.queue = [];
      h.head = 0;
      h.version++;
    }
    this.queued = 0;
    this.waiting = new TinyQueue<Slot>([], byTime);
    this.ready = new TinyQueue<Slot>([], byDepthThenSeq);
  }

  /** Takes `h.queue[at]` now: in flight, its start counted. */
  private takeAt(host: string, h: HostState, at: number, now: number): TakeResult {
    const e = h.queue[at]!;
    if (at !== h.head) {
      h.queue.splice(at, 1);
    } else {
      h.head++;
      if (h.head === h.queue.length) {
        // Drained: let go of the entries handed out (a host kept for its delay would hold them).
        h.queue = [];
        h.head = 0;
      } else if (h.head > 1024 && h.head * 2 > h.queue.length) {
        h.queue.splice(0, h.head);
        h.head = 0;
      }
    }
    this.queued--;
    const before = h.lastStart;
    this.begin(host, h, now);
    h.taken = e;
    h.startBefore = before;
    return { entry: e, host };
  }

  /** A request to the host starts now: one slot more busy, and its delay counts from here. */
  private begin(host: string, h: HostState, now: number): void {
    h.inflight++;
    h.lastStart = now;
    h.taken = null;
    this.touch(host, h);
  }

  private takeFiltered(now: number, only: (e: FrontierEntry) => boolean): TakeResult {
    let best: { host: string; h: HostState; e: FrontierEntry; at: number } | null = null;
    let wait = Infinity;
    let any = false;
    for (const [host, h] of this.hosts) {
      let at = h.head;
      while (at < h.queue.length && !only(h.queue[at]!)) at++;
      if (at >= h.queue.length) continue;
      any = true;
      if (h.inflight >= this.perHost) continue;
      const e = h.queue[at]!;
      const ready = readyAt(h, e);
      if (ready > now) {
        wait = Math.min(wait, ready - now);
        continue;
      }
      if (!best || e.depth < best.e.depth || (e.depth === best.e.depth && e.seq < best.e.seq)) best = { host, h, e, at };
    }
    if (!best) return any ? { waitMs: wait === Infinity ? -1 : wait } : null;
    return this.takeAt(best.host, best.h, best.at, now);
  }

  /** The host changed: its heap items are stale, and it is queued afresh if it can start at all. */
  private touch(host: string, h: HostState): void {
    h.version++;
    if (h.head >= h.queue.length || h.inflight >= this.perHost) return;
    const e = h.queue[h.head]!;
    this.waiting.push({ host, h, version: h.version, at: readyAt(h, e), depth: e.depth, seq: e.seq });
    // Stale items are dropped as they come to the top; rebuild when they far outnumber the hosts.
    if (this.waiting.length + this.ready.length > 4 * this.hosts.size + 4096) this.rebuild();
  }

  private rebuild(): void {
    const live = (s: Slot): boolean => s.version === s.h.version;
    this.waiting = new TinyQueue(this.waiting.data.filter(live), byTime);
    this.ready = new TinyQueue(this.ready.data.filter(live), byDepthThenSeq);
  }

  /**
   * Lets go of hosts with nothing queued and nothing in flight whose delay has passed since their
   * last start (release() lets go of those without a delay at once): their state says nothing
   * any more. Run when the hosts kept have doubled since the last sweep, so it costs O(1) a host.
   */
  private sweep(): void {
    for (const [host, h] of this.hosts) {
      // A delay above the crawl's own is robots.txt's Crawl-delay: kept, as it would be lost.
      if (h.inflight === 0 && h.head >= h.queue.length && h.delayMs <= this.defaultDelayMs && h.lastStart + h.delayMs <= this.lastNow) {
        this.hosts.delete(host);
        h.version++;
      }
    }
    this.sweepAt = Math.max(SWEEP_MIN_HOSTS, 2 * this.hosts.size);
  }

  private state(host: string): HostState {
    let h = this.hosts.get(host);
    if (!h) {
      if (this.hosts.size >= this.sweepAt) this.sweep();
      h = { queue: [], head: 0, inflight: 0, lastStart: -Infinity, taken: null, startBefore: -Infinity, delayMs: this.defaultDelayMs, version: 0 };
      this.hosts.set(host, h);
    }
    return h;
  }
}
