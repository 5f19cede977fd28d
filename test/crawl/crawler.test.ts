import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { crawl, defaultParseThreads } from '../../src/crawl/crawler.js';
import type { CrawlOptions } from '../../src/crawl/options.js';
import type { PageRecord } from '../../src/crawl/record.js';
import { EXPECTED_HITS, fixtureSite, type FixtureSite } from '../helpers/fixture-site.js';

let site: FixtureSite | null = null;
afterEach(async () => {
  await site?.close();
  site = null;
});

async function collectAll(options: CrawlOptions): Promise<PageRecord[]> {
  const out: PageRecord[] = [];
  for await (const r of crawl(options)) out.push(r);
  return out;
}

const fast = { backoff: { baseMs: 5, capMs: 20 }, parseThreads: 0 } as const;

describe('crawl() over the fixture site', () => {
  it('fetches every in-scope URL exactly once, whatever form its links take, and never a disallowed one', async () => {
    site = await fixtureSite();
    const records = await collectAll({ startUrls: [`${site.origin}/`], ...fast, selects: [['h1', 'h1.h']] });
    expect(Object.fromEntries(site.hits)).toEqual(EXPECTED_HITS);

    const byPath = new Map(records.map((r) => [new URL(r.url).pathname, r]));
    // Every fetched page is a record, except the noindex page; robots.txt is not a page.
    const expectedPaths = Object.keys(EXPECTED_HITS).filter((p) => p !== '/robots.txt' && p !== '/noindex').sort();
    expect([...byPath.keys()].sort()).toEqual(expectedPaths);
    expect(records.length).toBe(expectedPaths.length);

    const home = byPath.get('/')!;
    expect(home).toMatchObject({ url: `${site.origin}/`, status: 200, depth: 0, referrer: null, title: 'Home', error: null, attempts: 1 });
    expect(home.fields).toEqual({ h1: 'Home' });
    expect(home.content_type).toBe('text/html; charset=utf-8');
    expect(home.bytes).toBeGreaterThan(500);
    expect(home.timings!.total).toBeGreaterThanOrEqual(home.timings!.firstByte);

    expect(byPath.get('/a')).toMatchObject({ depth: 1, referrer: `${site.origin}/`, title: 'Page A' });
    expect(byPath.get('/redirect')).toMatchObject({ status: 301, final_url: `${site.origin}/target` });
    expect(byPath.get('/target')).toMatchObject({ status: 200, depth: 1, referrer: `${site.origin}/redirect` });
    expect(byPath.get('/redirect-to-a')).toMatchObject({ status: 302, final_url: `${site.origin}/a` });
    expect(byPath.get('/missing')).toMatchObject({ status: 404, error: null });
    expect(byPath.get('/flaky')).toMatchObject({ status: 200, attempts: 2, title: 'Flaky' });
    expect(byPath.get('/reset')).toMatchObject({ status: 200, attempts: 2, title: 'Reset' });
    expect(byPath.get('/gbk')!.title).toBe('中文标题');
    expect(byPath.get('/gzip')!.title).toBe('Gzip');
    expect(byPath.get('/chunked')!.title).toBe('Chunked');
    expect(byPath.get('/sub/leaf')).toMatchObject({ referrer: `${site.origin}/based`, depth: 2 });
    expect(byPath.get('/image.png')).toMatchObject({ status: 200, content_type: 'image/png', bytes: 4, title: null });
    expect(byPath.get('/from-noindex')).toMatchObject({ referrer: `${site.origin}/noindex` });
    expect(byPath.get('/sql')!.title).toBe("'); DROP TABLE pages; --");
    // The 404 page's links are not followed, nor those of a nofollow page.
    expect(site.hits.has('/never-from-404')).toBe(false);
    expect(site.hits.has('/never')).toBe(false);
  });

  it('records a page that keeps failing with its error code after the retries', async () => {
    site = await fixtureSite();
    const records = await collectAll({ startUrls: [`${site.origin}/nowhere-port-check`, 'http://127.0.0.1:1/'], ...fast, retries: 1, allowHosts: ['127.0.0.1'], ignoreRobots: true });
    const failed = records.find((r) => r.url === 'http://127.0.0.1:1/')!;
    expect(failed).toMatchObject({ status: null, error: 'ERR_CONNECT', attempts: 2 });
    expect(failed.error_message).toMatch(/ECONNREFUSED/);
    const notFound = records.find((r) => r.url.endsWith('/nowhere-port-check'))!;
    expect(notFound).toMatchObject({ status: 404, error: null });
  });

  it('honours --max-pages, --max-depth, --include, --exclude and --store-only', async () => {
    site = await fixtureSite();
    const limited = await collectAll({ startUrls: [`${site.origin}/`], ...fast, maxPages: 3 });
    expect(records(limited)).toBe(3);
    const pagesFetched = [...site.hits.keys()].filter((p) => p !== '/robots.txt').length;
    expect(pagesFetched).toBe(3);
    await site.close();

    site = await fixtureSite();
    const shallow = await collectAll({ startUrls: [`${site.origin}/`], ...fast, maxDepth: 0 });
    expect(shallow.map((r) => new URL(r.url).pathname)).toEqual(['/']);
    await site.close();

    site = await fixtureSite();
    const excluded = await collectAll({ startUrls: [`${site.origin}/`], ...fast, exclude: [/\/(a|b)$/], include: [/localhost/] });
    expect(site.hits.has('/a')).toBe(false);
    expect(site.hits.has('/b')).toBe(false);
    expect(excluded.length).toBeGreaterThan(5);
    await site.close();

    site = await fixtureSite();
    const articles = await collectAll({ startUrls: [`${site.origin}/`], ...fast, storeOnly: [/\/article\/details\/\d+$/] });
    expect(articles.map((r) => new URL(r.url).pathname)).toEqual(['/article/details/42']);
    expect(site.hits.get('/a')).toBe(1); // listing pages were still fetched for their links
  });

  it('keeps --delay / robots Crawl-delay between request starts to one host', async () => {
    site = await fixtureSite({ robots: 'User-agent: *\nCrawl-delay: 0.15\nDisallow: /private\n' });
    await collectAll({ startUrls: [`${site.origin}/a`], ...fast, concurrency: 4, maxPages: 4 });
    const starts = site.times.filter((t) => t.path !== '/robots.txt').map((t) => t.at);
    expect(starts.length).toBe(4);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(145);
  });

  it('stops gracefully on stop() and at once on abort, yielding only complete pages', async () => {
    site = await fixtureSite({ slowMs: 2000 });
    const controller = new AbortController();
    const run = crawl({ startUrls: [`${site.origin}/`], ...fast, signal: controller.signal, concurrency: 8 });
    const got: PageRecord[] = [];
    const t0 = Date.now();
    setTimeout(() => controller.abort(), 400);
    for await (const r of run) got.push(r);
    expect(Date.now() - t0).toBeLessThan(1500); // /slow (2 s) was aborted, not waited for
    expect(got.some((r) => r.url.endsWith('/slow'))).toBe(false);
    expect(got.every((r) => r.error !== 'ERR_ABORTED')).toBe(true);
    expect(got.length).toBeGreaterThan(0);
    // /slow was in flight: counted as abandoned, with no record.
    expect(run.stats.abandoned).toBeGreaterThanOrEqual(1);
  });

  it('an abort while robots.txt is being fetched is no robots verdict: nothing counted disallowed or unavailable', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const site = await httpServer((req, res) => {
      if (req.url === '/robots.txt') return; // never answers
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<title>x</title>');
    });
    try {
      const controller = new AbortController();
      const run = crawl({ startUrls: [`${site.origin}/`], ...fast, signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      for await (const _ of run) void _;
      expect(run.stats.robotsDisallowed).toBe(0);
      expect(run.stats.robotsUnavailable).toEqual({});
      expect(run.stats.abandoned).toBe(1);
    } finally {
      await site.close();
    }
  });

  it('an origin whose robots.txt cannot be had (5xx, unreachable) is disallowed, and its stats say why', async () => {
    const http = await import('node:http');
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(req.url === '/robots.txt' ? 503 : 200, { 'Content-Type': 'text/html' });
      res.end('<title>x</title>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    // A port with nothing listening: the connection is refused.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const refused = `http://127.0.0.1:${(closed.address() as import('node:net').AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    try {
      const c = crawl({ startUrls: [`${origin}/a`, `${refused}/b`], ...fast, allowHosts: [new URL(refused).host] });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records).toEqual([]);
      // Asked once and then as often as a page would be (retries: 2), as the refused one was.
      expect(hits).toEqual(['/robots.txt', '/robots.txt', '/robots.txt']);
      expect(c.stats.robotsDisallowed).toBe(2);
      expect(c.stats.robotsUnavailable).toEqual({ [origin]: 'status 503', [refused]: expect.stringMatching(/^ERR_CONNECT /) });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('asks again for a robots.txt that failed once (503, Retry-After) and obeys the answer, instead of shutting the site out', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const asked: string[] = [];
    let robotsAsked = 0;
    const site = await httpServer((req, res) => {
      asked.push(req.url ?? '');
      if (req.url === '/robots.txt') {
        if (robotsAsked++ === 0) {
          res.writeHead(503, { 'Retry-After': '0' });
          res.end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('User-agent: *\nDisallow: /private\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<a href="/private">p</a><a href="/open">o</a>');
    });
    try {
      const c = crawl({ startUrls: [`${site.origin}/`], ...fast });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(asked).toEqual(['/robots.txt', '/robots.txt', '/', '/open']);
      expect(c.stats.robotsUnavailable).toEqual({});
      expect(c.stats.robotsDisallowed).toBe(1);
    } finally {
      await site.close();
    }
  });

  it('parses the first 512 KiB of a longer robots.txt (RFC 9309 §2.5), leaving out the rule the cut falls in', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const { MAX_ROBOTS_BYTES } = await import('../../src/crawl/robots.js');
    // The cut falls just after "Disallow: /" of a longer rule: read whole, that line would
    // disallow everything. A rule past the cut is not seen.
    let robots = 'User-agent: *\nDisallow: /private\n';
    while (robots.length < MAX_ROBOTS_BYTES - 200) robots += `# ${'padding '.repeat(8)}\n`;
    robots += `#${'p'.repeat(MAX_ROBOTS_BYTES - robots.length - 'Disallow: /'.length - 2)}\n`;
    robots += 'Disallow: /only-this-long-path\nDisallow: /late\n';
    expect(robots.indexOf('Disallow: /only')).toBe(MAX_ROBOTS_BYTES - 'Disallow: /'.length);
    const server = await httpServer((req, res) => {
      if (req.url === '/robots.txt') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(robots);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(req.url === '/' ? '<a href="/a">a</a><a href="/private/x">p</a><a href="/late">l</a>' : '<title>x</title>');
    });
    try {
      const c = crawl({ startUrls: [`${server.origin}/`], ...fast });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => new URL(r.url).pathname).sort()).toEqual(['/', '/a', '/late']);
      expect(c.stats.robotsDisallowed).toBe(1);
      expect(c.stats.robotsUnavailable).toEqual({});
    } finally {
      await server.close();
    }
  });

  it('reads the sitemaps robots.txt names, following an index, and crawls their pages as start URLs', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const { gzipSync } = await import('node:zlib');
    let origin = '';
    const urlset = (paths: string[]): string =>
      `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${paths.map((p) => `<url><loc>${p.startsWith('http') ? p : origin + p}</loc></url>`).join('')}</urlset>`;
    const server = await httpServer((req, res) => {
      const send = (type: string, body: string | Buffer): void => {
        res.writeHead(200, { 'Content-Type': type });
        res.end(body);
      };
      switch (req.url) {
        case '/robots.txt':
          return send('text/plain', `User-agent: *\nDisallow: /private\nSitemap: ${origin}/index.xml.gz\n`);
        case '/index.xml.gz':
          return send(
            'application/gzip',
            gzipSync(`<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${origin}/s1.xml</loc></sitemap><sitemap><loc>${origin}/s2.txt</loc></sitemap><sitemap><loc>${origin}/missing.xml</loc></sitemap><sitemap><loc>${origin}/private/s.xml</loc></sitemap></sitemapindex>`),
          );
        case '/s1.xml':
          return send('application/xml', urlset(['/deep/one', '/deep/two', '/private/secret', 'http://elsewhere.example/x', '/deep/one#again']));
        case '/s2.txt':
          return send('text/plain', `${origin}/deep/three\n`);
        case '/':
        case '/deep/one':
        case '/deep/two':
        case '/deep/three':
          return send('text/html', `<title>${req.url}</title><a href="/linked">linked</a>`);
        case '/linked':
          return send('text/html', '<title>linked</title>');
        default:
          res.writeHead(404);
          res.end();
      }
    });
    origin = server.origin;
    try {
      // Depth 0: the start page and the sitemaps' pages are fetched, the pages they link to not.
      const c = crawl({ startUrls: [`${origin}/`], ...fast, discoverSitemaps: true, maxDepth: 0 });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => new URL(r.url).pathname).sort()).toEqual(['/', '/deep/one', '/deep/three', '/deep/two']);
      expect(records.find((r) => r.url.endsWith('/deep/two'))!.referrer).toBe(`${origin}/s1.xml`);
      const fetched = server.seen.map((r) => r.url);
      expect(fetched).not.toContain('/private/secret');
      expect(fetched).not.toContain('/private/s.xml');
      expect(fetched).not.toContain('/linked');
      expect(fetched.filter((u) => u === '/deep/one')).toHaveLength(1);
      expect(c.stats.sitemapsRead).toBe(3);
      // New in scope: one, two, /private/secret (then disallowed by robots.txt), three; one
      // again (a fragment: the same page) is dropped by dedupe and not counted.
      expect(c.stats.sitemapUrls).toBe(4);
      expect(c.stats.robotsDisallowed).toBe(1);
      expect(c.stats.sitemapsFailed).toEqual({ [`${origin}/missing.xml`]: 'status 404', [`${origin}/private/s.xml`]: 'disallowed by robots.txt' });
    } finally {
      await server.close();
    }
  });

  it('follows a page\'s meta refresh as it follows a link', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const site = await httpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(req.url === '/' ? '<meta http-equiv="refresh" content="0; URL=\'/moved?x=1\'"><title>old</title>' : '<title>new</title>');
    });
    try {
      const records: PageRecord[] = [];
      for await (const r of crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true })) records.push(r);
      expect(records.map((r) => [new URL(r.url).pathname + new URL(r.url).search, r.title, r.referrer])).toEqual([
        ['/', 'old', null],
        ['/moved?x=1', 'new', `${site.origin}/`],
      ]);
    } finally {
      await site.close();
    }
  });

  it('start URL credentials are sent (Basic) to their origin only, and appear in no record', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const other = await httpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<title>other ${req.headers.authorization ?? 'none'}</title>`);
    });
    const expected = `Basic ${Buffer.from('me:s3cr3t@x', 'utf8').toString('base64')}`;
    const site = await httpServer((req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"', 'Content-Type': 'text/html' });
        res.end('<title>no</title>');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(req.url === '/' ? `<a href="/in">in</a><a href="${other.origin}/out">out</a>` : '<title>in</title>');
    });
    try {
      const start = `http://me:s3cr3t%40x@127.0.0.1:${site.port}/`;
      const c = crawl({ startUrls: [start], ...fast, ignoreRobots: true, allowHosts: ['127.0.0.1'] });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => [r.url, r.status, r.title]).sort()).toEqual(
        [
          [`${other.origin}/out`, 200, 'other none'],
          [`${site.origin}/`, 200, null],
          [`${site.origin}/in`, 200, 'in'],
        ].sort(),
      );
      expect(JSON.stringify(records)).not.toContain('s3cr3t');
      const bad = (() => {
        try {
          crawl({ startUrls: ['http://me:bad%zz@127.0.0.1:1/'] });
        } catch (err) {
          return err as Error;
        }
      })();
      expect(bad?.message).toBe('start URL http://127.0.0.1:1/: its user name or password holds a malformed %-escape');
    } finally {
      await site.close();
      await other.close();
    }
  });

  it('obeys noindex/nofollow addressed to it, not a "none" inside another directive nor an X-Robots-Tag for another bot', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const pages: Record<string, { head?: Record<string, string>; meta?: string }> = {
      '/mip': { meta: 'index, follow, max-image-preview:none, max-snippet:-1' },
      '/other': { head: { 'X-Robots-Tag': 'otherbot: noindex, nofollow' } },
      '/ours': { head: { 'X-Robots-Tag': 'rawcrawl: noindex, nofollow' } },
    };
    const site = await httpServer((req, res) => {
      const path = req.url ?? '/';
      const p = pages[path];
      res.writeHead(200, { 'Content-Type': 'text/html', ...(p?.head ?? {}) });
      if (path === '/') res.end(Object.keys(pages).map((k) => `<a href="${k}">x</a>`).join(''));
      else if (p) res.end(`${p.meta ? `<meta name="robots" content="${p.meta}">` : ''}<title>${path}</title><a href="/from${path}">next</a>`);
      else res.end(`<title>${path}</title>`);
    });
    try {
      const records: PageRecord[] = [];
      for await (const r of crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true })) records.push(r);
      expect(records.map((r) => new URL(r.url).pathname).sort()).toEqual(['/', '/from/mip', '/from/other', '/mip', '/other']);
    } finally {
      await site.close();
    }
  });

  it('a URL robots.txt disallows costs its host no --delay: the next allowed one starts a delay after the last request', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const starts: Array<[string, number]> = [];
    const site = await httpServer((req, res) => {
      const path = req.url ?? '/';
      if (path !== '/robots.txt') starts.push([path, Date.now()]);
      if (path === '/robots.txt') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('User-agent: *\nDisallow: /no/\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(path === '/' ? [...Array.from({ length: 6 }, (_, i) => `<a href="/no/${i}">n</a>`), '<a href="/yes">y</a>'].join('') : '<title>y</title>');
    });
    try {
      const c = crawl({ startUrls: [`${site.origin}/`], ...fast, delayMs: 250, concurrency: 1 });
      for await (const _ of c) void _;
      expect(starts.map(([p]) => p)).toEqual(['/', '/yes']);
      expect(c.stats.robotsDisallowed).toBe(6);
      const gap = starts[1]![1] - starts[0]![1];
      // Six disallowed URLs took a delay each before: 7 × 250 ms.
      expect(gap).toBeGreaterThanOrEqual(240);
      expect(gap).toBeLessThan(1000);
    } finally {
      await site.close();
    }
  });

  it('robots.txt is a request to its host: the first page starts --delay (or Crawl-delay) after it, not at once', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    for (const [robots, delayMs, gapAtLeast] of [
      // Lower bounds with room for a busy event loop (the server shares the crawl's); without the
      // rule the gap is a few ms.
      ['User-agent: *\nDisallow: /no/\n', 300, 250],
      ['User-agent: *\nCrawl-delay: 0.4\n', 0, 350],
    ] as const) {
      const starts: Array<[string, number]> = [];
      const site = await httpServer((req, res) => {
        const path = req.url ?? '/';
        starts.push([path, performance.now()]);
        res.writeHead(200, { 'Content-Type': path === '/robots.txt' ? 'text/plain' : 'text/html' });
        res.end(path === '/robots.txt' ? robots : path === '/' ? '<a href="/a">a</a>' : '<title>a</title>');
      });
      try {
        const c = crawl({ startUrls: [`${site.origin}/`], ...fast, delayMs, concurrency: 4, maxPages: 2 });
        const records: PageRecord[] = [];
        for await (const r of c) records.push(r);
        expect(starts.map(([p]) => p)).toEqual(['/robots.txt', '/', '/a']);
        // The page put back for its turn is fetched once and recorded once, as its first attempt.
        expect(records.map((r) => [new URL(r.url).pathname, r.attempts])).toEqual([['/', 1], ['/a', 1]]);
        expect(c.stats.fetched).toBe(2);
        for (let i = 1; i < starts.length; i++) expect(starts[i]![1] - starts[i - 1]![1]).toBeGreaterThanOrEqual(gapAtLeast);
      } finally {
        await site.close();
      }
    }
  });

  it('a page taken while robots.txt was on its way, before its Crawl-delay was known, waits that delay too', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const starts: Array<[string, number]> = [];
    // robots.txt answers after 300 ms, with a Crawl-delay of 0.5 s.
    const slow = await httpServer((req, res) => {
      starts.push([req.url ?? '/', performance.now()]);
      if (req.url === '/robots.txt') {
        setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('User-agent: *\nCrawl-delay: 0.5\n');
        }, 300);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<title>x</title>');
    });
    // Another host's page links to /c of the first while its robots.txt is on the way.
    const other = await httpServer((req, res) => {
      res.writeHead(req.url === '/robots.txt' ? 404 : 200, { 'Content-Type': 'text/html' });
      res.end(`<a href="${slow.origin}/c">c</a>`);
    });
    try {
      for await (const _ of crawl({ startUrls: [`${slow.origin}/a`, `${other.origin}/`], ...fast, perHost: 4, maxDepth: 1 })) void _;
      expect(starts.map(([p]) => p).sort()).toEqual(['/a', '/c', '/robots.txt']);
      for (let i = 1; i < starts.length; i++) expect(starts[i]![1] - starts[i - 1]![1], starts[i]![0]).toBeGreaterThanOrEqual(450);
    } finally {
      await slow.close();
      await other.close();
    }
  });

  it('a page put back for its host\'s turn after robots.txt is put back once: rules let go of meanwhile (a full cache) do not hold it for ever', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    // 100 hosts × 480 KB of robots.txt: more than the cache's 32 MiB, so origins are let go
    // while their pages wait out the delay, and read again when those pages come.
    const big = `User-agent: *\nDisallow: /no/\n${`# ${'x'.repeat(78)}\n`.repeat(6000)}`;
    let robots = 0;
    let pages = 0;
    const site = await httpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': req.url === '/robots.txt' ? 'text/plain' : 'text/html' });
      if (req.url === '/robots.txt') robots++;
      else pages++;
      res.end(req.url === '/robots.txt' ? big : '<title>x</title>');
    });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 20_000);
    try {
      const N = 100;
      const c = crawl({ startUrls: Array.from({ length: N }, (_, i) => `http://s${i}.localhost:${site.port}/`), ...fast, delayMs: 1000, signal: controller.signal });
      let records = 0;
      for await (const _ of c) records++;
      expect([pages, records]).toEqual([N, N]);
      expect(robots).toBeGreaterThanOrEqual(N);
      expect(robots).toBeLessThanOrEqual(2 * N);
    } finally {
      clearTimeout(timer);
      await site.close();
    }
  });

  it('with --sitemaps, the robots.txt read for its Sitemap lines counts for the host\'s --delay too', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    let origin = '';
    const starts: Array<[string, number]> = [];
    const site = await httpServer((req, res) => {
      const path = req.url ?? '/';
      starts.push([path, performance.now()]);
      if (path === '/robots.txt') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(`User-agent: *\nDisallow: /no/\nSitemap: ${origin}/map.txt\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': path === '/map.txt' ? 'text/plain' : 'text/html' });
      res.end(path === '/map.txt' ? `${origin}/s\n` : '<title>x</title>');
    });
    origin = site.origin;
    try {
      const c = crawl({ startUrls: [`${origin}/`], ...fast, discoverSitemaps: true, delayMs: 250, perHost: 1, concurrency: 4 });
      for await (const _ of c) void _;
      expect(starts.map(([p]) => p).sort()).toEqual(['/', '/map.txt', '/robots.txt', '/s']);
      expect(starts[0]![0]).toBe('/robots.txt');
      for (let i = 1; i < starts.length; i++) expect(starts[i]![1] - starts[i - 1]![1]).toBeGreaterThanOrEqual(200);
    } finally {
      await site.close();
    }
    // From a sitemap alone: its host is met first by the sitemap's robots.txt check, before any
    // slot of it is taken, and the sitemap still waits the delay after that robots.txt.
    const alone: Array<[string, number]> = [];
    let at = '';
    const site2 = await httpServer((req, res) => {
      const path = req.url ?? '/';
      alone.push([path, performance.now()]);
      res.writeHead(200, { 'Content-Type': path === '/robots.txt' || path === '/map.txt' ? 'text/plain' : 'text/html' });
      res.end(path === '/robots.txt' ? 'User-agent: *\nDisallow: /no/\n' : path === '/map.txt' ? `${at}/s\n` : '<title>x</title>');
    });
    at = site2.origin;
    try {
      for await (const _ of crawl({ startUrls: [], sitemaps: [`${at}/map.txt`], ...fast, delayMs: 300 })) void _;
      expect(alone.map(([p]) => p)).toEqual(['/robots.txt', '/map.txt', '/s']);
      for (let i = 1; i < alone.length; i++) expect(alone[i]![1] - alone[i - 1]![1]).toBeGreaterThanOrEqual(250);
    } finally {
      await site2.close();
    }
  });

  it('crawls from sitemaps alone (no start URL): their hosts are the scope', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const other = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<title>elsewhere</title>');
    });
    let origin = '';
    const site = await httpServer((req, res) => {
      if (req.url === '/sitemap.txt') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(`${origin}/a\n${origin}/b\nhttp://localhost:${other.port}/out\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<title>${req.url}</title><a href="/c">c</a>`);
    });
    origin = site.origin;
    try {
      const c = crawl({ startUrls: [], sitemaps: [`${origin}/sitemap.txt`], ...fast, ignoreRobots: true });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => new URL(r.url).pathname).sort()).toEqual(['/a', '/b', '/c']);
      expect(c.stats.sitemapsRead).toBe(1);
      expect(c.stats.sitemapUrls).toBe(2);
      // With room for one URL, the sitemap queues one; the other is counted as turned away, not as queued.
      const tight = crawl({ startUrls: [], sitemaps: [`${origin}/sitemap.txt`], ...fast, ignoreRobots: true, maxQueue: 1, maxPages: 1 });
      for await (const _ of tight) void _;
      expect([tight.stats.sitemapUrls, tight.stats.queueFull]).toEqual([1, 1]);
      // --allow-host given as host:port or as a URL is taken for its host name (scope is by name).
      for (const allow of [`localhost:${other.port}`, `http://LOCALHOST:${other.port}/`]) {
        const wider: PageRecord[] = [];
        for await (const r of crawl({ startUrls: [], sitemaps: [`${origin}/sitemap.txt`], ...fast, ignoreRobots: true, allowHosts: [allow] })) wider.push(r);
        expect(wider.map((r) => new URL(r.url).pathname).sort(), allow).toEqual(['/a', '/b', '/c', '/out']);
      }
      expect(() => crawl({ startUrls: [] })).toThrow('no start URL or sitemap given');
      expect(() => crawl({ startUrls: [`${origin}/`], allowHosts: ['a b'] })).toThrow('allowHosts (--allow-host) takes a host name or *.domain, not "a b"');
    } finally {
      await site.close();
      await other.close();
    }
  });

  it('asks for robots.txt with the start URL\'s credentials, and obeys what it says', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const expected = `Basic ${Buffer.from('me:pw', 'utf8').toString('base64')}`;
    const asked: string[] = [];
    const site = await httpServer((req, res) => {
      asked.push(`${req.url} ${req.headers.authorization === expected ? 'auth' : 'none'}`);
      if (req.headers.authorization !== expected) {
        // Without the credentials robots.txt is a 401, which RFC 9309 reads as "allow all".
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"' });
        res.end();
        return;
      }
      if (req.url === '/robots.txt') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('User-agent: *\nDisallow: /private\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(req.url === '/' ? '<a href="/in">in</a><a href="/private">private</a>' : '<title>in</title>');
    });
    try {
      const c = crawl({ startUrls: [`http://me:pw@127.0.0.1:${site.port}/`], ...fast });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => [new URL(r.url).pathname, r.status]).sort()).toEqual([
        ['/', 200],
        ['/in', 200],
      ]);
      expect(asked.sort()).toEqual(['/ auth', '/in auth', '/robots.txt auth']);
      expect(c.stats.robotsDisallowed).toBe(1);
      expect(c.stats.robotsUnavailable).toEqual({});
    } finally {
      await site.close();
    }
  });

  it('fetches sitemaps within the host\'s --per-host slots and delay, never beside a page', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    let origin = '';
    let open = 0;
    let most = 0;
    const starts: Array<{ url: string; at: number }> = [];
    const server = await httpServer((req, res) => {
      open++;
      most = Math.max(most, open);
      starts.push({ url: req.url ?? '', at: performance.now() });
      // Held a while: a sitemap fetched beside a page would overlap it.
      setTimeout(() => {
        open--;
        const sitemap = req.url === '/s.txt';
        res.writeHead(200, { 'Content-Type': sitemap ? 'text/plain' : 'text/html' });
        res.end(sitemap ? `${origin}/c\n${origin}/d\n` : req.url === '/' ? '<a href="/a">a</a><a href="/b">b</a>' : '<title>p</title>');
      }, 40);
    });
    origin = server.origin;
    try {
      const c = crawl({ startUrls: [`${origin}/`], ...fast, ignoreRobots: true, sitemaps: [`${origin}/s.txt`], perHost: 1, delayMs: 150 });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => new URL(r.url).pathname).sort()).toEqual(['/', '/a', '/b', '/c', '/d']);
      expect(starts.map((s) => s.url)).toContain('/s.txt');
      expect(starts).toHaveLength(6);
      expect(most).toBe(1);
      // Starts the delay apart, less a little: the frontier counts whole milliseconds, and this
      // server sees a request when the event loop it shares with the crawl gets to it.
      const gaps = starts.slice(1).map((s, i) => s.at - starts[i]!.at);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(140);
    } finally {
      await server.close();
    }
  });

  it('reads an index of 150,000 sitemaps up to the limit, counting the rest, without failing', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const named = 150_000;
    const index = `<sitemapindex>${Array.from({ length: named }, (_, i) => `<sitemap><loc>/s/${i}</loc></sitemap>`).join('')}</sitemapindex>`;
    const server = await httpServer((req, res) => {
      const sitemap = req.url!.startsWith('/s/');
      res.writeHead(200, { 'Content-Type': req.url === '/index.xml' ? 'application/xml' : sitemap ? 'text/plain' : 'text/html' });
      res.end(req.url === '/index.xml' ? index : sitemap ? `${server.origin}/p${req.url}\n` : '<title>p</title>');
    });
    try {
      const c = crawl({ startUrls: [], sitemaps: [`${server.origin}/index.xml`], ...fast, ignoreRobots: true, maxPages: 3 });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records).toHaveLength(3);
      // The index is one of the 1,000 sitemaps a crawl reads at most; the rest are counted, not kept.
      expect(c.stats.sitemapsOverLimit).toBe(named - 999);
      expect(c.stats.sitemapsFailed).toEqual({});
    } finally {
      await server.close();
    }
  });

  it('reads the other hosts\' sitemaps while one host\'s delay holds its own back', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    // Crawl-delay: an hour, counted from the robots.txt request: the slow host's sitemaps wait.
    const slow = await httpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(req.url === '/robots.txt' ? 'User-agent: *\nCrawl-delay: 3600\n' : `${slow.origin}/p\n`);
    });
    const other = await httpServer((req, res) => {
      res.writeHead(req.url === '/robots.txt' ? 404 : 200, { 'Content-Type': req.url === '/s.txt' ? 'text/plain' : 'text/html' });
      res.end(req.url === '/s.txt' ? `${other.origin}/p\n` : '<title>p</title>');
    });
    try {
      const c = crawl({ startUrls: [], sitemaps: [`${slow.origin}/a.txt`, `${slow.origin}/b.txt`, `${other.origin}/s.txt`], ...fast, maxPages: 1, signal: AbortSignal.timeout(5000) });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => r.url)).toEqual([`${other.origin}/p`]);
      expect(slow.seen.map((r) => r.url)).toEqual(['/robots.txt']);
    } finally {
      await slow.close();
      await other.close();
    }
  });

  it('reads a sitemap redirect\'s raw UTF-8 Location as UTF-8, as a page redirect\'s', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const server = await httpServer((req, res) => {
      // node:http sends a header value's characters as bytes: these are the UTF-8 bytes of é.
      if (req.url === '/old.xml') res.writeHead(301, { Location: Buffer.from('/café.txt').toString('latin1') });
      else res.writeHead(req.url === '/caf%C3%A9.txt' ? 200 : 404, { 'Content-Type': req.url === '/caf%C3%A9.txt' ? 'text/plain' : 'text/html' });
      res.end(req.url === '/caf%C3%A9.txt' ? `${server.origin}/p\n` : '<title>p</title>');
    });
    try {
      const c = crawl({ startUrls: [], sitemaps: [`${server.origin}/old.xml`], ...fast, ignoreRobots: true });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => r.url)).toEqual([`${server.origin}/p`]);
      expect(c.stats.sitemapsRead).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('follows a sitemap\'s redirects, as a sitemap of its own, and ends a redirect loop', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const moved: Record<string, string> = { '/old.xml': '/mid.xml', '/mid.xml': '/s.txt', '/loop.xml': '/loop.xml' };
    const server = await httpServer((req, res) => {
      const to = moved[req.url!];
      if (to) res.writeHead(req.url === '/mid.xml' ? 302 : 301, { Location: to });
      else res.writeHead(200, { 'Content-Type': req.url === '/s.txt' ? 'text/plain' : 'text/html' });
      res.end(req.url === '/s.txt' ? `${server.origin}/p\n` : to ? '' : '<title>p</title>');
    });
    try {
      const c = crawl({ startUrls: [], sitemaps: [`${server.origin}/old.xml`, `${server.origin}/loop.xml`], ...fast, ignoreRobots: true });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => r.url)).toEqual([`${server.origin}/p`]);
      expect(c.stats.sitemapsRead).toBe(1);
      expect(c.stats.sitemapsFailed).toEqual({ [`${server.origin}/loop.xml`]: `status 301 to ${server.origin}/loop.xml, a sitemap already read` });
      expect(server.seen.filter((r) => r.url === '/loop.xml')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('reads no sitemap an index or a redirect names on a host out of scope', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    // "localhost" is another host name than 127.0.0.1, so out of scope, though the same server.
    const server = await httpServer((req, res) => {
      const elsewhere = `http://localhost:${server.port}`;
      if (req.url === '/index.xml') {
        res.writeHead(200, { 'Content-Type': 'application/xml' });
        res.end(`<sitemapindex><sitemap><loc>${elsewhere}/a.txt</loc></sitemap><sitemap><loc>/b.txt</loc></sitemap></sitemapindex>`);
      } else if (req.url === '/moved.xml') {
        res.writeHead(301, { Location: `${elsewhere}/c.txt` });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': req.url!.endsWith('.txt') ? 'text/plain' : 'text/html' });
        res.end(req.url!.endsWith('.txt') ? `${server.origin}/p${req.url}\n` : '<title>p</title>');
      }
    });
    try {
      const c = crawl({ startUrls: [], sitemaps: [`${server.origin}/index.xml`, `${server.origin}/moved.xml`], ...fast, ignoreRobots: true });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(server.seen.map((r) => r.url).sort()).toEqual(['/b.txt', '/index.xml', '/moved.xml', '/p/b.txt']);
      const elsewhere = `http://localhost:${server.port}`;
      expect(c.stats.sitemapsFailed).toEqual({ [`${elsewhere}/a.txt`]: 'on a host out of scope', [`${elsewhere}/c.txt`]: 'on a host out of scope' });
    } finally {
      await server.close();
    }
  });

  it('stops reading sitemaps once maxPages is spent', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    let origin = '';
    const server = await httpServer((req, res) => {
      const m = /^\/s(\d+)\.txt$/.exec(req.url ?? '');
      res.writeHead(200, { 'Content-Type': m ? 'text/plain' : 'text/html' });
      // Sitemap N lists pages N*10 … N*10+9.
      res.end(m ? Array.from({ length: 10 }, (_, i) => `${origin}/p${Number(m[1]) * 10 + i}`).join('\n') : '<title>p</title>');
    });
    origin = server.origin;
    try {
      const sitemaps = Array.from({ length: 50 }, (_, i) => `${origin}/s${i}.txt`);
      const c = crawl({ startUrls: [`${origin}/`], ...fast, ignoreRobots: true, sitemaps, maxPages: 15 });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records).toHaveLength(15);
      expect(server.seen.filter((r) => r.url.endsWith('.txt')).length).toBeLessThan(10);
    } finally {
      await server.close();
    }
  });

  it('follows no link or redirect longer than maxUrlLength, and counts them; a longer start URL is an error', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const long = `/long?${'q'.repeat(200)}`;
    const server = await httpServer((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(`<a href="${long}">long</a><a href="/moved">moved</a><a href="/ok">ok</a>`);
      } else if (req.url === '/moved') {
        res.writeHead(301, { Location: `${long}&moved` });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<title>ok</title>');
      }
    });
    try {
      const c = crawl({ startUrls: [`${server.origin}/`], ...fast, ignoreRobots: true, maxUrlLength: 200 });
      const got: PageRecord[] = [];
      for await (const r of c) got.push(r);
      expect(server.seen.map((r) => r.url).sort()).toEqual(['/', '/moved', '/ok']);
      expect(c.stats.urlsTooLong).toBe(2);
      // The redirect's record still names where it pointed.
      expect(got.find((r) => r.url.endsWith('/moved'))!.final_url).toBe(`${server.origin}${long}&moved`);
      expect(() => crawl({ startUrls: [`${server.origin}${long}`], maxUrlLength: 200 })).toThrow(`is ${server.origin.length + long.length} characters long, more than maxUrlLength (200)`);
      expect(() => crawl({ startUrls: [`${server.origin}/`], maxUrlLength: 65_536 })).toThrow(/maxUrlLength must be at most 65535/);
    } finally {
      await server.close();
    }
  });

  it('keeps `concurrency` pages in flight from a single start URL (every worker stays for the links to come)', async () => {
    const { heldPagesSite } = await import('../helpers/http-server.js');
    // Each page is held 150 ms: pages fetched one after another would never overlap.
    const server = await heldPagesSite(24, 150);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const t0 = performance.now();
      const got = await collectAll({ startUrls: [`${server.origin}/`], ...fast, ignoreRobots: true, concurrency: 12, perHost: 12 });
      const ms = performance.now() - t0;
      expect(got).toHaveLength(25);
      expect(server.most()).toBe(12);
      // The start page, then 24 links twelve at a time: three rounds of 150 ms, not 25.
      expect(ms).toBeLessThan(25 * 150);
      // Twelve requests listen on the crawl's one abort signal at once: no listener warning.
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      await server.close();
    }
  });

  it('maxPages counts fetched pages under concurrency: robots-disallowed ones give their place back, a retry at the limit still runs', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    let flaky = 0;
    const server = await httpServer((req, res) => {
      if (req.url === '/robots.txt') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('User-agent: *\nDisallow: /d/\n');
      } else if (req.url === '/flaky' && flaky++ === 0) {
        res.writeHead(503, { 'Retry-After': '0' });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        const links = req.url === '/' ? ['/d/0', '/d/1', '/d/2', '/d/3', '/d/4', '/flaky', ...Array.from({ length: 10 }, (_, i) => `/p/${i}`)] : [];
        setTimeout(() => res.end(links.map((l) => `<a href="${l}">x</a>`).join('')), 30);
      }
    });
    try {
      const c = crawl({ startUrls: [`${server.origin}/`], ...fast, concurrency: 8, perHost: 8, maxPages: 4 });
      const got: PageRecord[] = [];
      for await (const r of c) got.push(r);
      const pages = server.seen.map((r) => r.url).filter((u) => u !== '/robots.txt');
      // Four pages, each once, the flaky one twice (its retry came at the limit); no /d/ page.
      expect(new Set(pages).size).toBe(4);
      expect(pages.filter((u) => u === '/flaky')).toHaveLength(2);
      expect(pages.some((u) => u.startsWith('/d/'))).toBe(false);
      expect(got.map((r) => new URL(r.url).pathname).sort()).toEqual([...new Set(pages)].sort());
      expect(got.find((r) => r.url.endsWith('/flaky'))).toMatchObject({ status: 200, attempts: 2 });
    } finally {
      await server.close();
    }
  });

  it('follows at most maxRedirects redirects in a row (a trap that redirects each URL to a new one ends)', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    // /r/N redirects to /r/N+1 for ever; /ok is linked from the start page and redirects once.
    const server = await httpServer((req, res) => {
      const m = /^\/r\/(\d+)$/.exec(req.url ?? '');
      if (m) {
        res.writeHead(302, { Location: `/r/${Number(m[1]) + 1}` });
        res.end();
      } else if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<a href="/r/0">trap</a><a href="/once">once</a>');
      } else if (req.url === '/once') {
        res.writeHead(301, { Location: '/landed' });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<title>landed</title>');
      }
    });
    try {
      const c = crawl({ startUrls: [`${server.origin}/`], ...fast, ignoreRobots: true, maxRedirects: 3 });
      const got: PageRecord[] = [];
      for await (const r of c) got.push(r);
      // /r/0 is a link (no redirect before it); /r/1, /r/2 and /r/3 are the three redirects
      // followed; /r/3's own redirect to /r/4 is recorded, not followed.
      expect(server.seen.map((r) => r.url).sort()).toEqual(['/', '/landed', '/once', '/r/0', '/r/1', '/r/2', '/r/3']);
      expect(c.stats.redirectsTooMany).toBe(1);
      expect(got.find((r) => r.url.endsWith('/r/3'))).toMatchObject({ status: 302, final_url: `${server.origin}/r/4` });
      // With the default (10), a real redirect and the trap's first ten are followed.
      server.seen.length = 0;
      const d = crawl({ startUrls: [`${server.origin}/`], ...fast, ignoreRobots: true });
      for await (const _ of d) void _;
      expect(server.seen.filter((r) => r.url.startsWith('/r/'))).toHaveLength(11);
      expect(d.stats.redirectsTooMany).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('sends the caller\'s headers and User-Agent, once each, with every request, robots.txt included', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const server = await httpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': req.url === '/robots.txt' ? 'text/plain' : 'text/html' });
      res.end(req.url === '/' ? '<a href="/b">b</a>' : req.url === '/robots.txt' ? 'User-agent: otherbot\nDisallow: /\n' : '<title>b</title>');
    });
    try {
      const got = await collectAll({ startUrls: [`${server.origin}/`], ...fast, userAgent: 'mybot/2 (+https://example.org/bot)', headers: [['Accept-Language', 'de'], ['Cookie', 's=1']] });
      expect(got.map((r) => new URL(r.url).pathname).sort()).toEqual(['/', '/b']);
      expect(server.seen.map((r) => r.url)).toEqual(['/robots.txt', '/', '/b']);
      for (const r of server.seen) {
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < r.rawHeaders.length; i += 2) pairs.push([r.rawHeaders[i]!.toLowerCase(), r.rawHeaders[i + 1]!]);
        expect(pairs.filter(([n]) => n === 'user-agent' || n === 'accept-language' || n === 'cookie'), r.url).toEqual([
          ['user-agent', 'mybot/2 (+https://example.org/bot)'],
          ['accept-language', 'de'],
          ['cookie', 's=1'],
        ]);
      }
    } finally {
      await server.close();
    }
  });

  it('keeps the cookies a site sets and sends them back (RFC 6265: path, domain, no other site\'s); cookies: false sends none', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const server = await httpServer((req, res) => {
      const cookie = req.headers.cookie ?? '';
      if (req.url === '/') {
        res.setHeader('Set-Cookie', ['sid=abc; Path=/; HttpOnly', 'area=x; Path=/members', 'evil=1; Domain=other.example', 'super=1; Domain=com']);
        res.setHeader('Content-Type', 'text/html');
        res.end('<a href="/members/page">m</a> <a href="/public">p</a>');
      } else if (req.url === '/members/page') {
        res.writeHead(cookie.includes('sid=abc') ? 200 : 403, { 'Content-Type': 'text/html' });
        res.end('<title>members</title>');
      } else {
        res.writeHead(req.url === '/robots.txt' ? 404 : 200, { 'Content-Type': 'text/html' });
        res.end('<title>public</title>');
      }
    });
    try {
      const cookieOf = (path: string): string | undefined => {
        const r = server.seen.filter((x) => x.url === path).at(-1)!;
        const i = r.rawHeaders.findIndex((h, k) => k % 2 === 0 && h.toLowerCase() === 'cookie');
        return i === -1 ? undefined : r.rawHeaders[i + 1];
      };
      const got = await collectAll({ startUrls: [`${server.origin}/`], ...fast, headers: { Cookie: 'mine=1' } });
      expect(Object.fromEntries(got.map((r) => [new URL(r.url).pathname, r.status]))).toEqual({ '/': 200, '/members/page': 200, '/public': 200 });
      expect(cookieOf('/')).toBe('mine=1');
      // Path=/members goes to /members/page only; the other domains' cookies were refused.
      // Longer paths first (RFC 6265 §5.4).
      expect(cookieOf('/members/page')).toBe('mine=1; area=x; sid=abc');
      expect(cookieOf('/public')).toBe('mine=1; sid=abc');
      expect(server.seen.find((x) => x.url === '/robots.txt')).toBeDefined();

      // A null Cookie sends no Cookie field: not "null; sid=abc".
      server.seen.length = 0;
      await collectAll({ startUrls: [`${server.origin}/`], ...fast, headers: { Cookie: null } });
      expect(server.seen.length).toBeGreaterThan(1);
      for (const path of ['/', '/members/page', '/public']) expect(cookieOf(path), path).toBeUndefined();

      server.seen.length = 0;
      const without = await collectAll({ startUrls: [`${server.origin}/`], ...fast, cookies: false });
      expect(Object.fromEntries(without.map((r) => [new URL(r.url).pathname, r.status]))).toEqual({ '/': 200, '/members/page': 403, '/public': 200 });
      expect(cookieOf('/members/page')).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('lets go of the caller\'s signal when it ends; one loop reads a crawl, a second is refused; queued is what is left', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const site = await httpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      const n = Number((req.url ?? '/').slice(1)) || 0;
      res.end(`<title>${n}</title>${Array.from({ length: 5 }, (_, i) => `<a href="/${n * 5 + i + 1}">x</a>`).join('')}`);
    });
    try {
      const controller = new AbortController();
      for (let i = 0; i < 12; i++) {
        const c = crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true, maxPages: 3, signal: controller.signal });
        let n = 0;
        for await (const _ of c) n++;
        expect(n).toBe(3);
        // Stopped at maxPages: nothing is left that anyone will fetch.
        expect(c.stats.queued).toBe(0);
        expect(c.stats.inFlight).toBe(0);
      }
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

      const c = crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true, maxPages: 20 });
      const first = (async () => {
        let n = 0;
        for await (const _ of c) n++;
        return n;
      })();
      const second = (async () => {
        for await (const _ of c) void _;
      })();
      await expect(second).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/already being read by another loop/) }));
      expect(await first).toBe(20);
    } finally {
      await site.close();
    }
  });

  it('a redirect it does not follow (ftp:, javascript:) still records where it pointed as final_url', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const site = await httpServer((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<a href="/to-ftp">f</a><a href="/to-js">j</a>');
        return;
      }
      res.writeHead(302, { Location: req.url === '/to-ftp' ? 'ftp://user:pw@files.example/x' : 'javascript:alert(1)' });
      res.end();
    });
    try {
      const records: PageRecord[] = [];
      for await (const r of crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true })) records.push(r);
      const byPath = Object.fromEntries(records.map((r) => [new URL(r.url).pathname, r.final_url]));
      expect(byPath).toEqual({ '/': `${site.origin}/`, '/to-ftp': 'ftp://files.example/x', '/to-js': 'javascript:alert(1)' });
    } finally {
      await site.close();
    }
  });

  it('reads a Location sent as raw UTF-8 as UTF-8, as browsers and the client\'s own redirects do', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const site = await httpServer((req, res) => {
      // Node writes a header value as Latin-1, one byte per character: these are é's UTF-8 bytes.
      if (req.url === '/') res.writeHead(301, { Location: Buffer.from('/café', 'utf8').toString('latin1') });
      else res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end();
    });
    try {
      const records: PageRecord[] = [];
      for await (const r of crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true })) records.push(r);
      expect(records.find((r) => r.status === 301)!.final_url).toBe(`${site.origin}/caf%C3%A9`);
      expect(site.seen.map((s) => s.url)).toEqual(['/', '/caf%C3%A9']);
    } finally {
      await site.close();
    }
  });

  it('by default one slow host holds at most half the workers: the other host\'s pages go on meanwhile', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    // slow's pages answer only once good's chain has ended (or after 10 s): with every worker
    // held by slow, good's chain would not end before that.
    let goodDone: () => void = () => {};
    const goodEnded = new Promise<void>((resolve) => {
      goodDone = resolve;
      setTimeout(resolve, 10_000).unref();
    });
    const slow = await httpServer((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(Array.from({ length: 20 }, (_, i) => `<a href="/s${i}">s</a>`).join(''));
        return;
      }
      void goodEnded.then(() => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<title>slow</title>');
      });
    });
    const good = await httpServer((req, res) => {
      const n = Number((req.url ?? '/').slice(1)) || 0;
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(n < 30 ? `<a href="/${n + 1}">next</a>` : '<title>end</title>');
      if (n === 30) goodDone();
    });
    try {
      const order: string[] = [];
      // good's pages form a chain: 31 requests one after another, each needing a free worker.
      for await (const r of crawl({ startUrls: [`${slow.origin}/`, `${good.origin}/`], ...fast, ignoreRobots: true })) order.push(r.url.startsWith(good.origin) ? 'good' : r.url === `${slow.origin}/` ? 'hub' : 'slow');
      expect(order.filter((o) => o === 'good')).toHaveLength(31);
      expect(order.filter((o) => o === 'slow')).toHaveLength(20);
      // All of good's chain came in before the first slow page was done.
      expect(order.indexOf('slow')).toBeGreaterThan(order.lastIndexOf('good'));
    } finally {
      await slow.close();
      await good.close();
    }
  });

  it('idleTimeoutMs ends a page whose server goes quiet, with the idle limit in its record', async () => {
    const net = await import('node:net');
    const server = net.createServer((socket) => {
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n<title>'));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    try {
      const c = crawl({ startUrls: [`http://127.0.0.1:${port}/`], ...fast, ignoreRobots: true, retries: 0, idleTimeoutMs: 150, timeoutMs: 20_000 });
      const records: PageRecord[] = [];
      for await (const r of c) records.push(r);
      expect(records.map((r) => [r.error, r.error_message])).toEqual([['ERR_TIMEOUT', 'no byte received or sent for 150 ms']]);
    } finally {
      server.close();
    }
  });

  it('maxQueue bounds the in-memory queue: links found while it is full are counted, not marked seen, and queued when found again', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const site = await httpServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      // The root links /1 to /20; /5 links /6 again (dropped the first time).
      res.end(req.url === '/' ? Array.from({ length: 20 }, (_, i) => `<a href="/${i + 1}">x</a>`).join('') : req.url === '/5' ? '<a href="/6">again</a>' : '<title>leaf</title>');
    });
    try {
      const c = crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true, concurrency: 1, maxQueue: 5 });
      const paths: string[] = [];
      for await (const r of c) paths.push(new URL(r.url).pathname);
      expect(paths.sort()).toEqual(['/', '/1', '/2', '/3', '/4', '/5', '/6']);
      expect(c.stats.queueFull).toBe(15);
    } finally {
      await site.close();
    }
    expect(() => crawl({ startUrls: ['http://x/'], maxQueue: 0 })).toThrow(/maxQueue must be an integer >= 1, got 0/);
  });

  it('skipBinary follows no link to an image, archive, PDF, … (by extension, as Scrapy); without it all are fetched', async () => {
    const { httpServer } = await import('../helpers/http-server.js');
    const hits: string[] = [];
    const site = await httpServer((req, res) => {
      hits.push(req.url ?? '/');
      res.writeHead(200, { 'Content-Type': req.url === '/' ? 'text/html' : 'application/octet-stream' });
      res.end(req.url === '/' ? ['/a.pdf', '/b.JPG', '/c.html', '/d', '/e.tar.gz', '/dir.png/f', '/g.css?v=2', '/h.php?file=x.zip'].map((h) => `<a href="${h}">x</a>`).join('') : 'x');
    });
    try {
      for await (const _ of crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true, skipBinary: true })) void _;
      expect(hits.sort()).toEqual(['/', '/c.html', '/d', '/dir.png/f', '/h.php?file=x.zip']);
      hits.length = 0;
      for await (const _ of crawl({ startUrls: [`${site.origin}/`], ...fast, ignoreRobots: true })) void _;
      expect(hits).toHaveLength(9);
    } finally {
      await site.close();
    }
  });

  it('rejects bad options with a clear error', () => {
    expect(() => crawl({ startUrls: ['ftp://x/'] })).toThrow(/start URL "ftp:\/\/x\/" is not an http\(s\) URL/);
    expect(() => crawl({ startUrls: [] })).toThrow(/no start URL/);
    expect(() => crawl({ startUrls: ['http://x/'], concurrency: 0 })).toThrow(/concurrency must be an integer >= 1/);
    // From plain JavaScript: options of the wrong kind fail here, not as a failed page (or a
    // robots.txt "unavailable") each.
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ timeoutMs: '5' }, /^timeoutMs must be a number >= 1, got "5"$/],
      [{ maxPages: '5' }, /^maxPages must be an integer >= 0, got "5"$/],
      [{ concurrency: 2.5 }, /^concurrency must be an integer >= 1, got 2.5$/],
      [{ userAgent: 5 }, /^userAgent must be a string/],
      [{ tls: 'yes' }, /^tls must be an object/],
      [{ onWire: {} }, /^onWire must be a function/],
      [{ signal: {} }, /^signal must be an AbortSignal/],
      [{ selects: 'h1' }, /^selects must be an array of \[name, CSS\] pairs, got "h1"$/],
      [{ selectAll: [['x']] }, /^selectAll must be an array of \[name, CSS\] pairs/],
      [{ include: 'a(' }, /^include must be an array of RegExp, got "a\("$/],
      [{ exclude: 5 }, /^exclude must be an array of RegExp, got number$/],
      [{ storeOnly: ['x'] }, /^storeOnly must be an array of RegExp/],
      [{ allowHosts: 'x' }, /^allowHosts must be an array of strings/],
      [{ skipBinary: 'yes' }, /^skipBinary must be a boolean, got "yes"$/],
      [{ storeBody: 'no' }, /^storeBody must be a boolean/],
      [{ ignoreRobots: 1 }, /^ignoreRobots must be a boolean/],
      [{ cookies: 'no' }, /^cookies must be a boolean/],
      [{ discoverSitemaps: 'yes' }, /^discoverSitemaps must be a boolean/],
    ];
    for (const [options, message] of bad) {
      expect(() => crawl({ startUrls: ['http://x/'], ...options } as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(message) }));
    }
    expect(() => crawl({ startUrls: 'http://x/' } as never)).toThrow(/^startUrls must be an array of URLs, got "http:\/\/x\/"$/);
    expect(() => crawl({ startUrls: ['http://x/'], maxPages: Infinity, maxDepth: Infinity })).not.toThrow();
    // request() refuses a time limit of 0: one error now, not a failed page each.
    expect(() => crawl({ startUrls: ['http://x/'], timeoutMs: 0 })).toThrow(/timeoutMs must be a number >= 1, got 0/);
    expect(() => crawl({ startUrls: ['http://x/'], idleTimeoutMs: -1 })).toThrow(/idleTimeoutMs must be a number >= 0, got -1/);
    // Headers are checked once, at the start, not by every request.
    expect(() => crawl({ startUrls: ['http://x/'], headers: { 'X-A': 'a\r\nX-Injected: 1' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_HEADER' }));
    expect(() => crawl({ startUrls: ['http://x/'], headers: [['Bad Name', 'v']] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_HEADER' }));
    expect(() => crawl({ startUrls: ['http://x/'], headers: { host: 'a.example' } })).toThrow(/cannot send one Host header/);
    expect(() => crawl({ startUrls: ['http://x/'], headers: { 'user-agent': 'x' } })).toThrow(/as userAgent/);
  });
});

function records(list: PageRecord[]): number {
  return list.length;
}

describe('parser threads', () => {
  it('default to inline on two cores or fewer, else one per spare core up to 8', () => {
    expect([1, 2, 3, 4, 8, 16].map(defaultParseThreads)).toEqual([0, 0, 2, 3, 7, 8]);
  });
});
