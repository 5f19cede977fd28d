import { lookup } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import { BoundedMap } from './bounded-map.js';

export interface ResolvedAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/** Every address of a name, in the order the system's resolver gives them. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/**
 * The addresses the `resolve` option (--resolve) pins `host`:`port` to, by that port or by `*`;
 * undefined when it names neither.
 */
export function pinnedAddresses(resolve: ReadonlyMap<string, ResolvedAddress[]> | undefined, host: string, port: number): ResolvedAddress[] | undefined {
  return resolve && (resolve.get(`${host.toLowerCase()}:${port}`) ?? resolve.get(`${host.toLowerCase()}:*`));
}

/**
 * True for a name under `localhost.` (`app.localhost`, `a.b.localhost.`): RFC 6761 §6.3 makes
 * these loopback names, which resolvers should answer with the loopback address and never send to
 * a DNS server. getaddrinfo does not (glibc asks DNS and fails), where curl and browsers do.
 */
export function isLocalhostSubdomain(host: string): boolean {
  return /\.localhost\.?$/i.test(host);
}

/** getaddrinfo, with a name under localhost answered as `localhost` itself (the hosts file). */
const systemResolver: Resolver = (host) => lookup(isLocalhostSubdomain(host) ? 'localhost' : host, { all: true });

/** How long a name's addresses are reused unless the caller says otherwise. */
export const DNS_CACHE_MS = 60_000;

/**
 * Name lookups to reuse. rawcrawl opens a new connection per request, and without this each one
 * asks getaddrinfo again: a thread-pool job at least, and a DNS query on a system that keeps no
 * cache of its own (Scrapy's DNSCACHE and got's cacheable-lookup exist for the same reason).
 * getaddrinfo reports no TTL, so an entry lives for the caller's `ttlMs`. Lookups of one name
 * made while one is in flight share it. Failures are not kept.
 */
export class DnsCache {
  private readonly entries: BoundedMap<{ addresses: ResolvedAddress[]; expires: number }>;
  private readonly inFlight = new Map<string, Promise<ResolvedAddress[]>>();

  /** @param max names kept; the least recently stored go first. */
  constructor(
    private readonly resolve: Resolver = systemResolver,
    max = 10_000,
  ) {
    this.entries = new BoundedMap(max);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The addresses stored for `host`, if they are younger than their time to live. */
  get(host: string, now = performance.now()): ResolvedAddress[] | undefined {
    const e = this.entries.get(host);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(host);
      return undefined;
    }
    return e.addresses;
  }

  /** Looks `host` up (or joins the lookup in flight) and keeps the answer for `ttlMs`. */
  lookup(host: string, ttlMs: number): Promise<ResolvedAddress[]> {
    const pending = this.inFlight.get(host);
    if (pending) return pending;
    const p = this.resolve(host).then(
      (addresses) => {
        this.inFlight.delete(host);
        this.set(host, addresses, ttlMs);
        return addresses;
      },
      (err: unknown) => {
        this.inFlight.delete(host);
        throw err;
      },
    );
    this.inFlight.set(host, p);
    return p;
  }

  /** Keeps `addresses` for `host` for `ttlMs` (what a lookup does with its answer). */
  set(host: string, addresses: ResolvedAddress[], ttlMs: number): void {
    this.entries.set(host, { addresses, expires: performance.now() + ttlMs });
  }

  /** Drops what is stored for `host` (none of its addresses answered). */
  forget(host: string): void {
    this.entries.delete(host);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The process's lookups, shared by every openConnection() that does not opt out. */
export const dnsCache = new DnsCache();

/** A lookup with no cache: what `dnsCacheMs: 0` asks for. */
export function lookupUncached(host: string): Promise<ResolvedAddress[]> {
  return systemResolver(host);
}
