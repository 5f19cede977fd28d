import { RawcrawlError } from '../errors.js';
import { isSafeFieldValue, isToken } from './abnf.js';

export type HeaderPairs = Array<[string, string]>;
export type HeadersInit = Record<string, string> | ReadonlyArray<readonly [string, string]>;

/** Fields rawcrawl owns: one request per connection, no request body. */
const MANAGED = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te']);

/** Validates caller-given fields (RFC 9110 §5.1, §5.5): no name that is not a token, no CR/LF/NUL. */
export function validateHeaders(init: HeadersInit | undefined): HeaderPairs {
  if (init === undefined) return [];
  const pairs: ReadonlyArray<readonly [string, string]> = Array.isArray(init)
    ? (init as ReadonlyArray<readonly [string, string]>)
    : Object.entries(init as Record<string, string>);
  const out: HeaderPairs = [];
  for (const pair of pairs) {
    const [name, value] = pair;
    if (typeof name !== 'string' || !isToken(name)) {
      throw new RawcrawlError('ERR_INVALID_HEADER', `header name ${JSON.stringify(name)} is not a token`);
    }
    const v = String(value);
    if (!isSafeFieldValue(v)) {
      throw new RawcrawlError('ERR_INVALID_HEADER', `value of header ${name} holds CR, LF, NUL or a non-Latin-1 character: ${JSON.stringify(v)}`);
    }
    if (MANAGED.has(name.toLowerCase())) {
      throw new RawcrawlError('ERR_INVALID_HEADER', `header ${name} is managed by rawcrawl (one request per connection, no request body)`);
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
  if (!overridden?.has('host')) head += `Host: ${input.host}\r\n`;
  for (const [n, v] of input.defaults) if (!overridden?.has(n.toLowerCase())) head += `${n}: ${v}\r\n`;
  for (const [n, v] of input.headers) head += `${n}: ${v}\r\n`;
  head += 'Connection: close\r\n\r\n';
  return Buffer.from(head, 'latin1');
}
