import { describe, expect, it } from 'vitest';
import { NEED_DATA, ResponseParser } from '../../src/http/response-parser.js';
import { RawcrawlError } from '../../src/errors.js';
import { runCases, type Case } from '../helpers/parser-cases.js';

const OK = 'Content-Length: 2\r\n\r\nhi';

const statusLines: Case[] = [
  { name: 'HTTP/1.1 with a reason phrase', bytes: `HTTP/1.1 200 OK\r\n${OK}`, expect: { status: 200, statusText: 'OK', httpVersion: '1.1', body: 'hi', leniencies: [] } },
  { name: 'HTTP/1.0', bytes: `HTTP/1.0 200 OK\r\n${OK}`, expect: { status: 200, httpVersion: '1.0', body: 'hi' } },
  { name: 'reason phrase with spaces and obs-text', bytes: `HTTP/1.1 404 Not \xe9 Found\r\n${OK}`, expect: { status: 404, statusText: 'Not \xe9 Found' } },
  { name: 'empty reason phrase after the space', bytes: `HTTP/1.1 200 \r\n${OK}`, expect: { status: 200, statusText: '', leniencies: [] } },
  { name: 'missing reason phrase and space', bytes: `HTTP/1.1 200\r\n${OK}`, expect: { status: 200, statusText: '', leniencies: ['missing-reason-phrase'] } },
  { name: 'status 599 accepted', bytes: `HTTP/1.1 599 Odd\r\n${OK}`, expect: { status: 599, body: 'hi' } },
  { name: 'stray CRLF before the status line', bytes: `\r\nHTTP/1.1 200 OK\r\n${OK}`, expect: { status: 200, leniencies: ['empty-line-before-status'] } },
  { name: 'bare LF line ends', bytes: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nhi', expect: { status: 200, body: 'hi', leniencies: ['bare-lf', 'bare-lf', 'bare-lf'] } },
  // The offset names the first byte that cannot be part of "HTTP/1.x": the "2".
  { name: 'HTTP/2.0 rejected', bytes: `HTTP/2.0 200 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 5 } },
  { name: 'HTTP/1.x without a digit rejected', bytes: `HTTP/1.x 200 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 7 } },
  // Rejected at its first byte, with no line end and no close: such a peer may send neither.
  { name: 'another protocol, no line end, no close', bytes: 'SSH-2.0-OpenSSH_9.2', eof: false, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 0 } },
  { name: 'a TLS alert (an https port asked in plain http)', bytes: '\x15\x03\x01\x00\x02\x02\x46', eof: false, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 0 } },
  { name: 'stray CRLF, then another protocol', bytes: '\r\n<html>', eof: false, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 2 } },
  { name: 'lower-case http rejected', bytes: `http/1.1 200 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'HTTP/0.9 style body rejected', bytes: '<html>hello</html>\r\n', expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'two-digit status rejected', bytes: `HTTP/1.1 20 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'four-digit status rejected', bytes: `HTTP/1.1 2000 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'status below 100 rejected', bytes: `HTTP/1.1 099 Low\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'non-digit status rejected', bytes: `HTTP/1.1 2x0 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'two spaces after the version rejected', bytes: `HTTP/1.1  200 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'tab instead of space rejected', bytes: `HTTP/1.1\t200 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'NUL in the reason phrase rejected', bytes: `HTTP/1.1 200 O\x00K\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  // RFC 9112 §2.2: a bare CR is invalid and ends no line. Rejected when the byte after it comes,
  // not when an LF does: a peer ending its lines in CR alone would never send one.
  { name: 'bare CR in the reason phrase rejected', bytes: `HTTP/1.1 200 O\rK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 14 } },
  { name: 'CR alone ending the status line, no LF ever', bytes: 'HTTP/1.1 200 OK\rContent-Length: 2\r\rhi', eof: false, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 15 } },
  { name: 'stray CR CR LF before the status line rejected', bytes: `\r\r\nHTTP/1.1 200 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 0 } },
  { name: 'two-digit minor version rejected', bytes: `HTTP/1.10 200 OK\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'status line cut after the version', bytes: `HTTP/1.1\r\n${OK}`, expect: { error: 'ERR_INVALID_STATUS_LINE', offset: 0 } },
  // RFC 9110 §15 has 100..599; Fetch (status: 0 to 999), browsers and llhttp take any three digits.
  { name: 'status 999 accepted', bytes: `HTTP/1.1 999 Odd\r\n${OK}`, expect: { status: 999, body: 'hi' } },
  { name: 'empty input then close', bytes: '', eof: true, expect: { error: 'ERR_PREMATURE_CLOSE', offset: 0 } },
  { name: 'close inside the status line', bytes: 'HTTP/1.1 20', eof: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
];

const headerFields: Case[] = [
  {
    name: 'names keep their case, OWS is trimmed, empty values kept',
    bytes: 'HTTP/1.1 200 OK\r\nX-A:   spaced  \t\r\nx-b:tight\r\nX-Empty:\r\nX-Tab:\tv\r\nContent-Length: 0\r\n\r\n',
    expect: { headers: [['X-A', 'spaced'], ['x-b', 'tight'], ['X-Empty', ''], ['X-Tab', 'v'], ['Content-Length', '0']], body: '', framing: 'none', leniencies: [] },
  },
  {
    name: 'duplicate fields kept in wire order',
    bytes: 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n',
    expect: { headers: [['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Length', '0']] },
  },
  {
    name: 'value with inner colons and obs-text kept as latin1',
    bytes: 'HTTP/1.1 200 OK\r\nLocation: http://x:8/\xe9\r\nContent-Length: 0\r\n\r\n',
    expect: { headers: [['Location', 'http://x:8/\xe9'], ['Content-Length', '0']] },
  },
  {
    name: 'obs-fold joined with one space',
    bytes: 'HTTP/1.1 200 OK\r\nX-Long: one\r\n   two\r\n\tthree\r\nContent-Length: 0\r\n\r\n',
    expect: { headers: [['X-Long', 'one two three'], ['Content-Length', '0']], leniencies: ['obs-fold', 'obs-fold'] },
  },
  { name: 'obs-fold before any field rejected', bytes: 'HTTP/1.1 200 OK\r\n folded: x\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER', offset: 17 } },
  { name: 'space in a field name rejected', bytes: 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER', offset: 17 } },
  { name: 'space before the colon rejected', bytes: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi', expect: { error: 'ERR_INVALID_HEADER' } },
  { name: 'empty field name rejected', bytes: 'HTTP/1.1 200 OK\r\n: x\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER' } },
  { name: 'non-token byte in a name rejected', bytes: 'HTTP/1.1 200 OK\r\nX(y): x\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER' } },
  { name: 'line without a colon rejected', bytes: 'HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER' } },
  { name: 'NUL in a value rejected', bytes: 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER', offset: 17 + 6 } },
  { name: 'bare CR inside a value rejected', bytes: 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER', offset: 17 + 6 } },
  { name: 'bare CR inside a name rejected', bytes: 'HTTP/1.1 200 OK\r\nX\rA: b\r\nContent-Length: 0\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER', offset: 17 + 1 } },
  { name: 'CR CR LF ending a field line rejected', bytes: 'HTTP/1.1 200 OK\r\nX-A: b\r\r\nContent-Length: 0\r\n\r\n', expect: { error: 'ERR_INVALID_HEADER', offset: 17 + 6 } },
  { name: 'CR CR LF ending the head rejected', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\r\nhi', expect: { error: 'ERR_INVALID_HEADER', offset: 36 } },
  { name: 'CR alone ending field lines, no LF ever', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\rhi', eof: false, expect: { error: 'ERR_INVALID_HEADER', offset: 34 } },
  { name: 'tab before the colon rejected', bytes: 'HTTP/1.1 200 OK\r\nContent-Length\t: 2\r\n\r\nhi', expect: { error: 'ERR_INVALID_HEADER', offset: 17 } },
  { name: 'space before the colon of Transfer-Encoding rejected', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\nContent-Length: 2\r\n\r\nhi', expect: { error: 'ERR_INVALID_HEADER', offset: 17 } },
  { name: 'close inside the headers', bytes: 'HTTP/1.1 200 OK\r\nContent-Le', eof: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
  { name: 'close before the blank line', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n', eof: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
  { name: 'head larger than maxHeaderBytes', maxHeaderBytes: 64, bytes: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(60)}\r\n\r\n`, expect: { error: 'ERR_HEADERS_TOO_LARGE' } },
  { name: 'head exactly maxHeaderBytes accepted', maxHeaderBytes: 39, bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 00\r\n\r\n', expect: { status: 200, body: '' } },
  { name: 'head one byte over maxHeaderBytes', maxHeaderBytes: 38, bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 00\r\n\r\n', expect: { error: 'ERR_HEADERS_TOO_LARGE' } },
];

const interim: Case[] = [
  { name: '100 Continue skipped', bytes: `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n${OK}`, expect: { informational: [100], status: 200, body: 'hi' } },
  {
    name: '103 Early Hints with fields, twice, then the final response',
    bytes: `HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </b.js>\r\n\r\nHTTP/1.1 200 OK\r\nX: y\r\n${OK}`,
    expect: { informational: [103, 103], status: 200, headers: [['X', 'y'], ['Content-Length', '2']], body: 'hi' },
  },
  { name: '101 Switching Protocols is unexpected', bytes: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', expect: { error: 'ERR_UNEXPECTED_RESPONSE' } },
  { name: 'close after a 100 and before the final response', bytes: 'HTTP/1.1 100 Continue\r\n\r\n', eof: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
];

const noBody: Case[] = [
  { name: 'HEAD ignores Content-Length', method: 'HEAD', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', expect: { status: 200, framing: 'none', body: '' } },
  { name: 'HEAD ignores chunked', method: 'HEAD', bytes: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', expect: { framing: 'none', body: '' } },
  { name: 'HEAD without framing fields does not read to close', method: 'HEAD', bytes: 'HTTP/1.1 200 OK\r\nX: y\r\n\r\n', expect: { framing: 'none', body: '' } },
  { name: '204 ignores Content-Length', bytes: 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n', expect: { status: 204, framing: 'none', body: '' } },
  { name: '304 ignores Transfer-Encoding', bytes: 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n', expect: { status: 304, framing: 'none', body: '' } },
  { name: '204 without any fields', bytes: 'HTTP/1.1 204 No Content\r\n\r\n', expect: { status: 204, framing: 'none' } },
  { name: 'Content-Length: 0', bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', expect: { status: 200, framing: 'none', body: '' } },
];

runCases('status line (RFC 9112 §4)', statusLines);
runCases('header fields (RFC 9112 §5)', headerFields);
runCases('interim responses (RFC 9110 §15.2)', interim);
runCases('responses without a body (RFC 9112 §6.3 (1))', noBody);

describe('error messages quote at most 64 characters of what the server sent', () => {
  const long = 'x'.repeat(60_000);
  it.each([
    ['a header name that is not a token', `X ${long}: 1\r\n\r\n`, 'ERR_INVALID_HEADER'],
    ['a Transfer-Encoding applying chunked twice', `Transfer-Encoding: chunked, ${long}, chunked\r\n\r\n`, 'ERR_INVALID_TRANSFER_ENCODING'],
    ['a Transfer-Encoding with chunked before another coding', `Transfer-Encoding: chunked, ${long}\r\n\r\n`, 'ERR_INVALID_TRANSFER_ENCODING'],
    ['a Content-Length that is no number', `Content-Length: 1, ${long}\r\n\r\n`, 'ERR_INVALID_CONTENT_LENGTH'],
    ['a Content-Length of 60,000 digits', `Content-Length: 1${'0'.repeat(60_000)}\r\n\r\n`, 'ERR_INVALID_CONTENT_LENGTH'],
    ['Content-Length values that conflict', `Content-Length: 1, 2${'0'.repeat(60_000)}\r\n\r\n`, 'ERR_INVALID_CONTENT_LENGTH'],
  ])('%s', (_, fields, code) => {
    const p = new ResponseParser({ maxHeaderBytes: 128 * 1024 });
    p.feed(Buffer.from(`HTTP/1.1 200 OK\r\n${fields}`, 'latin1'));
    let err: unknown;
    try {
      p.next();
      p.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RawcrawlError);
    expect((err as RawcrawlError).code).toBe(code);
    expect((err as RawcrawlError).message.length).toBeLessThan(200);
  });
});

describe('maxHeaderBytes is enforced as bytes arrive', () => {
  it('fails as soon as the limit is passed, with no line end in sight', () => {
    const p = new ResponseParser({ maxHeaderBytes: 100 });
    p.feed(Buffer.from('HTTP/1.1 200 OK\r\nX-Endless: '));
    expect(p.next()).toBe(NEED_DATA);
    p.feed(Buffer.alloc(100 - 28, 0x61));
    expect(p.next()).toBe(NEED_DATA);
    p.feed(Buffer.from('a'));
    let err: unknown;
    try {
      p.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RawcrawlError);
    expect((err as RawcrawlError).code).toBe('ERR_HEADERS_TOO_LARGE');
  });

  it('names what a status line that cannot be HTTP/1.x started with, the same however it was split', () => {
    const message = (bytes: string, split: number): string => {
      const p = new ResponseParser();
      const b = Buffer.from(bytes, 'latin1');
      try {
        for (let at = 0; at < b.length; at += split) {
          p.feed(b.subarray(at, at + split));
          if (p.next() !== NEED_DATA) return 'no error';
        }
      } catch (e) {
        return (e as RawcrawlError).message;
      }
      return 'no error';
    };
    for (const split of [1, 3, 100]) {
      expect(message('\x16\x03\x01\x02\x00\x01', split)).toBe('the response starts with byte 0x16, as a TLS record does: is it an https:// port?');
      expect(message('HTTP/2 200\r\n', split)).toBe('not an HTTP/1.x status line: starts "HTTP/2"');
      expect(message('SSH-2.0-OpenSSH_9.2\r\n', split)).toBe('not an HTTP/1.x status line: starts "S"');
    }
  });

  it('says what a status line too short for its status code lacks', () => {
    const message = (bytes: string): string => {
      const p = new ResponseParser();
      p.feed(Buffer.from(bytes, 'latin1'));
      try {
        p.next();
      } catch (e) {
        return (e as RawcrawlError).message;
      }
      return 'no error';
    };
    expect(message('HTTP/1.1\r\n\r\n')).toBe('no space after the HTTP version: "HTTP/1.1"');
    expect(message('HTTP/1.1 \r\n\r\n')).toBe('status code is not three digits: "HTTP/1.1 "');
    expect(message('HTTP/1.1 20\r\n\r\n')).toBe('status code is not three digits: "HTTP/1.1 20"');
    expect(message('HTTP/1.1 200 O\rK\r\n\r\n')).toBe('bare CR (not followed by LF) in the status line');
  });

  it('fails on an endless status line fed byte by byte', () => {
    const p = new ResponseParser({ maxHeaderBytes: 50 });
    let fed = 0;
    let code = '';
    const start = Buffer.from('HTTP/1.1 200 ');
    try {
      for (;;) {
        p.feed(fed < start.length ? start.subarray(fed, fed + 1) : Buffer.from('x'));
        fed++;
        p.next();
        if (fed > 1000) break;
      }
    } catch (e) {
      code = (e as RawcrawlError).code;
    }
    expect(code).toBe('ERR_HEADERS_TOO_LARGE');
    expect(fed).toBe(51);
  });

  it('counts every interim head toward its own limit, not the sum', () => {
    const early = `HTTP/1.1 103 Early Hints\r\nLink: <${'a'.repeat(30)}>\r\n\r\n`;
    const p = new ResponseParser({ maxHeaderBytes: early.length + 1 });
    p.feed(Buffer.from(early + early + `HTTP/1.1 200 OK\r\n${OK}`));
    const types: string[] = [];
    for (let ev = p.next(); typeof ev === 'object'; ev = p.next()) types.push(ev.type);
    expect(types).toEqual(['informational', 'informational', 'head', 'data', 'end']);
  });
});

describe('segments', () => {
  it('reports every consumed byte exactly once, in order, labelled', () => {
    const wire = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n');
    const segs: Array<[string, string, number]> = [];
    const p = new ResponseParser({ onSegment: (kind, bytes, offset) => segs.push([kind, bytes.toString('latin1'), offset]) });
    for (const b of wire) {
      p.feed(Buffer.from([b]));
      while (typeof p.next() === 'object');
    }
    expect(p.done).toBe(true);
    expect(segs.map((s) => s[1]).join('')).toBe(wire.toString('latin1'));
    let at = 0;
    for (const [, text, offset] of segs) {
      expect(offset).toBe(at);
      at += text.length;
    }
    const kinds = segs.map(([k, t]) => `${k}:${t}`);
    expect(kinds).toEqual([
      'head:HTTP/1.1 200 OK\r\n', 'head:Transfer-Encoding: chunked\r\n', 'head:\r\n',
      'framing:3;x=y\r\n', 'body:a', 'body:b', 'body:c', 'framing:\r\n', 'framing:0\r\n', 'trailer:T: 1\r\n', 'trailer:\r\n',
    ]);
  });
});
