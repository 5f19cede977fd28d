import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, parseRequestUrl } from '../../src/client/request.js';
import { buildRequestHead } from '../../src/http/request-writer.js';

import type { WireEvent } from '../../src/wire/events.js';
import { tlsServer, type TlsServer } from '../helpers/tls-server.js';
import { failure } from '../helpers/failure.js';

let server: TlsServer;
beforeAll(async () => {
  server = await tlsServer('secure hello');
});
afterAll(async () => {
  await server.close();
});

describe('https', () => {
  it('a self-signed certificate is ERR_TLS by default', async () => {
    const before = server.requests.length;
    const e = await failure(request(`https://localhost:${server.port}/`));
    expect(e.code).toBe('ERR_TLS');
    expect(e.message).toMatch(/self[- ]signed|unable to verify|SELF_SIGNED/i);
    // Not a single request byte reached the server.
    expect(server.requests.slice(before).every((r) => r.length === 0)).toBe(true);
  });

  it('works when the certificate is given as tls.ca', async () => {
    const events: WireEvent[] = [];
    const res = await request(`https://localhost:${server.port}/x?y`, { tls: { ca: server.cert }, onWire: (e) => events.push(e) });
    expect(res.status).toBe(200);
    expect(res.text()).toBe('secure hello');
    const head = server.requests.at(-1)!.toString('latin1');
    expect(head.startsWith('GET /x?y HTTP/1.1\r\n')).toBe(true);
    expect(head).toContain(`\r\nHost: localhost:${server.port}\r\n`);
    const tlsEvent = events.find((e) => e.type === 'tls');
    expect(tlsEvent).toMatchObject({ type: 'tls', authorized: true });
    expect(res.timings.tls).toBeGreaterThan(res.timings.connect);
    expect(res.timings.firstByte).toBeGreaterThanOrEqual(res.timings.tls);
  });

  it('works with rejectUnauthorized: false, and reports the certificate as unauthorized', async () => {
    const events: WireEvent[] = [];
    const res = await request(`https://127.0.0.1:${server.port}/`, { tls: { rejectUnauthorized: false }, onWire: (e) => events.push(e) });
    expect(res.text()).toBe('secure hello');
    expect(events.find((e) => e.type === 'tls')).toMatchObject({ authorized: false });
  });

  it('sends the host name as SNI, and no SNI for an IP literal', async () => {
    await request(`https://localhost:${server.port}/`, { tls: { ca: server.cert } });
    expect(server.servernames.at(-1)).toBe('localhost');
    await request(`https://127.0.0.1:${server.port}/`, { tls: { ca: server.cert } });
    expect(server.servernames.at(-1)).toBeUndefined();
  });

  it('tls.servername overrides SNI and the name the certificate is checked against', async () => {
    await request(`https://127.0.0.1:${server.port}/`, { tls: { servername: 'other.test', rejectUnauthorized: false } });
    expect(server.servernames.at(-1)).toBe('other.test');
    const e = await failure(request(`https://127.0.0.1:${server.port}/`, { tls: { servername: 'other.test', ca: server.cert } }));
    expect(e.code).toBe('ERR_TLS');
  });

  it('plain HTTP spoken to a TLS port fails cleanly', async () => {
    const e = await failure(request(`http://127.0.0.1:${server.port}/`, { timeoutMs: 3000 }));
    expect(['ERR_CONNECTION_RESET', 'ERR_PREMATURE_CLOSE', 'ERR_INVALID_STATUS_LINE']).toContain(e.code);
  });

  it('the default https port is left out of Host', () => {
    const u = parseRequestUrl('https://example.com/p');
    const head = buildRequestHead({ method: 'GET', target: u.pathname, host: u.host, defaults: [], headers: [] }).toString();
    expect(head).toBe('GET /p HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
  });
});
