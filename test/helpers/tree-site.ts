import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { treeHandler } from './tree-site-server.mjs';

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
  const server = http.createServer(treeHandler(pages, delayMs, hits, completed, options.robots));
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
  // Arrival times are what the tests measure: with the suite's other files loading the machine,
  // a site at normal priority was seen handling a request 13 ms after it arrived. Where the
  // system allows it (root, as in CI), the site runs ahead of the load.
  try {
    os.setPriority(child.pid!, -10);
  } catch {
    // Not allowed here: the site keeps normal priority.
  }
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
