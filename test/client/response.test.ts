import { describe, expect, it } from 'vitest';
import { request } from '../../src/client/request.js';
import { rawServer, response, type RawServer, type Step } from '../helpers/raw-server.js';
import { httpServer } from '../helpers/http-server.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

const track = closeAfterEach();
async function serve(steps: Step[]): Promise<RawServer> {
  const s = await rawServer(steps);
  track(s);
  return s;
}
async function fetchBody(contentType: string | null, body: Buffer): Promise<{ text: string; encoding: string }> {
  const headers: Array<[string, string | number]> = [['Content-Length', body.length]];
  if (contentType) headers.push(['Content-Type', contentType]);
  const s = await serve([{ send: response('200 OK', headers, body) }, { end: true }]);
  const res = await request(`${s.origin}/`);
  return { text: res.text(), encoding: res.encoding };
}
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s/g, ''), 'hex');
const html = (meta: string, bytes: Buffer): Buffer => Buffer.concat([Buffer.from(`<html><head>${meta}</head><body>`), bytes, Buffer.from('</body></html>')]);
const inBody = (t: string): string => t.replace(/^.*<body>/s, '').replace(/<\/body>.*$/s, '');

// 中文 in GBK and Big5, 日本語 in Shift_JIS, "café €" in windows-1252.
const GBK = hex('d6d0 cec4');
const BIG5 = hex('a4a4 a4e5');
const SJIS = hex('93fa 967b 8cea');
const CP1252 = hex('63 61 66 e9 20 80');

describe('text() decodes by the real charset', () => {
  it.each([
    ['GBK', 'text/html; charset=GBK', GBK, '中文'],
    ['gb2312 label (decoded as GBK)', 'text/html; charset="gb2312"', GBK, '中文'],
    ['Big5', 'text/html;charset=big5', BIG5, '中文'],
    ['Shift_JIS', 'text/html; charset=Shift_JIS', SJIS, '日本語'],
    ['windows-1252', 'text/html; charset=windows-1252', CP1252, 'café €'],
    ['iso-8859-1 label (decoded as windows-1252)', 'text/plain; charset=ISO-8859-1', CP1252, 'café €'],
  ])('%s from the Content-Type charset', async (_, ct, bytes, expected) => {
    const { text } = await fetchBody(ct, bytes);
    expect(text).toBe(expected);
  });

  it.each([
    ['GBK', '<meta charset="gbk">', GBK, '中文', 'GBK'],
    ['Big5', '<meta http-equiv="Content-Type" content="text/html; charset=big5">', BIG5, '中文', 'Big5'],
    ['Shift_JIS', "<meta charset='shift_jis'>", SJIS, '日本語', 'Shift_JIS'],
    ['windows-1252', '<meta charset=windows-1252>', CP1252, 'café €', 'windows-1252'],
  ])('%s from <meta> when the header has no charset', async (_, meta, bytes, expected, encoding) => {
    const res = await fetchBody('text/html', html(meta, bytes));
    expect(inBody(res.text)).toBe(expected);
    expect(res.encoding).toBe(encoding);
  });

  it('a BOM beats the header charset', async () => {
    const { text, encoding } = await fetchBody('text/html; charset=iso-8859-1', Buffer.concat([hex('efbbbf'), Buffer.from('naïve')]));
    expect(text).toBe('naïve');
    expect(encoding).toBe('UTF-8');
  });

  it('a UTF-16LE BOM is honoured without any header', async () => {
    const { text } = await fetchBody(null, Buffer.concat([hex('fffe'), Buffer.from('hi ☃', 'utf16le')]));
    expect(text).toBe('hi ☃');
  });

  it('the header charset beats <meta>', async () => {
    const res = await fetchBody('text/html; charset=gbk', html('<meta charset="big5">', GBK));
    expect(inBody(res.text)).toBe('中文');
  });

  it('falls back to windows-1252 with no BOM, charset or meta, when the bytes are not UTF-8', async () => {
    const { text, encoding } = await fetchBody('text/html', CP1252);
    expect([text, encoding]).toEqual(['café €', 'windows-1252']);
  });

  it('decodes a body labelled with a "replacement" encoding (ISO-2022-KR, HZ-GB-2312, …) as one U+FFFD, as WHATWG does, instead of throwing', async () => {
    for (const [ct, body] of [['text/html; charset=iso-2022-kr', '<title>a</title>'], ['text/html', '<meta charset="hz-gb-2312"><title>a</title>']] as const) {
      const { text, encoding } = await fetchBody(ct, Buffer.from(body));
      expect([text, encoding], ct).toEqual(['\ufffd', 'replacement']);
    }
  });

  it('reads a page that does not say its charset as UTF-8 when its bytes are valid UTF-8 (as browsers and Scrapy do)', async () => {
    const utf8 = Buffer.from('<title>日本語のタイトル Café</title>', 'utf8');
    for (const contentType of ['text/html', 'text/html; charset=x-bogus-42', null]) {
      const { text, encoding } = await fetchBody(contentType, utf8);
      expect([text, encoding], String(contentType)).toEqual(['<title>日本語のタイトル Café</title>', 'UTF-8']);
    }
    // A page that does say its charset is read by it, UTF-8 or not.
    const declared = await fetchBody('text/html; charset=windows-1252', utf8);
    expect([declared.text.slice(0, 12), declared.encoding]).toEqual(['<title>æ—¥æœ', 'windows-1252']);
  });
});

describe('headers, cookies and trailers', () => {
  it('headers are case-insensitive, Set-Cookie kept apart, rawHeaders in wire order', async () => {
    const s = await serve([
      { send: 'HTTP/1.1 200 OK\r\nset-cookie: a=1; Path=/\r\nX-Multi: 1\r\nSet-Cookie: b=2, c=3; Expires=Wed, 21 Oct 2015 07:28:00 GMT\r\nx-multi: 2\r\nContent-Length: 0\r\n\r\n' },
      { hold: true },
    ]);
    const res = await request(`${s.origin}/`);
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2, c=3; Expires=Wed, 21 Oct 2015 07:28:00 GMT']);
    expect(res.headers.get('X-MULTI')).toBe('1, 2');
    expect(res.rawHeaders.map(([n]) => n)).toEqual(['set-cookie', 'X-Multi', 'Set-Cookie', 'x-multi', 'Content-Length']);
    // header() reads rawHeaders and gives what headers.get() gives, for every name and case.
    for (const name of ['X-MULTI', 'x-multi', 'Set-Cookie', 'content-length', 'Content-Type', 'x-absent']) {
      expect(res.header(name)).toBe(res.headers.get(name));
    }
    expect(res.header('x-Multi')).toBe('1, 2');
    expect(res.header('x-absent')).toBeNull();
  });

  it('trailers of a chunked response are a Headers object', async () => {
    const s = await serve([
      { send: 'HTTP/1.1 200 OK\r\nTrailer: X-Digest\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX-Digest: sha-256=abc\r\nX-Other: 1\r\n\r\n' },
      { hold: true },
    ]);
    const res = await request(`${s.origin}/`);
    expect(res.text()).toBe('body');
    expect(res.trailers.get('x-digest')).toBe('sha-256=abc');
    expect(res.rawTrailers).toEqual([['X-Digest', 'sha-256=abc'], ['X-Other', '1']]);
    expect(res.headers.get('x-digest')).toBeNull();
  });

  it('statusText, httpVersion and leniencies are reported', async () => {
    const s = await serve([{ send: 'HTTP/1.0 404\nContent-Length: 2\n\nno' }, { hold: true }]);
    const res = await request(`${s.origin}/`);
    expect([res.status, res.statusText, res.httpVersion]).toEqual([404, '', '1.0']);
    expect(res.leniencies.map((l) => l.kind)).toEqual(['bare-lf', 'missing-reason-phrase', 'bare-lf', 'bare-lf']);
  });

  it('json() parses the body', async () => {
    const http = await httpServer((_req, res) => res.setHeader('Content-Type', 'application/json; charset=utf-8').end('{"a":[1,"é"]}'));
    track(http);
    expect((await request(`${http.origin}/`)).json()).toEqual({ a: [1, 'é'] });
  });
});

describe('timings', () => {
  it('are monotonic: dns <= connect <= tls <= firstByte <= total', async () => {
    const s = await serve([{ delayMs: 30 }, { send: 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab' }, { delayMs: 30 }, { send: 'cd' }, { hold: true }]);
    const { timings: t } = await request(`${s.origin}/`);
    expect(t.dns).toBe(0);
    expect(t.connect).toBeGreaterThan(0);
    expect(t.tls).toBe(t.connect);
    expect(t.firstByte).toBeGreaterThanOrEqual(t.tls + 25);
    expect(t.total).toBeGreaterThanOrEqual(t.firstByte + 25);
  });

  it('dns is measured for a name', async () => {
    const s = await serve([{ send: 'HTTP/1.1 204 No Content\r\n\r\n' }, { hold: true }]);
    const { timings: t } = await request(`http://localhost:${s.port}/`);
    expect(t.dns).toBeGreaterThan(0);
    expect(t.dns).toBeLessThanOrEqual(t.connect);
    expect(t.firstByte).toBeLessThanOrEqual(t.total);
  });
});
