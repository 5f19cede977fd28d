// The tree site in its own process, so request arrival times are not skewed by the test runner's
// event loop. Prints its origin as the first stdout line; on "hits" via IPC, replies with the log.
import http from 'node:http';

const pages = Number(process.argv[2] ?? 100);
const delayMs = Number(process.argv[3] ?? 0);
const hits = [];
const server = http.createServer((req, res) => {
  if (req.url === '/robots.txt') {
    res.writeHead(404);
    res.end();
    return;
  }
  hits.push({ path: req.url ?? '', at: performance.timeOrigin + performance.now() });
  const n = Number(/^\/p\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
  if (n < 0 || n >= pages) {
    res.writeHead(404);
    res.end();
    return;
  }
  const links = [2 * n + 1, 2 * n + 2].filter((k) => k < pages).map((k) => `<a href="/p/${k}">${k}</a>`);
  setTimeout(() => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<title>P${n}</title>${links.join('')}`);
  }, delayMs);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
});
process.on('message', (m) => {
  if (m === 'hits') process.send({ hits });
});
process.on('disconnect', () => process.exit(0));
