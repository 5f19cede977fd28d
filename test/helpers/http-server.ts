import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';

export interface HttpServer {
  origin: string;
  port: number;
  /** Every request seen: method, url and raw header pairs. */
  seen: Array<{ method: string; url: string; rawHeaders: string[] }>;
  close(): Promise<void>;
}

/** A node:http server for ordinary traffic; `handler` answers each request. */
export async function httpServer(handler: http.RequestListener): Promise<HttpServer> {
  const seen: HttpServer['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders });
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * A start page linking to `/p/0` … `/p/{links - 1}`, every response held `holdMs` before it is
 * sent: pages fetched one after another never overlap. `most()` is the largest number of
 * requests the server held at once.
 */
export async function heldPagesSite(links: number, holdMs: number): Promise<HttpServer & { most(): number }> {
  let open = 0;
  let most = 0;
  const server = await httpServer((req, res) => {
    open++;
    most = Math.max(most, open);
    setTimeout(() => {
      open--;
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(req.url === '/' ? Array.from({ length: links }, (_, i) => `<a href="/p/${i}">${i}</a>`).join('') : '<title>p</title>');
    }, holdMs);
  });
  return { ...server, most: () => most };
}
