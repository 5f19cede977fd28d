import { afterEach, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../src/client/request.js';
import { createCaptureSink } from '../../src/capture/sink.js';
import type { CapturedExchange } from '../../src/capture/exchange.js';
import { selfSignedCert } from '../helpers/tls-server.js';

const servers: tls.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const WIRE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body';

/** A TLS server that sends a close-delimited response, then closes with or without close_notify. */
async function tlsCloser(clean: boolean): Promise<{ port: number; cert: string }> {
  const { key, cert } = await selfSignedCert();
  const server = tls.createServer({ key, cert }, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write(WIRE, () => {
        // end(): close_notify, then FIN. destroy(): FIN only, a truncation to a TLS peer.
        if (clean) socket.end();
        else setTimeout(() => socket.destroy(), 20);
      });
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, cert };
}

async function capture(url: string, ca: string): Promise<CapturedExchange> {
  const got: CapturedExchange[] = [];
  const sink = createCaptureSink({ dir: mkdtempSync(join(tmpdir(), 'rawcrawl-tls-')), onExchange: (e) => got.push(e) });
  const res = await request(url, { onWire: sink.onWire, tls: { ca } });
  await sink.close();
  expect(res.text()).toBe('close-delimited body');
  return got[0]!;
}

describe('TLS facts in the capture', () => {
  it.each([
    [true, 'close_notify before FIN'],
    [false, 'FIN without close_notify'],
  ])('closeNotify=%s for %s; version, cipher and certificate fingerprint recorded', async (clean) => {
    const { port, cert } = await tlsCloser(clean);
    const ex = await capture(`https://localhost:${port}/`, cert);
    expect(ex.response.toString('latin1')).toBe(WIRE);
    expect(ex.tlsInfo).toMatchObject({
      protocol: 'TLSv1.3',
      authorized: true,
      fingerprint256: new X509Certificate(cert).fingerprint256,
      closeNotify: clean,
    });
    expect(ex.tlsInfo!.cipher).toMatch(/^TLS_/);
    expect(ex.peerEof).toBe(true);
    const t = ex.timings;
    expect(t.connect!).toBeLessThanOrEqual(t.tls!);
    expect(t.tls!).toBeLessThanOrEqual(t.written!);
    expect(t.written!).toBeLessThanOrEqual(t.firstByte!);
    expect(t.headersEnd!).toBeLessThanOrEqual(t.bodyEnd!);
  });
});
