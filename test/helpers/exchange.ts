import type { CapturedExchange } from '../../src/capture/exchange.js';

/**
 * A complete `Content-Length` GET exchange for `url`, as the capture recorder hands one over:
 * the response arrived in one read, the connection closed after it.
 */
export function capturedExchange(url: string, body: Buffer, options: { conn?: number; contentType?: string } = {}): CapturedExchange {
  const u = new URL(url);
  const response = Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${options.contentType ?? 'text/html'}\r\nContent-Length: ${body.length}\r\n\r\n`),
    body,
  ]);
  return {
    conn: options.conn ?? 1,
    url,
    method: 'GET',
    host: u.hostname,
    port: Number(u.port || 80),
    tls: false,
    startedAt: '2026-11-26T08:00:00.000Z',
    remoteAddress: u.hostname,
    proxy: null,
    timings: { connect: 0.1, closed: 1 },
    reads: [{ offset: 0, size: response.length, t: 0.5 }],
    tlsInfo: null,
    peerEof: true,
    leniencies: [],
    error: null,
    closeReason: 'complete',
    responseEnd: response.length,
    request: Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`),
    response,
  };
}
