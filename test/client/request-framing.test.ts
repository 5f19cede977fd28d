import { describe, expect, it } from 'vitest';
import { request } from '../../src/client/request.js';

import { rawServers, response } from '../helpers/raw-server.js';
import { BODY, DELIVERIES, FRAMING_CASES } from '../helpers/framing-cases.js';
import { failure } from '../helpers/failure.js';

const serve = rawServers();

const H = 'HTTP/1.1 200 OK\r\n';

describe.each(DELIVERIES)('framing end to end, delivered %s', (_, deliver) => {
  it.each(FRAMING_CASES)('$name', async (c) => {
    const s = await serve([...deliver(c.wire), c.close ? { end: true } : { hold: true }]);
    const p = request(`${s.origin}/`, { timeoutMs: 5000 });
    if ('error' in c.expect) {
      const e = await failure(p);
      expect(e.code).toBe(c.expect.error);
      expect(e.url).toBe(`${s.origin}/`);
      return;
    }
    const res = await p;
    expect(res.body.toString('latin1')).toBe(c.expect.body);
    expect(res.rawTrailers).toEqual(c.expect.trailers ?? []);
    expect(res.leniencies.map((l) => l.kind)).toEqual(c.expect.leniencies ?? []);
    // The connection ends: when the server closes it, or, if it holds it open, when the client
    // gives up waiting for that (release(), 1 s after the response).
    await s.closed(1);
  });
});

describe('responses without a body return promptly while the server holds the connection open', () => {
  it.each([
    ['HEAD with Content-Length', 'HEAD', `${H}Content-Length: 1000\r\n\r\n`],
    ['HEAD without framing fields', 'HEAD', `${H}X: y\r\n\r\n`],
    ['204 with Content-Length', 'GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n'],
    ['304 with chunked', 'GET', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ] as const)('%s', async (_, method, wire) => {
    const s = await serve([{ send: wire }, { hold: true }]);
    const t0 = Date.now();
    const res = await request(`${s.origin}/`, { method, timeoutMs: 3000, idleTimeoutMs: 3000 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(res.body.length).toBe(0);
    await s.closed(1);
  });

  it('skips 100 and 103 interim responses', async () => {
    const s = await serve([{ send: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n' }, { delayMs: 20 }, { send: response('200 OK', [['Content-Length', 2]], 'ok') }, { hold: true }]);
    const res = await request(`${s.origin}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('link')).toBeNull();
    expect(res.text()).toBe('ok');
  });
});

describe('connection failures', () => {
  it('a reset after part of the response is ERR_CONNECTION_RESET', async () => {
    const s = await serve([{ send: `${H}Content-Length: 100\r\n\r\npartial` }, { delayMs: 30 }, { reset: true }]);
    expect((await failure(request(`${s.origin}/`))).code).toBe('ERR_CONNECTION_RESET');
  });

  it('a reset before any byte is ERR_CONNECTION_RESET', async () => {
    const s = await serve([{ reset: true }]);
    expect((await failure(request(`${s.origin}/`))).code).toBe('ERR_CONNECTION_RESET');
  });

  it('a half-close (FIN) before the body is complete is ERR_PREMATURE_CLOSE', async () => {
    const s = await serve([{ send: `${H}Content-Length: 10\r\n\r\nabc` }, { end: true }]);
    const e = await failure(request(`${s.origin}/`));
    expect(e.code).toBe('ERR_PREMATURE_CLOSE');
    expect(e.offset).toBe(`${H}Content-Length: 10\r\n\r\nabc`.length);
  });

  it('a body that ends with a half-close is complete when close-delimited', async () => {
    const s = await serve([{ send: `HTTP/1.0 200 OK\r\n\r\n${BODY}` }, { end: true }]);
    const res = await request(`${s.origin}/`);
    expect(res.httpVersion).toBe('1.0');
    expect(res.body.toString()).toBe(BODY);
  });
});
