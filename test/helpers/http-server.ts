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
