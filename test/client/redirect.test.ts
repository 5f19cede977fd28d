import { describe, expect, it } from 'vitest';
import { request } from '../../src/client/request.js';
import { decideRedirect } from '../../src/client/redirect.js';

import { httpServer, type HttpServer } from '../helpers/http-server.js';
import { failure } from '../helpers/failure.js';
import type { WireEvent } from '../../src/wire/events.js';
import { closeAfterEach } from '../helpers/close-after-each.js';
import { rawServers } from '../helpers/raw-server.js';

const track = closeAfterEach();
const serveRaw = rawServers();
async function serve(handler: Parameters<typeof httpServer>[0]): Promise<HttpServer> {
  const s = await httpServer(handler);
  track(s);
  return s;
}

describe('redirects', () => {
  it.each([301, 302, 303, 307, 308])('%i with a relative Location is followed as GET', async (status) => {
    const s = await serve((req, res) => {
      if (req.url === '/start?x=1') {
        res.writeHead(status, { Location: '../dest/here?y=2' }).end('moved');
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`at ${req.url}`);
      }
    });
    const res = await request(`${s.origin}/start?x=1`);
    expect(res.status).toBe(200);
    expect(res.text()).toBe('at /dest/here?y=2');
    expect(res.url).toBe(`${s.origin}/dest/here?y=2`);
    expect(res.redirects).toEqual([{ url: `${s.origin}/start?x=1`, status, location: '../dest/here?y=2' }]);
    expect(s.seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /start?x=1', 'GET /dest/here?y=2']);
  });

  it('follows a chain across two origins and drops credentials on the cross-origin hop', async () => {
    const b = await serve((_req, res) => res.end('b'));
    const a = await serve((req, res) => {
      if (req.url === '/1') res.writeHead(302, { Location: '/2' }).end();
      else res.writeHead(301, { Location: `${b.origin}/final` }).end();
    });
    const res = await request(`${a.origin}/1`, { headers: { Cookie: 'secret=1', Authorization: 'Bearer x', 'X-Keep': 'k' } });
    expect(res.text()).toBe('b');
    expect(res.redirects.map((r) => r.status)).toEqual([302, 301]);
    expect(a.seen[1]!.rawHeaders).toContain('Cookie');
    const bHeaders = b.seen[0]!.rawHeaders.map((h) => h.toLowerCase());
    expect(bHeaders).not.toContain('cookie');
    expect(bHeaders).not.toContain('authorization');
    expect(bHeaders).toContain('x-keep');
  });

  it('credentials in the URL are Basic Authorization for its origin only, and appear in no URL rawcrawl reports', async () => {
    const b = await serve((req, res) => res.end(`b ${req.headers.authorization ?? 'none'}`));
    const a = await serve((req, res) => {
      if (req.url === '/1') res.writeHead(302, { Location: '/2' }).end();
      else res.writeHead(301, { Location: `${b.origin}/final` }).end();
    });
    const events: WireEvent[] = [];
    const withCreds = `http://us%40er:p%3Ass%C3%A9@${a.origin.slice('http://'.length)}/1`;
    const res = await request(withCreds, { onWire: (e) => events.push(e) });
    const basic = `Basic ${Buffer.from('us@er:p:ssé', 'utf8').toString('base64')}`;
    // Both requests to the URL's origin carry them; the other origin gets none.
    expect(a.seen.map((r) => r.rawHeaders[r.rawHeaders.findIndex((h) => h === 'Authorization') + 1])).toEqual([basic, basic]);
    expect(res.text()).toBe('b none');
    expect(res.redirects.map((r) => r.url)).toEqual([`${a.origin}/1`, `${a.origin}/2`]);
    expect(res.url).toBe(`${b.origin}/final`);
    expect(JSON.stringify(events.filter((e) => e.type === 'open'))).not.toMatch(/us%40er|p%3Ass/);
    // A caller's Authorization wins over the URL's: one field, the caller's.
    const own = await request(withCreds.replace('/1', '/2'), { headers: { Authorization: 'Bearer t' }, maxRedirects: 0 });
    expect(own.status).toBe(301);
    expect(a.seen[2]!.rawHeaders.filter((h) => h.toLowerCase() === 'authorization')).toHaveLength(1);
    expect(a.seen[2]!.rawHeaders).toContain('Bearer t');
    // Errors name the URL without them; a malformed %-escape in them is ERR_INVALID_URL.
    const refused = await failure(request(`http://me:hunter2@127.0.0.1:1/x`));
    expect(refused.url).toBe('http://127.0.0.1:1/x');
    expect(`${refused.message} ${refused.url}`).not.toContain('hunter2');
    const bad = await failure(request(`http://me:hunter2%zz@127.0.0.1:1/`));
    expect(bad).toMatchObject({ code: 'ERR_INVALID_URL', message: 'http://127.0.0.1:1/: its user name or password holds a malformed %-escape' });
    expect((await failure(request('ftp://me:hunter2@127.0.0.1/'))).message).toBe('scheme ftp is not http or https: ftp://127.0.0.1/');
  });

  it('HEAD stays HEAD across a redirect', async () => {
    const s = await serve((req, res) => (req.url === '/a' ? res.writeHead(307, { Location: '/b' }).end() : res.end('body')));
    const res = await request(`${s.origin}/a`, { method: 'HEAD' });
    expect(res.body.length).toBe(0);
    expect(s.seen.map((r) => r.method)).toEqual(['HEAD', 'HEAD']);
  });

  it('ERR_TOO_MANY_REDIRECTS names a 60 KB Location in a message of a few hundred characters', async () => {
    const s = await serveRaw([{ send: `HTTP/1.1 302 Found\r\nLocation: /${'a'.repeat(60_000)}\r\nContent-Length: 0\r\n\r\n` }, { hold: true }]);
    const e = await failure(request(`${s.origin}/`, { maxRedirects: 2 }));
    expect(e.code).toBe('ERR_TOO_MANY_REDIRECTS');
    expect(e.message).toMatch(/^more than 2 redirects \(last: 302 to http:\/\/127\.0\.0\.1:\d+\/aaa+…\)$/);
    expect(e.message.length).toBeLessThan(300);
  });

  it('a loop fails with ERR_TOO_MANY_REDIRECTS after maxRedirects hops', async () => {
    const s = await serve((req, res) => res.writeHead(302, { Location: req.url === '/a' ? '/b' : '/a' }).end());
    const e = await failure(request(`${s.origin}/a`, { maxRedirects: 3 }));
    expect(e.code).toBe('ERR_TOO_MANY_REDIRECTS');
    expect(e.message).toBe(`more than 3 redirects (last: 302 to ${s.origin}/a)`);
    expect(s.seen).toHaveLength(4);
    expect((await failure(request(`${s.origin}/a`, { maxRedirects: 1 }))).message).toBe(`more than 1 redirect (last: 302 to ${s.origin}/a)`);
  });

  it('the default limit is 5 redirects', async () => {
    const s = await serve((req, res) => res.writeHead(301, { Location: `/n${Number(req.url!.slice(2)) + 1}` }).end());
    expect((await failure(request(`${s.origin}/n0`))).code).toBe('ERR_TOO_MANY_REDIRECTS');
    expect(s.seen).toHaveLength(6);
  });

  it('exactly maxRedirects hops succeed', async () => {
    const s = await serve((req, res) => {
      const n = Number(req.url!.slice(2));
      if (n < 2) res.writeHead(308, { Location: `/n${n + 1}` }).end();
      else res.end('done');
    });
    const res = await request(`${s.origin}/n0`, { maxRedirects: 2 });
    expect(res.text()).toBe('done');
    expect(res.redirects).toHaveLength(2);
  });

  it('maxRedirects: 0 returns the 3xx itself', async () => {
    const s = await serve((_req, res) => res.writeHead(301, { Location: '/x' }).end('moved'));
    const res = await request(`${s.origin}/`, { maxRedirects: 0 });
    expect(res.status).toBe(301);
    expect(res.text()).toBe('moved');
    expect(s.seen).toHaveLength(1);
  });

  it.each(['ftp://example.com/file', 'javascript:alert(1)', 'mailto:a@b.c', 'file:///etc/passwd'])('a %s Location is not followed', async (loc) => {
    const s = await serve((_req, res) => res.writeHead(302, { Location: loc }).end());
    const res = await request(`${s.origin}/`);
    expect(res.status).toBe(302);
    expect(res.redirects).toHaveLength(0);
    expect(s.seen).toHaveLength(1);
  });

  it('a 3xx without Location is returned as is', async () => {
    const s = await serve((_req, res) => res.writeHead(302).end('no location'));
    const res = await request(`${s.origin}/`);
    expect(res.status).toBe(302);
  });
});

describe('decideRedirect', () => {
  const here = new URL('http://example.com/a/b?q#frag');
  it('resolves relative Locations and keeps the fragment when the Location has none', () => {
    const d = decideRedirect(301, 'c', here, 'GET', 5);
    expect(d).toMatchObject({ follow: true, method: 'GET', crossOrigin: false });
    expect(d.follow && d.url.href).toBe('http://example.com/a/c#frag');
  });
  it('reads a raw UTF-8 Location as UTF-8', () => {
    const d = decideRedirect(302, Buffer.from('/ü', 'utf8').toString('latin1'), here, 'GET', 5);
    expect(d.follow && d.url.pathname).toBe('/%C3%BC');
  });
  it('does not follow non-redirect statuses', () => {
    for (const s of [200, 300, 304, 305, 306, 404]) expect(decideRedirect(s, '/x', here, 'GET', 5).follow).toBe(false);
  });
  it('marks a scheme or port change as cross-origin', () => {
    expect(decideRedirect(301, 'https://example.com/', here, 'GET', 5)).toMatchObject({ crossOrigin: true });
    expect(decideRedirect(301, '//example.com:81/', here, 'GET', 5)).toMatchObject({ crossOrigin: true });
  });
});
