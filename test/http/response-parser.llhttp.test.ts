import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse, ParseError, type Parsed } from '../helpers/parser-cases.js';
import { buildRequestHead, validateHeaders } from '../../src/http/request-writer.js';

/**
 * Differential test against llhttp, the parser inside Node's own http module, on generated
 * responses full of the framing variants that make parsers disagree: Content-Length and
 * Transfer-Encoding spellings, lists and duplicates, chunk sizes with extensions and white
 * space, wrong chunk lengths, missing or bare-LF line ends, no-body statuses, bytes after the
 * end. Where both parsers accept a response they must agree on status, fields and body; every
 * other difference must be one this parser means to have, each named below with its reason.
 */

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): undefined | Error;
  [key: number]: unknown;
}
interface LlhttpModule {
  HTTPParser: {
    new (): LlhttpParser;
    RESPONSE: number;
    REQUEST: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
  };
}

const { HTTPParser } = createRequire(import.meta.url)('_http_common') as LlhttpModule;

type Outcome = { ok: true; status: number; headers: string[]; body: string } | { ok: false; code: string };

/** llhttp over the whole response, then EOF, as Node's http client drives it (strict mode). */
function llhttp(bytes: Buffer): Outcome {
  const p = new HTTPParser();
  p.initialize(HTTPParser.RESPONSE, {}, 64 * 1024, 0);
  const heads: Array<{ status: number; headers: string[] }> = [];
  const body: Buffer[] = [];
  let flushed: string[] = [];
  let complete = 0;
  p[HTTPParser.kOnHeaders] = (h: string[]): void => {
    flushed.push(...h);
  };
  p[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, h: string[] | undefined, _m: unknown, _u: unknown, status: number): number => {
    heads.push({ status, headers: [...flushed, ...(h ?? [])] });
    flushed = [];
    return 0;
  };
  p[HTTPParser.kOnBody] = (b: Buffer): void => {
    // Only the first message counts: this parser reads one response per connection.
    if (complete === 0) body.push(Buffer.from(b));
  };
  p[HTTPParser.kOnMessageComplete] = (): void => {
    complete++;
  };
  // An error after the first message is about the bytes after it, which a client reading one
  // response per connection (Connection: close) does not parse: the first message stands.
  const r = p.execute(bytes);
  if (r instanceof Error && complete === 0) return { ok: false, code: (r as Error & { code: string }).code };
  const f = r instanceof Error ? undefined : p.finish();
  if (f instanceof Error && complete === 0) return { ok: false, code: (f as Error & { code: string }).code };
  if (complete === 0) return { ok: false, code: 'INCOMPLETE' };
  return { ok: true, status: heads[0]!.status, headers: heads[0]!.headers, body: Buffer.concat(body).toString('latin1') };
}

function ours(bytes: Buffer): { outcome: Outcome; parsed: Parsed | null } {
  try {
    const parsed = parse([bytes], { eof: true });
    return { outcome: { ok: true, status: parsed.status, headers: parsed.headers.flat(), body: parsed.body }, parsed };
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    return { outcome: { ok: false, code: err.error.code }, parsed: null };
  }
}

// ---- the generator ----

const eol = fc.constantFrom('\r\n', '\r\n', '\r\n', '\r\n', '\n');
const statusLine = fc.constantFrom(
  'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.0 200 OK', 'HTTP/1.1 404 Not Found', 'HTTP/1.1 200', 'HTTP/1.1 200 ',
  'HTTP/1.1 204 No Content', 'HTTP/1.1 304 Not Modified', 'HTTP/1.2 200 OK', 'HTTP/1.1 206 Partial',
);
const field = fc.constantFrom(
  'Content-Length: 5', 'Content-Length: 5', 'Content-Length: 3', 'Content-Length:5', 'Content-Length: 5 ', 'Content-Length: 5\t',
  'content-length: 5', 'Content-Length: 05', 'Content-Length: +5', 'Content-Length: 5, 5', 'Content-Length: 5,5', 'Content-Length: 5, 3',
  'Content-Length: ', 'Content-Length: 0x5', 'Content-Length: -1', 'Content-Length: 99999999999999999999', 'Content-Length : 5',
  'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked', 'transfer-encoding: chunked', 'Transfer-Encoding: Chunked',
  'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, gzip', 'Transfer-Encoding: gzip', 'Transfer-Encoding: identity',
  'Transfer-Encoding: chunked ', 'Transfer-Encoding:\tchunked', 'Transfer-Encoding: xchunked', 'Transfer-Encoding: chunkedx',
  'Transfer-Encoding: "chunked"', 'Transfer-Encoding:', 'Transfer-Encoding: chunked\xa0', 'Transfer-Encoding: \x0bchunked', 'Content-Length: 5\x0b', 'Content-Length: 5\xa0',
  'X-A: b', 'X-A:', 'X-A: \xe9', 'X-A: a\x00b', 'X-A: a\x01b', 'X(A): b', 'X A: b', ' folded', ' chunked', '\tchunked', ' 5', ' , chunked', 'Content-Length: 5.0', 'Content-Length: 5\x00', 'Connection: close', 'Connection: keep-alive',
);
const chunkSize = (n: number): fc.Arbitrary<string> => {
  const h = n.toString(16);
  return fc.constantFrom(h, h, h.toUpperCase(), `0${h}`, `${h};a=b`, `${h};a="b;c"`, `${h} `, `${h} ;x`, `${h}\t`, `0x${h}`, `+${h}`, `${h};`, `-${h}`);
};
const chunk = fc.constantFrom(1, 2, 5, 10, 16).chain((n) =>
  fc.tuple(chunkSize(n), eol, fc.constantFrom(n, n, n, n, n - 1, n + 1), fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '', 'xx')).map(
    ([size, lineEnd, length, after]) => `${size}${lineEnd}${'abcdefghijklmnopq'.slice(0, length)}${after}`,
  ),
);
const chunkedBody = fc
  .tuple(fc.array(chunk, { maxLength: 3 }), fc.constantFrom('0', '0', '00', '0;ext', '0 '), eol, fc.option(fc.constantFrom('X-T: v', 'Content-Length: 3', 'Bad T: v')), fc.constantFrom('\r\n', '\r\n', '\n', ''))
  .map(([chunks, last, lineEnd, trailer, end]) => `${chunks.join('')}${last}${lineEnd}${trailer === null ? '' : `${trailer}\r\n`}${end}`);
const plainBody = fc.constantFrom('hello', 'hello', 'hel', '', 'hello world');

const response = fc
  .tuple(statusLine, eol, fc.array(fc.tuple(field, eol), { maxLength: 4 }), eol, fc.oneof(chunkedBody, plainBody))
  .map(([status, statusEnd, fields, headEnd, body]) => Buffer.from(`${status}${statusEnd}${fields.map(([f, e]) => f + e).join('')}${headEnd}${body}`, 'latin1'));

// ---- what the two parsers may differ on, and why ----

const text = (b: Buffer): string => b.toString('latin1');
const fieldValues = (b: Buffer, name: string): string[] =>
  [...text(b).split(/\r?\n\r?\n/)[0]!.matchAll(new RegExp(`^${name}\\s*:([^\\r\\n]*)`, 'gim'))].map((m) => m[1]!.trim());

/**
 * "chunked," and ",chunked" are the list ["chunked"]: RFC 9110 §5.6.1.2 has a recipient ignore
 * empty list elements, so this parser frames them as chunked; llhttp reads them as a coding it
 * does not know, ending at close. Not generated by the fields above; checked by name below.
 */
const hasEmptyListElement = (b: Buffer): boolean => fieldValues(b, 'transfer-encoding').some((v) => /(^|,)\s*(,|$)/.test(v) && v !== '');

/** Reasons this parser rejects a response llhttp takes. */
function whyWeReject(code: string, bytes: Buffer): string | null {
  const te = fieldValues(bytes, 'transfer-encoding').join(',').toLowerCase();
  // RFC 9112 §6.1: chunked applied before another coding is a sender error; this parser refuses
  // it (as h11 does) rather than read to close a body whose framing it cannot trust.
  if (code === 'ERR_INVALID_TRANSFER_ENCODING' && /chunked\s*,\s*\S/.test(te)) return 'chunked before another coding';
  return null;
}

/** Reasons this parser accepts a response llhttp (strict, as Node runs it) refuses. */
function whyWeAccept(llhttpCode: string, bytes: Buffer, parsed: Parsed): string | null {
  // Leniencies this parser records with their offset (bare LF, duplicate identical
  // Content-Length, Transfer-Encoding with Content-Length, white space in a chunk size, …).
  if (parsed.leniencies.length > 0) return `leniency ${parsed.leniencies.join(',')}`;
  const s = text(bytes);
  // RFC 9110 §5.5: CTLs other than NUL, CR and LF in a field value are invalid, but a recipient
  // MAY retain them for robustness; this parser keeps them (llhttp refuses them).
  if (llhttpCode === 'HPE_INVALID_HEADER_TOKEN' && /^[^\r\n:]+:[^\r\n]*[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/m.test(s)) return 'CTL in a field value';
  // RFC 9110 §6.5.1: trailer fields are kept apart from the header section and never frame the
  // message; a Content-Length there is not looked at (llhttp validates it as if it were a header).
  if (parsed.trailers.some(([n]) => n.toLowerCase() === 'content-length')) return 'Content-Length in the trailer section';
  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, and OWS includes HTAB: a tab
  // before or after a value is not part of it (llhttp's strict mode allows only spaces there).
  if (/^(?:HPE_STRICT|HPE_INVALID_CONTENT_LENGTH)$/.test(llhttpCode) && /^[^\r\n:]+:(?:[ ]*\t|[^\r\n]*\t[ \t]*\r?$)/m.test(s)) return 'tab as OWS around a field value';
  // RFC 9110 §2.5: a higher minor version is processed as the highest one implemented (1.1).
  if (s.startsWith('HTTP/1.2 ')) return 'HTTP/1.2 read as 1.1';
  // RFC 9112 §6.3 (1): 204 and 304 end with their head, so their Content-Length frames nothing.
  if (parsed.status === 204 || parsed.status === 304) return 'no-body status';
  // RFC 9112 §6.3 (4): Transfer-Encoding overrides Content-Length (recorded as a leniency when
  // the coding list ends in chunked); any Transfer-Encoding without chunked last reads to close.
  if (fieldValues(bytes, 'transfer-encoding').length > 0 && parsed.framing === 'close') return 'Transfer-Encoding without chunked: read to close';
  // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name … ): white space before ";".
  if (llhttpCode === 'HPE_INVALID_CHUNK_SIZE' && /\r?\n[0-9a-fA-F]+[ \t]+;/.test(s)) return 'BWS before a chunk extension';
  // Chunk extensions are skipped unread after the ";" (as h11 does): the size before it frames
  // the chunk, and an extension with no name or no value changes nothing (llhttp refuses "5;").
  if (llhttpCode === 'HPE_STRICT' && /\n[0-9a-fA-F]+;(?:[^\r\n=]*=)?\r?\n/.test(s)) return 'chunk extension without a name or value';
  return null;
}

describe('the response parser against llhttp', () => {
  it('agrees with llhttp wherever both accept, and every other difference has a named reason', () => {
    const seen = { agree: 0, bothReject: 0, weReject: new Map<string, number>(), weAccept: new Map<string, number>() };
    const count = (m: Map<string, number>, k: string): void => {
      m.set(k, (m.get(k) ?? 0) + 1);
    };
    fc.assert(
      fc.property(response, (bytes) => {
        if (hasEmptyListElement(bytes)) return;
        const theirs = llhttp(bytes);
        const { outcome: mine, parsed } = ours(bytes);
        if (theirs.ok && mine.ok) {
          expect({ status: mine.status, headers: mine.headers, body: mine.body }, JSON.stringify(text(bytes))).toEqual({ status: theirs.status, headers: theirs.headers, body: theirs.body });
          seen.agree++;
        } else if (!theirs.ok && !mine.ok) {
          seen.bothReject++;
        } else if (!mine.ok) {
          const why = whyWeReject(mine.code, bytes);
          expect(why, `we reject (${mine.code}) what llhttp accepts: ${JSON.stringify(text(bytes))}`).not.toBeNull();
          count(seen.weReject, why!);
        } else if (!theirs.ok) {
          const why = whyWeAccept(theirs.code, bytes, parsed!);
          expect(why, `we accept what llhttp refuses (${theirs.code}): ${JSON.stringify(text(bytes))}`).not.toBeNull();
          count(seen.weAccept, why!);
        }
      }),
      { numRuns: 20_000, seed: 0x5eed },
    );
    // The generator reaches every kind of case, so the property is not passing on easy inputs.
    expect(seen.agree).toBeGreaterThan(3000);
    expect(seen.bothReject).toBeGreaterThan(3000);
    expect([...seen.weReject.keys()]).toEqual(['chunked before another coding']);
    expect(seen.weAccept.size).toBeGreaterThanOrEqual(4);
  });

  it('reads "chunked," as chunked (an empty list element is ignored), where llhttp reads to close', () => {
    const bytes = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'latin1');
    expect(ours(bytes).outcome).toEqual({ ok: true, status: 200, headers: ['Transfer-Encoding', 'chunked,'], body: 'abc' });
    expect(llhttp(bytes)).toEqual({ ok: true, status: 200, headers: ['Transfer-Encoding', 'chunked,'], body: '3\r\nabc\r\n0\r\n\r\n' });
  });
});

describe('the request head against llhttp', () => {
  // Every character class a URL can carry: reserved, unreserved, ones WHATWG leaves raw in a path
  // or query, controls, non-ASCII, and the ones that must never reach the wire raw (CR, LF, NUL).
  const urlChar = fc.constantFrom(...'aZ09-._~!$&\'()*+,;=:@/?#%[]{}|\\^`"<> \t\u00e9\u4e2d\u{1F600}\u0000\u007f\n\r');
  const host = fc.constantFrom('example.com', 'b\u00fccher.example', '[::1]', '127.0.0.1:8080', 'EXAMPLE.com:80', 'xn--bcher-kva.example:443');
  const field = fc.tuple(fc.constantFrom('X-A', 'accept', 'User-Agent', 'X_b', 'Host'), fc.stringMatching(/^[ \t!-~\u00a0-\u00ff]{0,12}$/));

  it('parses under llhttp (strict) with the target, Host and fields of any URL', () => {
    fc.assert(
      fc.property(host, fc.array(urlChar, { maxLength: 16 }), fc.array(field, { maxLength: 3 }), (h, chars, fields) => {
        const url = new URL(`http://${h}/${chars.join('')}`);
        const hosts = fields.filter(([n]) => n.toLowerCase() === 'host');
        if (hosts.length > 1 || hosts.some(([, v]) => v.trim() === '')) {
          expect(() => validateHeaders(fields)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_HEADER' }));
          return;
        }
        const headers = validateHeaders(fields);
        const head = buildRequestHead({ method: 'GET', target: url.pathname + url.search, host: url.host, defaults: [['Accept', '*/*']], headers });
        const p = new HTTPParser();
        p.initialize(HTTPParser.REQUEST, {}, 64 * 1024, 0);
        let seen: { target: string; fields: string[] } | null = null;
        p[HTTPParser.kOnHeadersComplete] = (_a: number, _b: number, f: string[], _m: number, target: string): number => {
          seen = { target, fields: f };
          return 0;
        };
        p[HTTPParser.kOnMessageComplete] = (): void => {};
        const r = p.execute(head);
        expect(r instanceof Error ? (r as Error & { code: string }).code : null, JSON.stringify(head.toString('latin1'))).toBeNull();
        expect(seen).not.toBeNull();
        const got = seen! as { target: string; fields: string[] };
        expect(got.target).toBe(url.pathname + url.search);
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < got.fields.length; i += 2) pairs.push([got.fields[i]!.toLowerCase(), got.fields[i + 1]!]);
        const hostFields = pairs.filter(([n]) => n === 'host');
        expect(hostFields).toHaveLength(1);
        const given = headers.find(([n]) => n.toLowerCase() === 'host');
        expect(hostFields[0]![1]).toBe(given ? given[1] : url.host);
        for (const [n, v] of headers) expect(pairs).toContainEqual([n.toLowerCase(), Buffer.from(v!, 'latin1').toString('latin1')]);
        expect(pairs.filter(([n]) => n === 'connection')).toEqual([['connection', 'close']]);
      }),
      { numRuns: 5000, seed: 0x5eed },
    );
  });
});
