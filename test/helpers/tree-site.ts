import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TreeSite {
  origin: string;
  /** Every request, in arrival order (robots.txt excluded). */
  hits: Array<{ path: string; at: number }>;
  /** Paths whose response was sent completely. */
  completed: string[];
  close(): Promise<void>;
}

/** A site of `pages` pages /p/N in a tree (N links to 2N+1 and 2N+2), each answered after `delayMs`. */
export async function treeSite(pages: number, delayMs: number, options: { robots?: string } = {}): Promise<TreeSite> {
  const hits: TreeSite['hits'] = [];
  const completed: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/robots.txt') {
      if (options.robots) res.end(options.robots);
      else {
        res.writeHead(404);
        res.end();
      }
      return;
    }
    hits.push({ path: req.url ?? '', at: performance.timeOrigin + performance.now() });
    const n = Number(/^\/p\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    if (n < 0 || n >= pages) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.on('finish', () => completed.push(req.url!));
    const links = [2 * n + 1, 2 * n + 2].filter((k) => k < pages).map((k) => `<a href="/p/${k}">${k}</a>`);
    setTimeout(() => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<title>P${n}</title>${links.join('')}`);
    }, delayMs);
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    hits,
    completed,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The tree site in a child process (undisturbed arrival times); hits() asks it for its log. */
export async function treeSiteProcess(pages: number, delayMs: number): Promise<{ origin: string; hits(): Promise<TreeSite['hits']>; close(): void }> {
  const { fork } = await import('node:child_process');
  const child = fork(new URL('./tree-site-server.mjs', import.meta.url), [String(pages), String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const origin = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl !== -1) resolve(buf.slice(0, nl));
    });
    child.once('exit', () => reject(new Error('tree site process exited')));
  });
  return {
    origin,
    hits: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve((m as { hits: TreeSite['hits'] }).hits));
        child.send('hits');
      }),
    close: () => child.kill(),
  };
}
