import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, parseRequestUrl } from '../../src/client/request.js';
import { buildRequestHead } from '../../src/http/request-writer.js';
import { tlsSessionKey, tlsSessions } from '../../src/net/tls-sessions.js';
import { WireFormatter } from '../../src/wire/format.js';

import type { WireEvent } from '../../src/wire/events.js';
import { caSignedCert, clientCert, selfSignedCert, tlsServer, type TlsServer } from '../helpers/tls-server.js';
import { failure } from '../helpers/failure.js';
import { rawServer } from '../helpers/raw-server.js';

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

  it('tls.ca may name the server\'s own CA-signed certificate, or its CA: either is trusted, as curl --cacert does; another CA is not', async () => {
    // `openssl s_client -showcerts` gives the server's certificate: pinning it must work even
    // when a CA signed it (OpenSSL's partial chain, which curl turns on).
    const { ca, leaf } = await caSignedCert();
    const other = await caSignedCert();
    const s = await tlsServer('pinned', { cert: leaf });
    try {
      const url = `https://localhost:${s.port}/`;
      for (const trusted of [ca.cert, leaf.cert]) {
        const res = await request(url, { tls: { ca: trusted, sessionCache: false } });
        expect(res.text()).toBe('pinned');
      }
      const e = await failure(request(url, { tls: { ca: other.ca.cert, sessionCache: false } }));
      expect(e.code).toBe('ERR_TLS');
      const e2 = await failure(request(url, { tls: { ca: other.leaf.cert, sessionCache: false } }));
      expect(e2.code).toBe('ERR_TLS');
    } finally {
      await s.close();
    }
  });

  it('traces a TLS exchange in order: written before the first byte, every read before the eof, nothing after the close', async () => {
    // Over TLS the last bytes and the end come in one turn, and the write's callback can come
    // after the whole response: the trace once put eof before the reads and written after close.
    const { key, cert } = await selfSignedCert();
    const tls = await import('node:tls');
    const srv = tls.createServer({ key, cert }, (s) => {
      s.on('error', () => {});
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes('\r\n\r\n')) s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread to the close');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `https://localhost:${(srv.address() as { port: number }).port}/`;
      for (let i = 0; i < 12; i++) {
        const events: WireEvent[] = [];
        const res = await request(url, { tls: { ca: cert }, onWire: (e) => events.push(e) });
        expect(res.text()).toBe('read to the close');
        const types = events.map((e) => e.type);
        expect(types.at(-1)).toBe('close');
        expect(types.filter((t) => t === 'written')).toHaveLength(1);
        expect(types.indexOf('written')).toBeLessThan(types.indexOf('first-byte'));
        expect(types.filter((t) => t === 'eof')).toHaveLength(1);
        expect(types.indexOf('eof')).toBeGreaterThan(types.lastIndexOf('read'));
        expect(events.find((e) => e.type === 'eof')).toMatchObject({ closeNotify: true });
      }
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
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

  it('a fully qualified name (trailing dot) is sent as SNI without its dot (RFC 6066 §3), as curl does, and its certificate still checks', async () => {
    const res = await request(`https://localhost.:${server.port}/`, { tls: { ca: server.cert }, resolve: { [`localhost.:${server.port}`]: '127.0.0.1' } });
    expect(res.text()).toBe('secure hello');
    expect(server.servernames.at(-1)).toBe('localhost');
  });

  it('an IP literal URL is checked against the address: a certificate for the IP passes, one for localhost does not, traced or not', async () => {
    const { generate } = await import('selfsigned');
    const cert = (altNames: Array<{ type: 2; value: string } | { type: 7; ip: string }>) => generate([{ name: 'commonName', value: 'x' }], { keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames }] }).then((p) => ({ key: p.private, cert: p.cert }));
    const tls = await import('node:tls');
    for (const [names, ok] of [[[{ type: 7, ip: '127.0.0.1' }], true], [[{ type: 2, value: 'localhost' }], false]] as const) {
      const c = await cert([...names]);
      const srv = tls.createServer(c, (s) => {
        s.on('error', () => {});
        s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      const url = `https://127.0.0.1:${(srv.address() as { port: number }).port}/`;
      try {
        // Traced, the handshake runs over a JS stream (close_notify watch), not the socket itself.
        for (const onWire of [undefined, () => {}]) {
          const attempt = request(url, { tls: { ca: c.cert }, ...(onWire ? { onWire } : {}) });
          if (ok) expect((await attempt).text()).toBe('ok');
          else expect(await failure(attempt)).toMatchObject({ code: 'ERR_TLS', message: expect.stringMatching(/IP: 127\.0\.0\.1 is not in the cert's list/) });
        }
      } finally {
        srv.close();
      }
    }
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

  it('a server that resets or closes during the handshake is a reset or a premature close (retried as over plain HTTP), not ERR_TLS', async () => {
    for (const [last, code, message] of [
      [{ reset: true }, 'ERR_CONNECTION_RESET', /^connection reset by peer during the TLS handshake \(ECONNRESET\)$/],
      [{ end: true }, 'ERR_PREMATURE_CLOSE', /^connection closed by the server during the TLS handshake$/],
    ] as const) {
      // The ClientHello is read, and the connection dropped, as an overloaded server may.
      const s = await rawServer([{ delayMs: 100 }, last], { waitRequest: false });
      try {
        for (const onWire of [undefined, () => {}]) {
          const e = await failure(request(`https://localhost:${s.port}/`, { tls: { ca: server.cert }, ...(onWire ? { onWire } : {}) }));
          expect({ code: e.code, message: e.message }).toMatchObject({ code, message: expect.stringMatching(message) });
        }
        // An https:// proxy doing so is named.
        const p = await failure(request('https://localhost:1/', { proxy: `https://127.0.0.1:${s.port}` }));
        expect(p.code).toBe(code);
        expect(p.message.startsWith(`proxy https://127.0.0.1:${s.port}: `)).toBe(true);
      } finally {
        await s.close();
      }
    }
  });

  it('the default https port is left out of Host', () => {
    const u = parseRequestUrl('https://example.com/p');
    const head = buildRequestHead({ method: 'GET', target: u.pathname, host: u.host, defaults: [], headers: [] }).toString();
    expect(head).toBe('GET /p HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
  });
});

describe('TLS session resumption', () => {
  /** The `tls` wire event of one request. */
  async function tlsFacts(url: string, tls: Parameters<typeof request>[1] extends infer O ? (O extends { tls?: infer T } ? T : never) : never) {
    const events: WireEvent[] = [];
    const res = await request(url, { tls, onWire: (e) => events.push(e) });
    expect(res.text()).toBe('secure hello');
    const ev = events.find((e) => e.type === 'tls');
    if (ev?.type !== 'tls') throw new Error('no tls event');
    return { ev, events };
  }

  it('a second connection to the same server resumes the first one\'s session, still checked and with the same certificate', async () => {
    tlsSessions.clear();
    const url = `https://localhost:${server.port}/`;
    const first = await tlsFacts(url, { ca: server.cert });
    const second = await tlsFacts(url, { ca: server.cert });
    expect(first.ev).toMatchObject({ resumed: false, authorized: true });
    expect(second.ev).toMatchObject({ resumed: true, authorized: true, fingerprint256: first.ev.fingerprint256 });
    expect(first.ev.fingerprint256).toMatch(/^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
    const line = second.events.flatMap((e) => new WireFormatter().format(e)).find((l) => l.includes(' * tls '));
    expect(line).toMatch(/ authorized=true resumed /);
  });

  it('a session is offered only with the same ca, rejectUnauthorized and servername', async () => {
    tlsSessions.clear();
    const url = `https://localhost:${server.port}/`;
    expect((await tlsFacts(url, { rejectUnauthorized: false })).ev.resumed).toBe(false);
    // A session from an unchecked connection never stands in for a checked one.
    expect((await tlsFacts(url, { ca: server.cert })).ev).toMatchObject({ resumed: false, authorized: true });
    expect((await tlsFacts(url, { ca: [server.cert] })).ev.resumed).toBe(true);
    expect((await tlsFacts(url, { ca: server.cert, servername: 'localhost' })).ev.resumed).toBe(true);
    expect((await tlsFacts(`https://127.0.0.1:${server.port}/`, { ca: server.cert, servername: 'localhost' })).ev.resumed).toBe(false);
    expect((await tlsFacts(url, { rejectUnauthorized: false })).ev.resumed).toBe(true);
  });

  it('sessionCache: false makes a full handshake every time and stores nothing', async () => {
    tlsSessions.clear();
    const url = `https://localhost:${server.port}/`;
    for (let i = 0; i < 2; i++) expect((await tlsFacts(url, { ca: server.cert, sessionCache: false })).ev.resumed).toBe(false);
    expect(tlsSessions.size).toBe(0);
  });

  it('a cached session OpenSSL cannot take is dropped and the handshake made in full', async () => {
    tlsSessions.clear();
    const url = `https://localhost:${server.port}/`;
    await tlsFacts(url, { ca: server.cert });
    expect(tlsSessions.size).toBe(1);
    const key = tlsSessionKey('localhost', server.port, 'localhost', server.cert, true);
    expect(tlsSessions.get(key)).toBeDefined();
    tlsSessions.set(key, { session: Buffer.from('not a TLS session') });
    const again = await tlsFacts(url, { ca: server.cert });
    expect(again.ev).toMatchObject({ resumed: false, authorized: true });
    expect(tlsSessions.get(key)?.session.toString()).not.toBe('not a TLS session');
  });
});

describe('client certificates (mutual TLS)', () => {
  it('presents tls.cert/key to a server that asks; without one, or with another, the handshake fails: ERR_TLS or a reset, never a response', async () => {
    const alice = await clientCert('alice');
    const mallory = await clientCert('mallory');
    const s = await tlsServer('members only', { clientCa: [alice.cert] });
    try {
      const url = `https://localhost:${s.port}/`;
      const ok = await request(url, { tls: { ca: s.cert, cert: alice.cert, key: alice.key } });
      expect(ok.text()).toBe('members only');
      expect(s.clients).toEqual(['alice']);
      // A second request resumes alice's session; one without a certificate or with mallory's
      // must not: a resumed session would skip the server's check of the client.
      expect((await request(url, { tls: { ca: s.cert, cert: alice.cert, key: alice.key } })).text()).toBe('members only');
      for (const tls of [{ ca: s.cert }, { ca: s.cert, cert: mallory.cert, key: mallory.key }]) {
        const e = await failure(request(url, { tls }));
        expect(['ERR_TLS', 'ERR_CONNECTION_RESET', 'ERR_PREMATURE_CLOSE']).toContain(e.code);
      }
      expect(s.clients).toEqual(['alice', 'alice']);
      expect(tlsSessionKey('h', 1, 'h', undefined, true, alice.cert)).not.toBe(tlsSessionKey('h', 1, 'h', undefined, true, mallory.cert));
      expect(tlsSessionKey('h', 1, 'h', undefined, true, alice.cert)).not.toBe(tlsSessionKey('h', 1, 'h', undefined, true));
    } finally {
      await s.close();
    }
  });

  it('a TLS 1.3 server that wants a certificate none was given for says so after the handshake: ERR_TLS in one line of words, not OpenSSL\'s internals', async () => {
    const alice = await clientCert('alice');
    const s = await tlsServer('members only', { clientCa: [alice.cert] });
    try {
      const e = await failure(request(`https://localhost:${s.port}/`, { tls: { ca: s.cert, sessionCache: false } }));
      expect(e.code).toBe('ERR_TLS');
      expect(e.message).toBe('TLS error: ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required');
    } finally {
      await s.close();
    }
  });

  it('a key that is not the certificate\'s is ERR_TLS before a byte is sent', async () => {
    const alice = await clientCert('alice');
    const mallory = await clientCert('mallory');
    const e = await failure(request(`https://localhost:${server.port}/`, { tls: { ca: server.cert, cert: alice.cert, key: mallory.key, sessionCache: false } }));
    expect(e.code).toBe('ERR_TLS');
    expect(e.message).toMatch(/^TLS settings refused: .*key values mismatch/i);
  });
});
