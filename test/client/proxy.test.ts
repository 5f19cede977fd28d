import { afterEach, describe, expect, it } from 'vitest';
import { request } from '../../src/client/request.js';
import { noProxyMatches, parseProxyUrl, proxyFromEnv } from '../../src/client/proxy.js';
import type { WireEvent } from '../../src/wire/events.js';
import { WireFormatter } from '../../src/wire/format.js';
import { chainListeners } from '../../src/wire/events.js';
import { CaptureRecorder } from '../../src/capture/recorder.js';
import type { CapturedExchange } from '../../src/capture/exchange.js';
import { failure } from '../helpers/failure.js';
import { proxyServer, type ProxyServer } from '../helpers/proxy-server.js';
import { socks4Server, socksServer } from '../helpers/socks-server.js';
import { rawServer, rawServers, response } from '../helpers/raw-server.js';
import { httpServer } from '../helpers/http-server.js';
import { tlsServer } from '../helpers/tls-server.js';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

const serve = rawServers();
let proxy: ProxyServer | null = null;
afterEach(async () => {
  await proxy?.close();
  proxy = null;
});

const basic = (credentials: string): string => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('an http:// URL through a proxy', () => {
  it('is sent to the proxy in absolute form, Host the target, with the proxy credentials', async () => {
    // The "proxy" is a raw server: the exact bytes it gets are the request.
    const p = await serve([{ send: response('200 OK', [['Content-Length', 2]], 'ok') }, { end: true }]);
    const res = await request('http://target.example:8080/a/b?q=1#frag', { proxy: `http://us%40er:p%3Ass@127.0.0.1:${p.port}` });
    expect(res.text()).toBe('ok');
    expect(res.url).toBe('http://target.example:8080/a/b?q=1');
    expect(p.requests[0]!.toString('latin1')).toBe(
      'GET http://target.example:8080/a/b?q=1 HTTP/1.1\r\nHost: target.example:8080\r\n' +
        'User-Agent: rawcrawl/0.1 (+https://github.com/rawcrawl/rawcrawl)\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n' +
        `Accept-Encoding: gzip, deflate, br\r\nProxy-Authorization: ${basic('us@er:p:ss')}\r\nConnection: close\r\n\r\n`,
    );
  });

  it('reaches the target through a forwarding proxy', async () => {
    proxy = await proxyServer();
    const target = await httpServer((req, res) => res.end(`seen ${req.url}`));
    try {
      const res = await request(`${target.origin}/x?y=1`, { proxy: proxy.href });
      expect(res.text()).toBe('seen /x?y=1');
      expect(proxy.seen.map((s) => [s.method, s.target])).toEqual([['GET', `${target.origin}/x?y=1`]]);
      // The target saw the proxy, not rawcrawl: one request, forwarded.
      expect(target.seen).toHaveLength(1);
    } finally {
      await target.close();
    }
  });
});

describe('an https:// URL through a proxy', () => {
  it('goes through a CONNECT tunnel, with TLS (SNI, certificate check) end to end with the target', async () => {
    proxy = await proxyServer({ credentials: 'u:pw' });
    const target = await tlsServer('tunnelled');
    try {
      const events: WireEvent[] = [];
      const captured: CapturedExchange[] = [];
      const recorder = new CaptureRecorder((ex) => captured.push(ex));
      const res = await request(`https://localhost:${target.port}/secret?k=v`, {
        proxy: `http://u:pw@127.0.0.1:${proxy.port}`,
        tls: { ca: target.cert },
        onWire: chainListeners([(e) => events.push(e), recorder.onWire]),
      });
      expect(res.text()).toBe('tunnelled');
      expect(proxy.seen).toEqual([{ method: 'CONNECT', target: `localhost:${target.port}`, proxyAuthorization: basic('u:pw'), rawHeaders: ['Host', `localhost:${target.port}`, 'Proxy-Authorization', basic('u:pw')] }]);
      // Inside the tunnel: origin form, and no proxy credentials.
      const inner = target.requests[0]!.toString('latin1');
      expect(inner.startsWith(`GET /secret?k=v HTTP/1.1\r\nHost: localhost:${target.port}\r\n`)).toBe(true);
      expect(inner).not.toMatch(/proxy-authorization/i);
      expect(target.servernames).toEqual(['localhost']);
      // The trace shows the proxy and the tunnel; the request's own bytes start after it.
      const lines = events.flatMap((e) => new WireFormatter().format(e));
      expect(lines.find((l) => l.includes('* open'))).toMatch(new RegExp(`proxy=http://127\\.0\\.0\\.1:${proxy.port}$`));
      expect(lines.filter((l) => l.includes(' tunnel '))).toEqual([
        expect.stringMatching(new RegExp(`> tunnel @0 \\d+ "CONNECT localhost:${target.port} HTTP/1\\.1\\\\r\\\\n"$`)),
        expect.stringMatching(/> tunnel @\d+ \d+ "Host: localhost:\d+\\r\\n"$/),
        expect.stringMatching(/> tunnel @\d+ \d+ "Proxy-Authorization: Basic dTpwdw==\\r\\n"$/),
        expect.stringMatching(/> tunnel @\d+ 2 "\\r\\n"$/),
        expect.stringMatching(/< tunnel @0 \d+ "HTTP\/1\.1 200 Connection Established\\r\\n"$/),
        expect.stringMatching(/< tunnel @\d+ 2 "\\r\\n"$/),
        expect.stringMatching(/\* tunnel 200$/),
      ]);
      const send = events.find((e) => e.type === 'send');
      expect(send?.type === 'send' && send.data.toString('latin1').startsWith('GET /secret?k=v HTTP/1.1')).toBe(true);
      expect(events.find((e) => e.type === 'tls')).toMatchObject({ authorized: true });
      // The capture holds the exchange with the target: no CONNECT bytes, and it names the proxy.
      await new Promise((r) => setTimeout(r, 50));
      expect(captured).toHaveLength(1);
      const ex = captured[0]!;
      expect(ex.proxy).toBe(`http://127.0.0.1:${proxy.port}`);
      expect(ex.request.toString('latin1')).toBe(inner);
      expect(ex.response.toString('latin1')).toBe('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ntunnelled');
      expect(ex.reads.reduce((n, r) => n + r.size, 0)).toBe(ex.response.length);
    } finally {
      await target.close();
    }
  });

  it('the target certificate is still checked through the tunnel (ERR_TLS), and a target the proxy cannot reach is ERR_PROXY 502', async () => {
    proxy = await proxyServer();
    const target = await tlsServer();
    const closed = await serve([{ end: true }]);
    const closedPort = closed.port;
    await closed.close();
    try {
      const e = await failure(request(`https://localhost:${target.port}/`, { proxy: proxy.href, tls: { ca: target.cert, servername: 'wrong.example' } }));
      expect(e.code).toBe('ERR_TLS');
      expect(e.message).toMatch(/wrong\.example/);
      const gone = await failure(request(`https://127.0.0.1:${closedPort}/`, { proxy: proxy.href }));
      expect(gone.code).toBe('ERR_PROXY');
      expect(gone.message).toBe(`proxy ${proxy.href} answered CONNECT 127.0.0.1:${closedPort} with 502 Bad Gateway`);
    } finally {
      await target.close();
    }
  });

  it('407 from the proxy is ERR_PROXY saying it wants credentials, and nothing reaches the target', async () => {
    proxy = await proxyServer({ credentials: 'u:pw' });
    const target = await tlsServer();
    try {
      for (const p of [proxy.href, `http://u:wrong@127.0.0.1:${proxy.port}`]) {
        const e = await failure(request(`https://localhost:${target.port}/`, { proxy: p, tls: { ca: target.cert } }));
        expect(e.code).toBe('ERR_PROXY');
        expect(e.message).toBe(`proxy http://127.0.0.1:${proxy.port} answered CONNECT localhost:${target.port} with 407 Proxy Authentication Required (the proxy wants credentials: http://user:pass@host:port)`);
        expect(e.message).not.toContain('wrong');
        expect(e.url).toBe(`https://localhost:${target.port}/`);
      }
      expect(target.requests).toEqual([]);
    } finally {
      await target.close();
    }
  });

  it('a proxy that closes, answers garbage or sends bytes after its answer is ERR_PROXY', async () => {
    for (const [steps, message] of [
      [[{ end: true }], /closed the connection before answering CONNECT/],
      [[{ send: 'SSH-2.0-OpenSSH\r\n' }, { end: true }], /malformed response/],
      [[{ send: 'HTTP/1.1 200 OK\r\n\r\n\x16\x03\x01' }, { hold: true }], /sent 3 bytes after its answer to CONNECT/],
    ] as const) {
      const p = await serve([...steps]);
      const e = await failure(request('https://target.example/', { proxy: `http://127.0.0.1:${p.port}`, timeoutMs: 3000 }));
      expect(e.code).toBe('ERR_PROXY');
      expect(e.message).toMatch(message);
      expect(p.requests[0]!.toString('latin1')).toBe('CONNECT target.example:443 HTTP/1.1\r\nHost: target.example:443\r\n\r\n');
    }
  });

  it('a 2xx answer to CONNECT frames no body, whatever its fields say: TLS starts right after its head', async () => {
    const p = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' }, { hold: true }]);
    // The tunnel is up at once; the "target" (the raw server) never answers the TLS hello.
    const e = await failure(request('https://target.example/', { proxy: `http://127.0.0.1:${p.port}`, connectTimeoutMs: 400 }));
    expect(e.code).toBe('ERR_TIMEOUT');
    expect(e.message).toMatch(/^connect to target\.example:443 through proxy http:\/\/127\.0\.0\.1:\d+ timed out after 400 ms$/);
    const got = p.requests[0]!;
    const head = 'CONNECT target.example:443 HTTP/1.1\r\nHost: target.example:443\r\n\r\n';
    expect(got.subarray(0, head.length).toString('latin1')).toBe(head);
    // A TLS record (handshake, ClientHello) follows, with SNI for the target.
    expect([...got.subarray(head.length, head.length + 2)]).toEqual([0x16, 0x03]);
    expect(got.includes(Buffer.from('target.example'), head.length)).toBe(true);
  });
});

describe('an https:// proxy (TLS with the proxy)', () => {
  /** The proxy's own certificate, apart from the targets' (so the trace can tell them apart). */
  const proxyCert = (): Promise<{ key: string; cert: string }> =>
    generate([{ name: 'commonName', value: 'proxy.test' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    }).then((p) => ({ key: p.private, cert: p.cert }));

  it('an http:// URL: TLS with the proxy, the request in absolute form inside it, with the credentials', async () => {
    const pc = await proxyCert();
    proxy = await proxyServer({ tls: pc, credentials: 'u:pw' });
    const target = await httpServer((req, res) => res.end(`seen ${req.url}`));
    try {
      const events: WireEvent[] = [];
      const captured: CapturedExchange[] = [];
      const recorder = new CaptureRecorder((ex) => captured.push(ex));
      const res = await request(`${target.origin}/x?y=1`, { proxy: `https://u:pw@127.0.0.1:${proxy.port}`, proxyTls: { ca: pc.cert }, onWire: chainListeners([(e) => events.push(e), recorder.onWire]) });
      expect(res.text()).toBe('seen /x?y=1');
      expect(proxy.seen.map((x) => [x.method, x.target, x.proxyAuthorization])).toEqual([['GET', `${target.origin}/x?y=1`, basic('u:pw')]]);
      const tls = events.filter((e) => e.type === 'tls');
      expect(tls).toHaveLength(1);
      expect(tls[0]).toMatchObject({ proxy: true, authorized: true });
      const lines = events.flatMap((e) => new WireFormatter().format(e));
      expect(lines.find((l) => l.includes('* tls'))).toMatch(/\* tls proxy TLSv1\.3 /);
      expect(lines.find((l) => l.includes('* open'))).toMatch(new RegExp(`proxy=https://127\\.0\\.0\\.1:${proxy.port}$`));
      // The exchange is plain HTTP to its target: no TLS facts (the proxy's are not the page's).
      await new Promise((r) => setTimeout(r, 50));
      expect(captured).toHaveLength(1);
      expect(captured[0]!.tlsInfo).toBeNull();
      expect(captured[0]!.proxy).toBe(`https://127.0.0.1:${proxy.port}`);
    } finally {
      await target.close();
    }
  });

  it('an https:// URL: CONNECT inside TLS with the proxy, then TLS with the target inside the tunnel', async () => {
    const pc = await proxyCert();
    proxy = await proxyServer({ tls: pc });
    const target = await tlsServer('two layers');
    try {
      const events: WireEvent[] = [];
      const res = await request(`https://localhost:${target.port}/s`, { proxy: proxy.href, proxyTls: { ca: pc.cert }, tls: { ca: target.cert }, onWire: (e) => events.push(e) });
      expect(res.text()).toBe('two layers');
      expect(proxy.seen.map((x) => `${x.method} ${x.target}`)).toEqual([`CONNECT localhost:${target.port}`]);
      expect(target.servernames).toEqual(['localhost']);
      expect(target.requests[0]!.toString('latin1')).toMatch(/^GET \/s HTTP\/1\.1\r\nHost: localhost:\d+\r\n/);
      // Two handshakes, the proxy's first; each with its own certificate.
      const tls = events.filter((e): e is Extract<WireEvent, { type: 'tls' }> => e.type === 'tls');
      expect(tls.map((e) => e.proxy ?? false)).toEqual([true, false]);
      expect(tls[0]!.fingerprint256).toBe(new X509Certificate(pc.cert).fingerprint256);
      expect(tls[1]!.fingerprint256).toBe(new X509Certificate(target.cert).fingerprint256);
      expect(events.findIndex((e) => e.type === 'tunnel')).toBeGreaterThan(events.indexOf(tls[0]!));
    } finally {
      await target.close();
    }
  });

  it("the proxy's certificate is checked (ERR_TLS naming the proxy) unless proxyTls says otherwise; the target's TLS options are not the proxy's", async () => {
    const pc = await proxyCert();
    proxy = await proxyServer({ tls: pc });
    const target = await httpServer((_req, res) => res.end('ok'));
    try {
      const untrusted = await failure(request(`${target.origin}/`, { proxy: proxy.href, tls: { ca: pc.cert } }));
      expect(untrusted.code).toBe('ERR_TLS');
      expect(untrusted.message).toMatch(new RegExp(`^proxy https://127\\.0\\.0\\.1:${proxy.port}: TLS handshake failed: .*self[- ]signed`));
      expect(proxy.seen).toHaveLength(0);
      expect(target.seen).toHaveLength(0);
      const insecure = await request(`${target.origin}/`, { proxy: proxy.href, proxyTls: { rejectUnauthorized: false } });
      expect(insecure.text()).toBe('ok');
      // A proxy answering plain HTTP to a TLS hello is an error too, not a hang.
      const plain = await proxyServer();
      try {
        const e = await failure(request(`${target.origin}/`, { proxy: plain.href.replace('http:', 'https:'), timeoutMs: 3000 }));
        expect(e.code).toBe('ERR_TLS');
        expect(e.message).toMatch(/^proxy https:\/\/127\.0\.0\.1:\d+: /);
      } finally {
        await plain.close();
      }
      // One that takes the connection and never answers the hello: the connect time limit.
      const silent = await serve([{ hold: true }]);
      const t0 = Date.now();
      const hung = await failure(request(`${target.origin}/`, { proxy: `https://127.0.0.1:${silent.port}`, connectTimeoutMs: 300 }));
      expect(hung.code).toBe('ERR_TIMEOUT');
      expect(hung.message).toBe(`connect to 127.0.0.1:${target.port} through proxy https://127.0.0.1:${silent.port} timed out after 300 ms`);
      expect(Date.now() - t0).toBeLessThan(2000);
      // The bytes it got were a TLS ClientHello (a handshake record), nothing in the clear.
      expect(silent.requests[0]![0]).toBe(0x16);
    } finally {
      await target.close();
    }
  });
});

describe('proxy settings', () => {
  it('an unreachable proxy is ERR_CONNECT naming the proxy, not the target', async () => {
    const p = await serve([{ end: true }]);
    const port = p.port;
    await p.close();
    const e = await failure(request('http://target.example/', { proxy: `127.0.0.1:${port}` }));
    expect(e.code).toBe('ERR_CONNECT');
    expect(e.message).toBe(`cannot connect to proxy http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('bad proxy URLs are ERR_INVALID_OPTION before any connection', async () => {
    for (const bad of ['socks6://127.0.0.1:1080', 'socks4://u:pw@127.0.0.1:1080', 'ftp://proxy.example', 'https://proxy.example/path', 'http://proxy.example/path', 'http://', ':::']) {
      const e = await failure(request('http://127.0.0.1:1/', { proxy: bad }));
      expect(e.code, bad).toBe('ERR_INVALID_OPTION');
    }
    // Credentials never appear in an error (it may end up in a log).
    for (const bad of ['socks4://user:hunter2@127.0.0.1:1080', 'http://user:hunter2@proxy.example/path', 'http://user:hunter2@:1', 'http://u:%zz@proxy.example']) {
      expect(() => parseProxyUrl(bad), bad).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.not.stringContaining('hunter2') }));
    }
    expect(() => parseProxyUrl('http://u:%zz@proxy.example')).toThrowError(/malformed %-escape/);
    expect(parseProxyUrl('proxy.example:3128')).toEqual({ kind: 'http', host: 'proxy.example', port: 3128, authorization: null, credentials: null, href: 'http://proxy.example:3128' });
    expect(parseProxyUrl('socks5h://me:p%40ss@tor.example')).toEqual({ kind: 'socks5h', host: 'tor.example', port: 1080, authorization: null, credentials: { user: 'me', password: 'p@ss' }, href: 'socks5h://tor.example:1080' });
    expect(parseProxyUrl('http://[::1]:8080').host).toBe('::1');
    expect(parseProxyUrl('http://proxy.example').port).toBe(80);
    expect(parseProxyUrl('https://u:p@proxy.example')).toEqual({ kind: 'https', host: 'proxy.example', port: 443, authorization: basic('u:p'), credentials: null, href: 'https://proxy.example:443' });
  });

  it('a function chooses per hop: a redirect from http to https goes through the proxy both times', async () => {
    proxy = await proxyServer();
    const target = await tlsServer('after redirect');
    const first = await serve([{ send: response('301 Moved', [['Location', `https://localhost:${target.port}/next`], ['Content-Length', 0]]) }, { end: true }]);
    try {
      const hops: string[] = [];
      const res = await request(`http://localhost:${first.port}/start`, {
        proxy: (u) => {
          hops.push(u.href);
          return proxy!.href;
        },
        tls: { ca: target.cert },
      });
      expect(res.text()).toBe('after redirect');
      expect(hops).toEqual([`http://localhost:${first.port}/start`, `https://localhost:${target.port}/next`]);
      expect(proxy.seen.map((s) => `${s.method} ${s.target}`)).toEqual([`GET http://localhost:${first.port}/start`, `CONNECT localhost:${target.port}`]);
    } finally {
      await target.close();
    }
  });

  it('proxyFromEnv reads http_proxy, https_proxy, all_proxy and no_proxy as curl does, and leaves loopback hosts direct', () => {
    const choose = proxyFromEnv({ http_proxy: 'http://h:1', HTTPS_PROXY: 'http://s:2', no_proxy: 'internal.example, .corp, 10.0.0.1,[2001:db8::1]:8080' })!;
    const at = (u: string): string | null => choose(new URL(u));
    expect(at('http://a.example/')).toBe('http://h:1');
    expect(at('https://a.example/')).toBe('http://s:2');
    expect(at('http://internal.example/')).toBeNull();
    expect(at('http://x.internal.example/')).toBeNull();
    expect(at('http://notinternal.example/')).toBe('http://h:1');
    expect(at('https://a.corp/')).toBeNull();
    expect(at('http://10.0.0.1/')).toBeNull();
    expect(at('http://10.0.0.12/')).toBe('http://h:1');
    expect(at('http://[2001:db8::1]/')).toBeNull();
    // A proxy elsewhere cannot reach this machine: loopback hosts are never sent to one from the environment.
    for (const local of ['http://localhost:8080/', 'http://app.localhost/', 'http://127.0.0.1/', 'http://127.1.2.3/', 'http://[::1]/']) expect(at(local), local).toBeNull();
    // HTTP_PROXY in capitals is not read (a CGI program gets a request's Proxy: header under that name).
    expect(proxyFromEnv({ HTTP_PROXY: 'http://evil:1' })).toBeNull();
    expect(proxyFromEnv({})).toBeNull();
    expect(proxyFromEnv({ ALL_PROXY: 'http://all:3' })!(new URL('https://a.example/'))).toBe('http://all:3');
    expect(proxyFromEnv({ https_proxy: 'http://s:2', NO_PROXY: '*' })!(new URL('https://a.example/'))).toBeNull();
    expect(() => proxyFromEnv({ https_proxy: 'ftp://s:1' })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^https_proxy in the environment: /) }));
    expect(noProxyMatches('example.com', 'EXAMPLE.com.')).toBe(true);
    expect(noProxyMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(noProxyMatches('example.com:8080', 'example.com')).toBe(true);
  });

  it('noProxyMatches takes CIDR blocks as curl does (no_proxy=10.0.0.0/8 keeps a LAN direct)', () => {
    expect(noProxyMatches('10.0.0.0/8', '10.1.2.3')).toBe(true);
    expect(noProxyMatches('a.example, 192.168.0.0/16', '192.168.7.9')).toBe(true);
    expect(noProxyMatches('10.0.0.0/8', '11.1.2.3')).toBe(false);
    expect(noProxyMatches('2001:db8::/32', '[2001:db8::5]')).toBe(true);
    expect(noProxyMatches('2001:db8::/32', '[2001:db9::5]')).toBe(false);
    expect(noProxyMatches('10.0.0.0/8', 'ten.example')).toBe(false);
    expect(noProxyMatches('10.0.0.0/8', '::ffff:10.0.0.1')).toBe(false);
    expect(noProxyMatches('10.0.0.0/99', '10.0.0.1')).toBe(false);
    expect(proxyFromEnv({ http_proxy: 'http://h:1', no_proxy: '10.0.0.0/8' })!(new URL('http://10.20.30.40/'))).toBeNull();
  });

});

describe('a SOCKS4 proxy', () => {
  it('socks4a sends the name for the proxy to resolve, socks4 an address resolved here; the user id; https tunnelled end to end', async () => {
    const socks = await socks4Server({ hosts: { 'site.test': '127.0.0.1', localhost: '127.0.0.1' } });
    const target = await tlsServer('over socks4');
    try {
      const events: WireEvent[] = [];
      const res = await request(`https://localhost:${target.port}/s`, { proxy: `socks4a://me@127.0.0.1:${socks.port}`, tls: { ca: target.cert }, onWire: (e) => events.push(e) });
      expect(res.text()).toBe('over socks4');
      expect(socks.seen4[0]).toEqual({ address: '0.0.0.1', name: 'localhost', port: target.port, userId: 'me' });
      const lines = events.flatMap((e) => new WireFormatter().format(e));
      expect(lines.filter((l) => l.includes('tunnel'))).toEqual([
        expect.stringMatching(new RegExp(`> tunnel @0 ${9 + 2 + 'localhost'.length + 1} "`)),
        expect.stringMatching(/< tunnel @0 8 "/),
        expect.stringMatching(/\* tunnel socks4 reply 90 granted$/),
      ]);
      expect(target.servernames).toEqual(['localhost']);
      // socks4: the name is looked up here; the proxy gets its IPv4 address and no name.
      const plain = await serve([{ send: response('200 OK', [['Content-Length', 2]], 'ok') }, { end: true }]);
      expect((await request(`http://localhost:${plain.port}/`, { proxy: `socks4://127.0.0.1:${socks.port}` })).text()).toBe('ok');
      expect(socks.seen4[1]).toEqual({ address: '127.0.0.1', name: null, port: plain.port, userId: '' });
      expect(plain.requests[0]!.toString('latin1')).toMatch(/^GET \/ HTTP\/1\.1\r\nHost: localhost:\d+\r\n/);
    } finally {
      await socks.close();
      await target.close();
    }
  });

  it('a refusal is ERR_PROXY with its reason; an IPv6 target or a password is refused before anything is sent', async () => {
    const socks = await socks4Server({ reply: 91 });
    try {
      const e = await failure(request('http://site.test/', { proxy: `socks4a://127.0.0.1:${socks.port}` }));
      expect(e).toMatchObject({ code: 'ERR_PROXY', message: `SOCKS proxy socks4a://127.0.0.1:${socks.port} could not connect: request rejected or failed (connecting to site.test:80)` });
      const v6 = await failure(request('http://[::1]:8080/', { proxy: `socks4://127.0.0.1:${socks.port}` }));
      expect(v6).toMatchObject({ code: 'ERR_PROXY', message: `SOCKS proxy socks4://127.0.0.1:${socks.port} speaks SOCKS4, which cannot reach the IPv6 address ::1` });
      expect(socks.seen4).toHaveLength(1);
      expect(() => parseProxyUrl('socks4://me:secret@127.0.0.1')).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: 'proxy socks4://127.0.0.1: SOCKS4 takes a user id (socks4://user@host), not a password' }));
      expect(parseProxyUrl('socks4a://proxy.example')).toMatchObject({ kind: 'socks4a', port: 1080, credentials: null });
    } finally {
      await socks.close();
    }
  });

  it('reads the reply byte by byte, and refuses a reply of the wrong version or bytes past it', async () => {
    const reply = Buffer.from([0x00, 90, 0, 0, 0, 0, 0, 0]);
    // Scripted "proxies" that answer without waiting for an HTTP request head.
    const scripted = (steps: Parameters<typeof rawServer>[0]) => rawServer(steps, { waitRequest: false });
    const split = await scripted([{ delayMs: 30 }, { bytes: reply }, { waitRequest: true }, { send: response('200 OK', [['Content-Length', 2]], 'ok') }, { end: true }]);
    const v5 = await scripted([{ delayMs: 30 }, { send: Buffer.from([0x05, 90, 0, 0, 0, 0, 0, 0]) }, { hold: true }]);
    const extra = await scripted([{ delayMs: 30 }, { send: Buffer.concat([reply, Buffer.from('HTTP/1.1 200 OK\r\n')]) }, { hold: true }]);
    try {
      expect((await request('http://127.0.0.1:9/', { proxy: `socks4://127.0.0.1:${split.port}`, timeoutMs: 5000 })).text()).toBe('ok');
      expect([...split.requests[0]!.subarray(0, 9)]).toEqual([0x04, 0x01, 0, 9, 127, 0, 0, 1, 0]);
      expect((await failure(request('http://127.0.0.1:9/', { proxy: `socks4://127.0.0.1:${v5.port}`, timeoutMs: 5000 }))).message).toMatch(/answered as SOCKS version 5, not a SOCKS4 reply/);
      expect((await failure(request('http://127.0.0.1:9/', { proxy: `socks4://127.0.0.1:${extra.port}`, timeoutMs: 5000 }))).message).toMatch(/sent 17 bytes after its reply, before the client spoke/);
    } finally {
      for (const p of [split, v5, extra]) await p.close();
    }
  });
});

describe('a SOCKS5 proxy', () => {
  it('socks5h: sends the host name for the proxy to resolve; http and https both tunnelled, requests in origin form', async () => {
    const socks = await socksServer({ hosts: { 'site.test': '127.0.0.1', localhost: '127.0.0.1' } });
    const plain = await serve([{ send: response('200 OK', [['Content-Length', 5]], 'plain') }, { end: true }]);
    const target = await tlsServer('over socks');
    try {
      const events: WireEvent[] = [];
      const res = await request(`http://site.test:${plain.port}/a?b=1`, { proxy: `socks5h://127.0.0.1:${socks.port}`, onWire: (e) => events.push(e) });
      expect(res.text()).toBe('plain');
      expect(plain.requests[0]!.toString('latin1')).toMatch(new RegExp(`^GET /a\\?b=1 HTTP/1\\.1\\r\\nHost: site\\.test:${plain.port}\\r\\n`));
      expect(plain.requests[0]!.toString('latin1')).not.toMatch(/proxy-authorization/i);
      const tls = await request(`https://localhost:${target.port}/s`, { proxy: `socks5h://127.0.0.1:${socks.port}`, tls: { ca: target.cert } });
      expect(tls.text()).toBe('over socks');
      expect(target.servernames).toEqual(['localhost']);
      expect(socks.seen).toEqual([
        { atyp: 3, host: 'site.test', port: plain.port, user: null },
        { atyp: 3, host: 'localhost', port: target.port, user: null },
      ]);
      const lines = events.flatMap((e) => new WireFormatter().format(e));
      expect(lines.find((l) => l.includes('* open'))).toMatch(new RegExp(`proxy=socks5h://127\\.0\\.0\\.1:${socks.port}$`));
      // Greeting (no authentication) and CONNECT to the name (ATYP 3, length 9), then the replies.
      expect(lines.filter((l) => l.includes(' tunnel '))).toEqual([
        expect.stringMatching(/> tunnel @0 19 "\\x05\\x01\\x00\\x05\\x01\\x00\\x03\\tsite\.test.{1,8}"$/),
        expect.stringMatching(/< tunnel @0 12 "\\x05\\x00\\x05\\x00\\x00\\x01\\x7f\\x00\\x00\\x01\\x00\\x00"$/),
        expect.stringMatching(/\* tunnel socks5 reply 0 succeeded$/),
      ]);
    } finally {
      await target.close();
      await socks.close();
    }
  });

  it('socks5: resolves the name here and sends the address; user name and password (RFC 1929)', async () => {
    const socks = await socksServer({ credentials: 'me:s3cret' });
    const plain = await serve([{ send: response('200 OK', [['Content-Length', 2]], 'ok') }, { end: true }]);
    try {
      const res = await request(`http://localhost:${plain.port}/`, { proxy: `socks5://me:s3cret@127.0.0.1:${socks.port}` });
      expect(res.text()).toBe('ok');
      expect(socks.seen).toHaveLength(1);
      expect(socks.seen[0]!.user).toBe('me');
      // localhost resolved on this side: an address went to the proxy (127.0.0.1 or ::1).
      expect([1, 4]).toContain(socks.seen[0]!.atyp);
      // An IPv6 literal goes as ATYP 4; the test server listens on IPv4 only, so the proxy's
      // connection is refused, and that is what the error says.
      const ipv6 = await failure(request(`http://[::1]:${plain.port}/`, { proxy: `socks5://me:s3cret@127.0.0.1:${socks.port}` }));
      expect(socks.seen[1]).toMatchObject({ atyp: 4, host: '0:0:0:0:0:0:0:1', port: plain.port });
      expect(ipv6.message).toMatch(/could not connect: connection refused \(connecting to ::1:\d+\)$/);
    } finally {
      await socks.close();
    }
  });

  it('socks5 and socks4 resolve names here as `resolve` (--resolve) says, without a lookup', async () => {
    const socks = await socksServer();
    const socks4 = await socks4Server();
    const plain = await serve([{ send: response('200 OK', [['Content-Length', 2]], 'ok') }, { end: true }]);
    try {
      const resolve = { [`only-pinned.test:${plain.port}`]: '127.0.0.1' };
      expect((await request(`http://only-pinned.test:${plain.port}/`, { proxy: `socks5://127.0.0.1:${socks.port}`, resolve })).text()).toBe('ok');
      expect(socks.seen[0]).toMatchObject({ atyp: 1, host: '127.0.0.1', port: plain.port });
      expect((await request(`http://only-pinned.test:${plain.port}/`, { proxy: `socks4://127.0.0.1:${socks4.port}`, resolve })).text()).toBe('ok');
      expect(socks4.seen4[0]).toEqual({ address: '127.0.0.1', name: null, port: plain.port, userId: '' });
    } finally {
      await socks.close();
      await socks4.close();
    }
  });

  it('reads the SOCKS5 replies byte by byte, whatever address type they bind, and sends exactly the RFC 1928 bytes', async () => {
    const ok = response('200 OK', [['Content-Length', 2]], 'ok');
    // A scripted "proxy" that plays the replies a byte at a time, then answers as the target.
    const p = await rawServer(
      [{ delayMs: 30 }, { bytes: '\x05\x00' }, { delayMs: 30 }, { bytes: '\x05\x00\x00\x03\x04abcd\x00\x50' }, { waitRequest: true }, { send: ok }, { end: true }],
      { waitRequest: false },
    );
    try {
      const res = await request('http://site.test:8080/x', { proxy: `socks5h://127.0.0.1:${p.port}`, timeoutMs: 5000 });
      expect(res.text()).toBe('ok');
      expect(p.requests[0]!.toString('latin1')).toMatch(/^\x05\x01\x00\x05\x01\x00\x03\x09site\.test\x1f\x90GET \/x HTTP\/1\.1\r\nHost: site\.test:8080\r\n/);
    } finally {
      await p.close();
    }
  });

  it('refusals are ERR_PROXY with the reason: wrong password, no credentials, a CONNECT refused', async () => {
    const auth = await socksServer({ credentials: 'me:s3cret' });
    const refusing = await socksServer({ reply: 5 });
    try {
      const wrong = await failure(request('http://site.test/', { proxy: `socks5h://me:nope@127.0.0.1:${auth.port}` }));
      expect(wrong.code).toBe('ERR_PROXY');
      expect(wrong.message).toBe(`SOCKS proxy socks5h://127.0.0.1:${auth.port} refused the user name and password (connecting to site.test:80)`);
      const none = await failure(request('http://site.test/', { proxy: `socks5h://127.0.0.1:${auth.port}` }));
      expect(none.message).toMatch(/accepts none of the offered ways to authenticate .*socks5:\/\/user:pass@host/);
      const refused = await failure(request('https://site.test/', { proxy: `socks5h://127.0.0.1:${refusing.port}` }));
      expect(refused.code).toBe('ERR_PROXY');
      expect(refused.message).toBe(`SOCKS proxy socks5h://127.0.0.1:${refusing.port} could not connect: connection refused (connecting to site.test:443)`);
      // A server that is not SOCKS at all.
      const http = await rawServer([{ send: 'HTTP/1.1 400 Bad Request\r\n\r\n' }, { end: true }], { waitRequest: false });
      const notSocks = await failure(request('http://site.test/', { proxy: `socks5h://127.0.0.1:${http.port}` }));
      await http.close();
      expect(notSocks.code).toBe('ERR_PROXY');
      expect(notSocks.message).toMatch(/answered as SOCKS version 72, not 5/);
    } finally {
      await auth.close();
      await refusing.close();
    }
  });
});
