import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { request, parseRequestUrl } from '../../src/client/request.js';
import { buildRequestHead, validateHeaders } from '../../src/http/request-writer.js';
import { REQUEST_DEFAULTS } from '../../src/client/options.js';

import { rawServer, response, type RawServer } from '../helpers/raw-server.js';
import { failure } from '../helpers/failure.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

const track = closeAfterEach();
async function serve(...args: Parameters<typeof rawServer>): Promise<RawServer> {
  const s = await rawServer(...args);
  track(s);
  return s;
}
const OK = response('200 OK', [['Content-Length', 2]], 'ok');

const UA = REQUEST_DEFAULTS.userAgent;
const ACCEPT = REQUEST_DEFAULTS.accept;

describe('the bytes sent', () => {
  it('sends an origin-form GET with Host, defaults and Connection: close, nothing else', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    const res = await request(`${s.origin}/a/b%20c?x=1&y=%C3%A9#frag`);
    expect(res.status).toBe(200);
    expect(s.requests[0]!.toString('latin1')).toBe(
      `GET /a/b%20c?x=1&y=%C3%A9 HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nUser-Agent: ${UA}\r\nAccept: ${ACCEPT}\r\n` +
        'Accept-Encoding: gzip, deflate, br\r\nConnection: close\r\n\r\n',
    );
    expect(res.url).toBe(`${s.origin}/a/b%20c?x=1&y=%C3%A9`);
  });

  it('sends / for an empty path and HEAD when asked', async () => {
    const s = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n' }, { end: true }]);
    const res = await request(`${s.origin}?q`, { method: 'HEAD' });
    expect(res.body.length).toBe(0);
    expect(s.requests[0]!.toString('latin1').split('\r\n')[0]).toBe('HEAD /?q HTTP/1.1');
  });

  it('caller headers replace defaults case-insensitively and keep their order; no Accept-Encoding without decompress', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    await request(`${s.origin}/`, { decompress: false, headers: [['user-agent', 'me/1'], ['X-B', 'b'], ['X-A', ' a ']] });
    expect(s.requests[0]!.toString('latin1')).toBe(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAccept: ${ACCEPT}\r\nuser-agent: me/1\r\nX-B: b\r\nX-A: a\r\nConnection: close\r\n\r\n`,
    );
  });

  it('accepts headers as an object, and a caller Host replaces the default', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    await request(`${s.origin}/`, { headers: { Host: 'virtual.example', Cookie: 'a=1' } });
    const head = s.requests[0]!.toString('latin1');
    expect(head).toContain('\r\nHost: virtual.example\r\n');
    expect(head.match(/host:/gi)).toHaveLength(1);
    expect(head).toContain('\r\nCookie: a=1\r\n');
    // Where the default would be: first after the request line (RFC 9110 §7.2), in its spelling.
    expect(head.startsWith('GET / HTTP/1.1\r\nHost: virtual.example\r\n')).toBe(true);
    const t = buildRequestHead({ method: 'GET', target: '/', host: 'a', defaults: [['Accept', '*/*']], headers: [['X-A', '1'], ['host', 'b.test']] }).toString('latin1');
    expect(t).toBe('GET / HTTP/1.1\r\nhost: b.test\r\nAccept: */*\r\nX-A: 1\r\nConnection: close\r\n\r\n');
  });

  it('a null value leaves a field out, the default of its name included (curl -H \'Name:\'); an empty string sends it empty', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    await request(`${s.origin}/`, { headers: { 'User-Agent': null, 'accept-encoding': null, 'X-Empty': '', 'X-Gone': null } });
    expect(s.requests[0]!.toString('latin1')).toBe(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nAccept: ${ACCEPT}\r\nX-Empty: \r\nConnection: close\r\n\r\n`);
    // Host is needed, and the fields rawcrawl manages are its own either way.
    for (const headers of [{ Host: null }, [['Connection', null]] as Array<[string, string | null]>]) {
      expect(() => validateHeaders(headers), JSON.stringify(headers)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_HEADER' }));
    }
    expect(validateHeaders([['Accept', null]])).toEqual([['Accept', null]]);
  });

  it('brackets an IPv6 literal in Host', async () => {
    let s: RawServer;
    try {
      s = await serve([{ send: OK }, { end: true }], { host: '::1' });
    } catch {
      return; // no IPv6 loopback here
    }
    const events: Array<{ type: string; local?: string; remote?: string }> = [];
    const res = await request(`http://[::1]:${s.port}/v6`, { onWire: (e) => events.push(e) });
    expect(res.status).toBe(200);
    expect(s.requests[0]!.toString('latin1')).toContain(`\r\nHost: [::1]:${s.port}\r\n`);
    expect(res.remoteAddress).toBe('::1');
    // The trace's ends are address:port, an IPv6 address in brackets ("::1:80" reads ambiguously).
    const connected = events.find((e) => e.type === 'connected');
    expect(connected?.remote).toBe(`[::1]:${s.port}`);
    expect(connected?.local).toMatch(/^\[::1\]:\d+$/);
  });
});

describe('the request head, unit-wise', () => {
  const head = (url: string): string => {
    const u = parseRequestUrl(url);
    return buildRequestHead({ method: 'GET', target: u.pathname + u.search, host: u.host, defaults: [], headers: [] }).toString('latin1');
  };
  it('IDN host becomes punycode', () => {
    expect(head('http://bücher.example/ü?ä=1#x')).toBe('GET /%C3%BC?%C3%A4=1 HTTP/1.1\r\nHost: xn--bcher-kva.example\r\nConnection: close\r\n\r\n');
  });
  it('default ports are left out of Host, others kept', () => {
    expect(head('http://example.com:80/')).toContain('Host: example.com\r\n');
    expect(head('https://example.com:443/')).toContain('Host: example.com\r\n');
    expect(head('https://example.com:80/')).toContain('Host: example.com:80\r\n');
    expect(head('http://[2001:db8::1]:8080/')).toContain('Host: [2001:db8::1]:8080\r\n');
  });
  it('rejects URLs that are not absolute http(s)', () => {
    for (const bad of ['/relative', 'ftp://x/', 'file:///etc/passwd', 'javascript:alert(1)', 'http://']) {
      expect(() => parseRequestUrl(bad), bad).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_URL' }));
    }
  });
  it('validates header names and values', () => {
    expect(validateHeaders([['X-Ok', 'v\t1']])).toEqual([['X-Ok', 'v\t1']]);
    const bad: Array<[string, string]> = [
      ['X-A', 'v\r\nInjected: 1'], ['X-A', 'v\nx'], ['X-A', 'v\rx'], ['X-A', 'a\x00b'], ['Bad Name', 'v'], ['X:A', 'v'],
      ['', 'v'], ['X-A\r\nB', 'v'], ['X-A', 'snow\u2603'], ['Transfer-Encoding', 'chunked'], ['Content-Length', '5'], ['connection', 'keep-alive'],
    ];
    for (const pair of bad) {
      expect(() => validateHeaders([pair]), JSON.stringify(pair)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_HEADER' }));
    }
  });
  it('takes one Host in place of the URL\'s, not two and not an empty one (RFC 9112 §3.2)', () => {
    expect(validateHeaders([['host', ' virtual.example ']])).toEqual([['host', 'virtual.example']]);
    for (const pairs of [[['Host', 'a.example'], ['host', 'b.example']], [['Host', '']], [['HOST', ' \t']]] as Array<Array<[string, string]>>) {
      expect(() => validateHeaders(pairs), JSON.stringify(pairs)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_HEADER', message: expect.stringMatching(/Host/) }));
    }
  });
});

describe('header injection', () => {
  it('is rejected with ERR_INVALID_HEADER before any connection is made', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    for (const headers of [{ 'X-A': 'v\r\nX-Injected: 1' }, { 'X-A\r\n': 'v' }, { 'X-A': 'a\x00' }, { 'X-A': 'a\nGET / HTTP/1.1' }] as Array<Record<string, string>>) {
      const e = await failure(request(`${s.origin}/`, { headers }));
      expect(e.code).toBe('ERR_INVALID_HEADER');
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(s.connections).toBe(0);
  });

  it('bad options fail before connecting too', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    expect((await failure(request(`${s.origin}/`, { method: 'POST' as 'GET' }))).code).toBe('ERR_INVALID_OPTION');
    expect((await failure(request(`${s.origin}/`, { timeoutMs: -1 }))).code).toBe('ERR_INVALID_OPTION');
    expect((await failure(request(`${s.origin}/`, { maxBodyBytes: Number.NaN }))).code).toBe('ERR_INVALID_OPTION');
    expect(s.connections).toBe(0);
  });

  it('a bad option leaves no timer or abort listener behind (it would keep the process alive for timeoutMs)', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const controller = new AbortController();
    for (const bad of [{ connectTimeoutMs: -1 }, { idleTimeoutMs: Number.NaN }, { maxHeaderBytes: 0 }, { resolve: { nope: '127.0.0.1' } }, { proxy: 'socks6://x' }]) {
      const e = await failure(request('http://127.0.0.1:1/', { ...bad, timeoutMs: 60_000, signal: controller.signal }));
      expect(e.code, JSON.stringify(bad)).toBe('ERR_INVALID_OPTION');
    }
    expect(timers()).toBe(before);
    // No request left a listener on the signal.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('options from plain JavaScript', () => {
  it('an option of the wrong kind is ERR_INVALID_OPTION before anything starts (no timer, no connection)', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ signal: {} }, /^signal must be an AbortSignal/],
      [{ signal: 'x' }, /^signal must be an AbortSignal, got string/],
      [{ method: 123 }, /^method 123 is not GET or HEAD/],
      [{ headers: null }, /^headers must be an object/],
      [{ headers: 42 }, /^headers must be an object.*got number/],
      [{ headers: 'X-A: b' }, /^headers must be an object.*got string/],
      [{ headers: [['X-A']] }, /is not a \[name, value\] pair/],
      [{ onWire: 'x' }, /^onWire must be a function/],
      [{ onRequestSent: 5 }, /^onRequestSent must be a function/],
      [{ decompress: 'false' }, /^decompress must be a boolean, got "false"/],
      [{ truncateBody: 'no' }, /^truncateBody must be a boolean/],
      [{ tls: 'yes' }, /^tls must be an object/],
      [{ resolve: 5 }, /^resolve must be an object/],
      [{ maxRedirects: 1.5 }, /^maxRedirects must be an integer >= 0, got 1.5/],
      [{ timeoutMs: '5' }, /^timeoutMs must be a number >= 1, got "5"/],
      [{ maxBodyBytes: 10.5 }, /^maxBodyBytes must be an integer/],
      [{ tls: { rejectUnauthorized: 'false' } }, /^tls\.rejectUnauthorized must be a boolean, got "false"/],
      [{ tls: { servername: 5 } }, /^tls\.servername must be a string, got number/],
      [{ proxyTls: { sessionCache: 'no' } }, /^proxyTls\.sessionCache must be a boolean/],
    ];
    for (const [options, message] of bad) {
      const e = await failure(request(`${s.origin}/`, options as never));
      expect(e.code, JSON.stringify(options)).toBe('ERR_INVALID_OPTION');
      expect(e.message, JSON.stringify(options)).toMatch(message);
    }
    expect((await failure(request(`${s.origin}/`, 'x' as never))).message).toBe('options must be an object, got "x"');
    expect(s.connections).toBe(0);
    expect(timers()).toBe(before);
    // A header value that is no string (nor null: left out) is refused, and undefined in an object leaves the field out.
    expect((await failure(request(`${s.origin}/`, { headers: { 'X-A': 5n } as never }))).message).toBe('value of header X-A is bigint, not a string (or null to leave the field out)');
    expect((await failure(request(`${s.origin}/`, { headers: [['X-A', undefined]] as never }))).message).toBe('value of header X-A is undefined, not a string (or null to leave the field out)');
  });

  it('headers may be a WHATWG Headers or a Map; an undefined value in an object sends no field', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    await request(`${s.origin}/`, { headers: new Headers({ Authorization: 'Bearer t', 'X-A': '1' }) });
    await request(`${s.origin}/`, { headers: new Map([['X-B', '2']]) });
    await request(`${s.origin}/`, { headers: { 'X-C': '3', 'X-U': undefined } });
    const [a, b, c] = s.requests.map((r) => r.toString('latin1'));
    expect(a).toContain('\r\nauthorization: Bearer t\r\nx-a: 1\r\n');
    expect(b).toContain('\r\nX-B: 2\r\n');
    expect(c).toContain('\r\nX-C: 3\r\n');
    expect(c).not.toContain('X-U');
  });

  it('what an onWire or onRequestSent listener throws is what request() rejects with, not a network error', async () => {
    const s = await serve([{ send: OK }, { end: true }]);
    for (const kind of ['open', 'read'] as const) {
      const boom = new Error(`listener boom on ${kind}`);
      const seen: string[] = [];
      const e = await request(`${s.origin}/`, {
        onWire: (ev) => {
          seen.push(ev.type);
          if (ev.type === kind) throw boom;
        },
      }).catch((err: unknown) => err);
      expect(e).toBe(boom);
      // Nothing more reaches the listener once it has thrown.
      expect(seen.at(-1)).toBe(kind);
    }
    const boom = new Error('sent boom');
    expect(await request(`${s.origin}/`, { onRequestSent: () => { throw boom; } }).catch((err: unknown) => err)).toBe(boom);
  });

  it('an abort by the caller keeps the signal\'s reason as its cause', async () => {
    const s = await serve([{ hold: true }]);
    const reason = new Error('my reason');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 50);
    const e = await failure(request(`${s.origin}/`, { signal: controller.signal }));
    expect(e.code).toBe('ERR_ABORTED');
    expect(e.cause).toBe(reason);
    expect(e.message).toBe('request aborted by the caller: Error: my reason');
    const t = await failure(request(`${s.origin}/`, { signal: AbortSignal.timeout(50) }));
    expect(t.code).toBe('ERR_ABORTED');
    expect((t.cause as Error).name).toBe('TimeoutError');
  });
});

describe('connecting', () => {
  it('a refused connection is ERR_CONNECT', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const e = await failure(request(`http://127.0.0.1:${port}/`));
    expect(e.code).toBe('ERR_CONNECT');
    expect(e.url).toBe(`http://127.0.0.1:${port}/`);
  });

  it('an unresolvable name is ERR_DNS', async () => {
    const e = await failure(request('http://does-not-exist.invalid/', { connectTimeoutMs: 5000 }));
    expect(['ERR_DNS', 'ERR_TIMEOUT']).toContain(e.code);
  });
});
