import { afterEach, describe, expect, it } from 'vitest';
import { normalizeUrl } from '../../src/crawl/normalize-url.js';
import { RobotsCache } from '../../src/crawl/robots.js';
import { httpServer, type HttpServer } from '../helpers/http-server.js';

let servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** `n` origins, each serving a robots.txt of `bytes` bytes that disallows /private; hits counted per origin. */
async function origins(n: number, bytes = 40): Promise<{ origin: string; hits: () => number }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    let hits = 0;
    const body = `User-agent: *\nDisallow: /private\n${'#'.repeat(Math.max(0, bytes - 32))}\n`;
    const s = await httpServer((req, res) => {
      if (req.url === '/robots.txt') hits++;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(body);
    });
    servers.push(s);
    out.push({ origin: s.origin, hits: () => hits });
  }
  return out;
}

describe('RobotsCache bounds', () => {
  it('keeps at most maxOrigins origins\' rules, letting the least recently used go and reading it again when needed', async () => {
    const [a, b, c] = await origins(3);
    const cache = new RobotsCache('rawcrawl', {}, { maxOrigins: 2 });
    const allowed = async (o: { origin: string }, path = '/x'): Promise<boolean> => (await cache.check(new URL(`${o.origin}${path}`))).allowed;
    expect(await allowed(a!)).toBe(true);
    expect(await allowed(b!, '/private/1')).toBe(false);
    // a used again: b is now the least recently used, and goes when c comes.
    expect(await allowed(a!)).toBe(true);
    expect(await allowed(c!)).toBe(true);
    expect(cache.cachedOrigins).toBe(2);
    expect(await allowed(a!)).toBe(true);
    expect(await allowed(b!, '/private/2')).toBe(false);
    expect([a!.hits(), b!.hits(), c!.hits()]).toEqual([1, 2, 1]);
  });

  it('keeps at most maxBytes of robots.txt, the newest always', async () => {
    const [a, b] = await origins(2, 3000);
    const cache = new RobotsCache('rawcrawl', {}, { maxBytes: 4000 });
    await cache.check(new URL(`${a!.origin}/`));
    await cache.check(new URL(`${b!.origin}/`));
    expect(cache.cachedOrigins).toBe(1);
    expect((await cache.check(new URL(`${b!.origin}/private`))).allowed).toBe(false);
    expect((await cache.check(new URL(`${a!.origin}/private`))).allowed).toBe(false);
    expect([a!.hits(), b!.hits()]).toEqual([2, 1]);
  });

  it('checks that wait for one origin\'s robots.txt share its one request', async () => {
    const [a] = await origins(1);
    const cache = new RobotsCache('rawcrawl', {}, { maxOrigins: 1 });
    const t0 = Date.now();
    const verdicts = await Promise.all(Array.from({ length: 5 }, (_, i) => cache.check(new URL(`${a!.origin}/p${i}`))));
    // All of them say when that one request went out.
    expect(new Set(verdicts.map((v) => v.sentAt)).size).toBe(1);
    expect(verdicts[0]!.sentAt).toBeGreaterThanOrEqual(t0);
    expect(verdicts.every((v) => v.allowed)).toBe(true);
    expect(a!.hits()).toBe(1);
  });
});

describe('RobotsCache matching', () => {
  /** Whether each URL (normalised, as the crawl hands them over) is allowed by this robots.txt. */
  async function verdicts(robots: string, paths: string[]): Promise<Record<string, boolean>> {
    const s = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(robots);
    });
    servers.push(s);
    const cache = new RobotsCache('rawcrawl', {});
    const out: Record<string, boolean> = {};
    for (const p of paths) out[p] = (await cache.check(new URL(normalizeUrl(`${s.origin}${p}`)!))).allowed;
    return out;
  }

  it('matches a rule to a URL whatever the escaping of [ ] | ^ { } ` \\ (robots-parser escapes them in rules, WHATWG URL keeps some raw)', async () => {
    const robots = 'User-agent: *\nDisallow: /*?f[\nDisallow: /p|q\nDisallow: /x%5Bk%5D\nDisallow: /*?c={\nDisallow: /^\n';
    expect(await verdicts(robots, ['/s?f[a]=1', '/s?f%5Ba%5D=1', '/p|q', '/p%7Cq', '/x[k]', '/s?c={}', '/^a', '/s?g=1', '/pq'])).toEqual({
      '/s?f[a]=1': false,
      '/s?f%5Ba%5D=1': false,
      '/p|q': false,
      '/p%7Cq': false,
      '/x[k]': false,
      '/s?c={}': false,
      '/^a': false,
      '/s?g=1': true,
      '/pq': true,
    });
  });

  it('reads an escaped unreserved character in a rule as the character, as URLs are normalised (RFC 9309 §2.2.2, RFC 3986 §6.2.2.2)', async () => {
    const robots = 'User-agent: *\nDisallow: /%7Ejoe\nDisallow: /%41b%2dc\ndisallow : /a%2fb # %7E\n';
    expect(await verdicts(robots, ['/~joe/x', '/%7ejoe/x', '/Ab-c', '/%41%62%2Dc', '/a%2Fb', '/a/b', '/joe'])).toEqual({
      '/~joe/x': false,
      '/%7ejoe/x': false,
      '/Ab-c': false,
      '/%41%62%2Dc': false,
      '/a%2Fb': false,
      '/a/b': true,
      '/joe': true,
    });
  });
});
