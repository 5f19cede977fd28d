import { RawcrawlError } from '../errors.js';
import { isSafeFieldValue, isToken } from './abnf.js';

/** Request fields in order; a null value leaves the field out, rawcrawl's default of that name included. */
export type HeaderPairs = Array<[string, string | null]>;
/**
 * Caller-given request fields: an object (a field whose value is undefined is left out, so
 * `{ Authorization: token ?? undefined }` sends none), [name, value] pairs in order, or anything
 * iterable as pairs: a WHATWG Headers, a Map. A null value sends no field of that name, not even
 * rawcrawl's default one (`{ 'Accept-Encoding': null }`, as curl's `-H 'Accept-Encoding:'`).
 */
export type HeadersInit =
  | Record<string, string | null | undefined>
  | ReadonlyArray<readonly [string, string | null]>
  | Iterable<readonly [string, string | null]>;

/** Fields rawcrawl owns: one request per connection, no request body. */
const MANAGED = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te']);

/** Validates caller-given fields (RFC 9110 §5.1, §5.5): no name that is not a token, no CR/LF/NUL. */
export function validateHeaders(init: HeadersInit | undefined): HeaderPairs {
  if (init === undefined) return [];
  let pairs: Iterable<unknown>;
  let fromObject = false;
  if (Array.isArray(init)) pairs = init;
  else if (typeof init === 'object' && init !== null && typeof (init as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') pairs = init as Iterable<unknown>;
  else if (typeof init === 'object' && init !== null) {
    pairs = Object.entries(init);
    fromObject = true;
  } else {
    throw new RawcrawlError('ERR_INVALID_OPTION', `headers must be an object, [name, value] pairs, a Headers or a Map, got ${init === null ? 'null' : typeof init}`);
  }
  const out: HeaderPairs = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `headers: ${JSON.stringify(pair) ?? String(pair)} is not a [name, value] pair`);
    }
    const [name, value] = pair as [unknown, unknown];
    if (typeof name !== 'string' || !isToken(name)) {
      throw new RawcrawlError('ERR_INVALID_HEADER', `header name ${JSON.stringify(name)} is not a token`);
    }
    if (value === undefined && fromObject) continue;
    if (MANAGED.has(name.toLowerCase())) {
      throw new RawcrawlError('ERR_INVALID_HEADER', `header ${name} is managed by rawcrawl (one request per connection, no request body)`);
    }
    if (value === null) {
      if (name.toLowerCase() === 'host') throw new RawcrawlError('ERR_INVALID_HEADER', 'header Host cannot be left out: an HTTP/1.1 request names its host (RFC 9112 §3.2)');
      out.push([name, null]);
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new RawcrawlError('ERR_INVALID_HEADER', `value of header ${name} is ${typeof value}, not a string (or null to leave the field out)`);
    }
    const v = String(value);
    if (!isSafeFieldValue(v)) {
      throw new RawcrawlError('ERR_INVALID_HEADER', `value of header ${name} holds CR, LF, NUL or a non-Latin-1 character: ${JSON.stringify(v)}`);
    }
    out.push([name, v.trim()]);
  }
  // RFC 9112 §3.2: a server answers 400 to a request with more than one Host field line or an
  // empty one, and servers behind each other may not pick the same one of two: a Host given
  // in place of the URL's must be one name.
  const hosts = out.filter(([n]) => n.length === 4 && n.toLowerCase() === 'host');
  if (hosts.length > 1) throw new RawcrawlError('ERR_INVALID_HEADER', `header Host is given ${hosts.length} times: a request has one`);
  if (hosts.length === 1 && hosts[0]![1] === '') throw new RawcrawlError('ERR_INVALID_HEADER', 'header Host is empty: an HTTP/1.1 request names its host (RFC 9112 §3.2)');
  return out;
}

export interface RequestHeadInput {
  method: string;
  /** origin-form: path and query, never the fragment (RFC 9112 §3.2.1). */
  target: string;
  host: string;
  /** Defaults, overridden case-insensitively by `headers`. */
  defaults: HeaderPairs;
  headers: HeaderPairs;
}

/** RFC 9112 §3: request-line CRLF, then field lines, then CRLF. One Buffer, one write. */
export function buildRequestHead(input: RequestHeadInput): Buffer {
  const overridden = input.headers.length === 0 ? null : new Set(input.headers.map(([n]) => n.toLowerCase()));
  let head = `${input.method} ${input.target} HTTP/1.1\r\n`;
  // Host first after the request line, the caller's too (RFC 9110 §7.2; as curl -H 'Host: …').
  // (validateHeaders refused a null Host.)
  const host = overridden?.has('host') ? input.headers.find(([n]) => n.toLowerCase() === 'host')! : null;
  head += host ? `${host[0]}: ${host[1]}\r\n` : `Host: ${input.host}\r\n`;
  for (const [n, v] of input.defaults) if (v !== null && !overridden?.has(n.toLowerCase())) head += `${n}: ${v}\r\n`;
  // A null value is a field left out: it only kept the default of its name from being sent.
  for (const [n, v] of input.headers) if (v !== null && !(host && n.toLowerCase() === 'host')) head += `${n}: ${v}\r\n`;
  head += 'Connection: close\r\n\r\n';
  return Buffer.from(head, 'latin1');
}
