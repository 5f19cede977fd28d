import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsCache, dnsCache, isLocalhostSubdomain, lookupUncached, type ResolvedAddress } from '../../src/net/dns-cache.js';
import { request } from '../../src/client/request.js';
import type { WireEvent } from '../../src/wire/events.js';
import { WireFormatter } from '../../src/wire/format.js';
import { httpServer, type HttpServer } from '../helpers/http-server.js';
import { failure } from '../helpers/failure.js';
import { unansweredPort } from '../helpers/unanswered-port.js';

/** A resolver that counts its calls and answers after a turn of the event loop. */
function countingResolver(answer: (host: string, call: number) => ResolvedAddress[] | Error) {
  const calls: string[] = [];
  const resolve = (host: string): Promise<ResolvedAddress[]> => {
    calls.push(host);
    const a = answer(host, calls.length);
    return new Promise((ok, fail) => setImmediate(() => (a instanceof Error ? fail(a) : ok(a))));
  };
  return { calls, resolve };
}

const A: ResolvedAddress[] = [{ address: '192.0.2.1', family: 4 }];

describe('DnsCache', () => {
  it('answers from what it kept until the time to live is over', async () => {
    const r = countingResolver(() => A);
    const c = new DnsCache(r.resolve);
    const before = performance.now();
    expect(await c.lookup('a.test', 1000)).toEqual(A);
    const after = performance.now();
    expect(c.get('a.test')).toEqual(A);
    // Kept from when the answer came (between before and after) for 1000 ms.
    expect(c.get('a.test', before + 999)).toEqual(A);
    expect(c.get('a.test', after + 1001)).toBeUndefined();
    // Expired entries are dropped, not kept around.
    expect(c.size).toBe(0);
    expect(r.calls).toEqual(['a.test']);
  });

  it('makes one lookup for a name asked for again while it is in flight', async () => {
    const r = countingResolver(() => A);
    const c = new DnsCache(r.resolve);
    const all = await Promise.all([c.lookup('a.test', 1000), c.lookup('a.test', 1000), c.lookup('b.test', 1000)]);
    expect(all).toEqual([A, A, A]);
    expect(r.calls).toEqual(['a.test', 'b.test']);
  });

  it('does not keep a failure', async () => {
    const r = countingResolver((_, call) => (call === 1 ? Object.assign(new Error('no such name'), { code: 'ENOTFOUND' }) : A));
    const c = new DnsCache(r.resolve);
    await expect(c.lookup('a.test', 1000)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(c.get('a.test')).toBeUndefined();
    expect(await c.lookup('a.test', 1000)).toEqual(A);
    expect(r.calls).toHaveLength(2);
  });

  it('keeps at most max names, dropping the least recently looked up', async () => {
    const c = new DnsCache(countingResolver(() => A).resolve, 2);
    for (const h of ['a.test', 'b.test', 'c.test']) await c.lookup(h, 1000);
    expect(c.size).toBe(2);
    expect(c.get('a.test')).toBeUndefined();
    c.forget('b.test');
    expect(c.get('b.test')).toBeUndefined();
    expect(c.get('c.test')).toEqual(A);
  });
});

describe('request() and the DNS cache', () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await httpServer((_, res) => res.end('ok'));
  });
  afterAll(async () => {
    await server.close();
  });

  async function dnsEvent(url: string, dnsCacheMs?: number) {
    const events: WireEvent[] = [];
    const res = await request(url, { onWire: (e) => events.push(e), ...(dnsCacheMs !== undefined ? { dnsCacheMs } : {}) });
    expect(res.text()).toBe('ok');
    const ev = events.find((e) => e.type === 'dns');
    if (ev?.type !== 'dns') throw new Error('no dns event');
    return ev;
  }

  it('a second request to a host name reuses its addresses, and the trace says so', async () => {
    dnsCache.clear();
    const url = `http://localhost:${server.port}/`;
    expect((await dnsEvent(url)).cached).toBe(false);
    const second = await dnsEvent(url);
    expect(second).toMatchObject({ cached: true, host: 'localhost' });
    expect(new WireFormatter().format(second)[0]).toMatch(/ \* dns localhost -> \S+ family=\d \d+\.\d{3}ms cached$/);
  });

  it('a name under localhost (RFC 6761) reaches the loopback server, with its own name in Host', async () => {
    const hosts: string[] = [];
    const s = await httpServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      res.end('ok');
    });
    try {
      for (const name of ['app.localhost', 'A.b.LOCALHOST', 'x.localhost.']) {
        const res = await request(`http://${name}:${s.port}/`, { dnsCacheMs: 0 });
        expect(res.text()).toBe('ok');
      }
      expect(hosts).toEqual([`app.localhost:${s.port}`, `a.b.localhost:${s.port}`, `x.localhost.:${s.port}`]);
    } finally {
      await s.close();
    }
    expect((await lookupUncached('api.localhost')).map((a) => a.address).sort()).toEqual((await lookupUncached('localhost')).map((a) => a.address).sort());
    for (const other of ['localhost.example', 'notlocalhost', 'localhost-x.dev', 'example.com']) expect(isLocalhostSubdomain(other)).toBe(false);
  });

  it('dnsCacheMs: 0 looks the name up every time and keeps nothing', async () => {
    dnsCache.clear();
    const url = `http://localhost:${server.port}/`;
    expect((await dnsEvent(url, 0)).cached).toBe(false);
    expect((await dnsEvent(url, 0)).cached).toBe(false);
    expect(dnsCache.size).toBe(0);
  });

  it('a name none of whose addresses answers is looked up again next time', async () => {
    dnsCache.clear();
    const dead = await httpServer((_, res) => res.end('ok'));
    await dnsEvent(`http://localhost:${dead.port}/`);
    expect(dnsCache.get('localhost')).toBeDefined();
    await dead.close();
    const e = await failure(request(`http://localhost:${dead.port}/`));
    expect(e.code).toBe('ERR_CONNECT');
    expect(dnsCache.get('localhost')).toBeUndefined();
  });

  it('a name whose address does not answer within connectTimeoutMs is looked up again next time: ERR_TIMEOUT at that time', async () => {
    // The name has moved and its old address drops SYNs (no RST, no ICMP): the connect timeout is
    // the only sign, and the next request must not be sent to that address again for the TTL.
    const silent = await unansweredPort();
    try {
      dnsCache.clear();
      dnsCache.set('moved.test', [{ address: '127.0.0.1', family: 4 }], 60_000);
      const t0 = performance.now();
      const e = await failure(request(`http://moved.test:${silent.port}/`, { connectTimeoutMs: 300 }));
      const took = performance.now() - t0;
      expect(e.code).toBe('ERR_TIMEOUT');
      expect(e.message).toBe(`connect to moved.test:${silent.port} timed out after 300 ms`);
      expect(took).toBeGreaterThanOrEqual(295);
      expect(took).toBeLessThan(400);
      expect(dnsCache.get('moved.test')).toBeUndefined();
    } finally {
      await silent.close();
    }
  });

  it('a name looked up for a connection that then fails is not kept either', async () => {
    dnsCache.clear();
    const dead = await httpServer((_, res) => res.end('ok'));
    await dead.close();
    const e = await failure(request(`http://localhost:${dead.port}/`));
    expect(e.code).toBe('ERR_CONNECT');
    expect(dnsCache.get('localhost')).toBeUndefined();
  });

  it('of a name\'s addresses, one that swallows packets is given up on after 250 ms (RFC 8305), not the connect timeout', async () => {
    // 100::1 is in the IPv6 discard prefix (RFC 6666): nothing answers it.
    dnsCache.set('dual.test', [{ address: '100::1', family: 6 }, { address: '127.0.0.1', family: 4 }], 60_000);
    const events: WireEvent[] = [];
    const t0 = performance.now();
    const res = await request(`http://dual.test:${server.port}/`, { connectTimeoutMs: 5000, onWire: (e) => events.push(e) });
    expect(res.text()).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(res.remoteAddress).toBe('127.0.0.1');
    expect(events.find((e) => e.type === 'connected')).toMatchObject({ remote: `127.0.0.1:${server.port}` });
    expect(events.find((e) => e.type === 'dns')).toMatchObject({ host: 'dual.test', cached: true });
  });

  it('a name none of whose several addresses answers is ERR_CONNECT with their error, and is forgotten', async () => {
    const dead = await httpServer((_, res) => res.end('ok'));
    await dead.close();
    dnsCache.set('gone.test', [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }], 60_000);
    const e = await failure(request(`http://gone.test:${dead.port}/`));
    expect(e.code).toBe('ERR_CONNECT');
    expect(e.message).toBe(`cannot connect to gone.test:${dead.port}: ECONNREFUSED`);
    expect(dnsCache.get('gone.test')).toBeUndefined();
  });

  it('a negative dnsCacheMs is ERR_INVALID_OPTION', async () => {
    const e = await failure(request(`http://localhost:${server.port}/`, { dnsCacheMs: -1 }));
    expect(e.code).toBe('ERR_INVALID_OPTION');
  });
});
