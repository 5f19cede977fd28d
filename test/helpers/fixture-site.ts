import http from 'node:http';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface FixtureSite {
  origin: string;
  port: number;
  /** Requests per path (query included), in the order first seen. */
  hits: Map<string, number>;
  /** Request start times per path, ms (performance-ish clock: Date.now()). */
  times: Array<{ path: string; at: number }>;
  /** Paths whose response was sent completely. */
  completed: string[];
  close(): Promise<void>;
}

const GBK_TITLE = Buffer.from([0xd6, 0xd0, 0xce, 0xc4, 0xb1, 0xea, 0xcc, 0xe2]); // 中文标题 in GBK

function html(title: string, links: string[], extraHead = ''): string {
  return `<!doctype html><html><head><title>${title}</title>${extraHead}</head><body><h1 class="h">${title}</h1>${links
    .map((l) => `<a href="${l}">${l}</a>`)
    .join('\n')}</body></html>`;
}

/**
 * The crawler's fixture: a site with a known link graph. Cycles, one link in many spellings,
 * redirects, a 404, a 503-then-200, a reset-then-200, a slow page, robots.txt rules, external
 * links, <base href>, a GBK page, chunked, Content-Length and gzip responses, meta robots.
 */
export async function fixtureSite(options: { robots?: string; slowMs?: number } = {}): Promise<FixtureSite> {
  const hits = new Map<string, number>();
  const times: FixtureSite['times'] = [];
  const completed: string[] = [];
  let origin = '';
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    times.push({ path, at: Date.now() });
    res.on('finish', () => completed.push(path));
    const page = (title: string, links: string[], head = ''): void => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.end(html(title, links, head));
    };
    const upper = origin.replace('localhost', 'LOCALHOST').replace('http:', 'HTTP:');
    switch (path) {
      case '/robots.txt':
        res.setHeader('Content-Type', 'text/plain');
        res.end(options.robots ?? 'User-agent: *\nDisallow: /private\n');
        return;
      case '/':
        return page('Home', [
          '/a', './b', '/c/../a', '/a#section', `${upper}/b`, '/%61', // the same two pages, six ways
          '/private/secret', 'http://external.invalid/x', 'mailto:x@example.com', 'javascript:void(0)', 'tel:+100',
          '/redirect', '/redirect-to-a', '/missing', '/flaky', '/reset', '/slow', '/gbk', '/chunked', '/gzip',
          '/based', '/nofollow', '/noindex', '/image.png', '/sql', '/article/details/42',
        ]);
      case '/a':
        return page('Page A', ['/', '/b', '/a']);
      case '/b':
        return page('Page B', ['/a', '../']);
      case '/redirect':
        res.writeHead(301, { Location: '/target' });
        res.end();
        return;
      case '/redirect-to-a':
        res.writeHead(302, { Location: `${origin}/a#frag` });
        res.end();
        return;
      case '/target':
        return page('Target', ['/a']);
      case '/missing':
        res.writeHead(404, { 'Content-Type': 'text/html' });
        res.end('<title>Not found</title><a href="/never-from-404">x</a>');
        return;
      case '/flaky':
        if (n === 1) {
          res.writeHead(503, { 'Retry-After': '0', 'Content-Type': 'text/plain' });
          res.end('busy');
          return;
        }
        return page('Flaky', []);
      case '/reset':
        if (n === 1) {
          req.socket.resetAndDestroy();
          return;
        }
        return page('Reset', []);
      case '/slow':
        setTimeout(() => page('Slow', []), options.slowMs ?? 300);
        return;
      case '/gbk':
        res.setHeader('Content-Type', 'text/html; charset=GBK');
        res.end(Buffer.concat([Buffer.from('<html><head><title>'), GBK_TITLE, Buffer.from('</title></head><body></body></html>')]));
        return;
      case '/chunked':
        res.setHeader('Content-Type', 'text/html');
        res.write('<title>Chunked</title>');
        setTimeout(() => res.end('<a href="/a">a</a>'), 5);
        return;
      case '/gzip': {
        const body = zlib.gzipSync(html('Gzip', ['/b']));
        res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Encoding': 'gzip', 'Content-Length': body.length });
        res.end(body);
        return;
      }
      case '/based':
        return page('Based', ['leaf'], '<base href="/sub/">');
      case '/sub/leaf':
        return page('Leaf', []);
      case '/nofollow':
        return page('Nofollow', ['/never'], '<meta name="robots" content="nofollow">');
      case '/noindex':
        return page('Noindex', ['/from-noindex'], '<meta name="robots" content="noindex">');
      case '/from-noindex':
        return page('From noindex', []);
      case '/image.png':
        res.writeHead(200, { 'Content-Type': 'image/png' });
        res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        return;
      case '/sql':
        return page("'); DROP TABLE pages; --", []);
      case '/article/details/42':
        return page('Article 42', []);
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('no such page');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://localhost:${port}`;
  return {
    origin,
    port,
    hits,
    times,
    completed,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every path the crawler must fetch from the fixture, with how many times. */
export const EXPECTED_HITS: Record<string, number> = {
  '/robots.txt': 1,
  '/': 1,
  '/a': 1,
  '/b': 1,
  '/redirect': 1,
  '/target': 1,
  '/redirect-to-a': 1,
  '/missing': 1,
  '/flaky': 2,
  '/reset': 2,
  '/slow': 1,
  '/gbk': 1,
  '/chunked': 1,
  '/gzip': 1,
  '/based': 1,
  '/sub/leaf': 1,
  '/nofollow': 1,
  '/noindex': 1,
  '/from-noindex': 1,
  '/image.png': 1,
  '/sql': 1,
  '/article/details/42': 1,
};
