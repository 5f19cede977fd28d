// The tree site: pages /p/N in a tree (N links to 2N+1 and 2N+2), each answered after `delayMs`.
// Imported by tree-site.ts for an in-process server; run as a script it serves in its own process,
// so request arrival times are not skewed by the test runner's event loop: it prints its origin as
// the first stdout line and, on "hits" via IPC, replies with its request log.
import http from 'node:http';
import { fileURLToPath } from 'node:url';

/** A request handler for the tree site; it logs into `hits` and `completed`. */
export function treeHandler(pages, delayMs, hits, completed, robots) {
  return (req, res) => {
    if (req.url === '/robots.txt') {
      if (robots) res.end(robots);
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
    res.on('finish', () => completed.push(req.url));
    const links = [2 * n + 1, 2 * n + 2].filter((k) => k < pages).map((k) => `<a href="/p/${k}">${k}</a>`);
    setTimeout(() => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<title>P${n}</title>${links.join('')}`);
    }, delayMs);
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const hits = [];
  const server = http.createServer(treeHandler(Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 0), hits, []));
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
  });
  process.on('message', (m) => {
    if (m === 'hits') process.send({ hits });
  });
  process.on('disconnect', () => process.exit(0));
}
