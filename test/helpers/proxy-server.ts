import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { once } from 'node:events';

export interface ProxySeen {
  method: string;
  /** The request target as received: absolute-form, or host:port for CONNECT. */
  target: string;
  proxyAuthorization: string | undefined;
  /** Raw header pairs, flattened as node:http gives them. */
  rawHeaders: string[];
}

export interface ProxyServer {
  /** http://127.0.0.1:PORT (https:// with `tls`) */
  href: string;
  port: number;
  seen: ProxySeen[];
  close(): Promise<void>;
}

/**
 * A forward HTTP proxy on 127.0.0.1 for tests: absolute-form requests are forwarded with
 * node:http, CONNECT opens a TCP tunnel. With `credentials` ("user:pass") anything without
 * the matching Basic Proxy-Authorization gets 407. `hosts` resolves names only the proxy knows.
 * With `tls` (a key and certificate) it is an https:// proxy: clients speak TLS with it first.
 */
export async function proxyServer(options: { credentials?: string; hosts?: Record<string, string>; tls?: { key: string; cert: string } } = {}): Promise<ProxyServer> {
  /** Where the proxy connects for a host name: `hosts` maps test names (site.test) to addresses. */
  const address = (host: string): string => options.hosts?.[host] ?? host;
  const seen: ProxySeen[] = [];
  const sockets = new Set<net.Socket>();
  const expected = options.credentials ? `Basic ${Buffer.from(options.credentials).toString('base64')}` : null;
  const allowed = (auth: string | undefined): boolean => expected === null || auth === expected;

  const handler: http.RequestListener = (req, res) => {
    const auth = req.headers['proxy-authorization'];
    seen.push({ method: req.method ?? '', target: req.url ?? '', proxyAuthorization: auth, rawHeaders: req.rawHeaders });
    if (!allowed(auth)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test"', 'Content-Length': '0', Connection: 'close' });
      res.end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const url = new URL(req.url ?? '');
    const upstream = http.request({ host: address(url.hostname), port: url.port || 80, path: url.pathname + url.search, method: req.method, headers, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502, { 'Content-Length': '0', Connection: 'close' });
      res.end();
    });
    upstream.end();
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  server.on('tlsClientError', () => {});
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const auth = req.headers['proxy-authorization'];
    seen.push({ method: 'CONNECT', target: req.url ?? '', proxyAuthorization: auth, rawHeaders: req.rawHeaders });
    client.on('error', () => {});
    if (!allowed(auth)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const target = new URL(`http://${req.url ?? ''}`);
    const upstream = net.connect(Number(target.port), address(target.hostname.replace(/^\[|\]$/g, '')));
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    upstream.on('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    href: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    seen,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
