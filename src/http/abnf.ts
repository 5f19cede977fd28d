/**
 * The grammar rawcrawl checks, as byte tables. Each rule cites where it comes from.
 */

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//                          "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const SEMICOLON = 0x3b;

/**
 * RFC 9110 §5.6.2: token = 1*tchar, for strings: request header names the caller gives us, and
 * response field names decoded as latin1.
 */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * RFC 9110 §5.1: field names are case-insensitive. Whether `name` is `lower` (a lower-case ASCII
 * name) in any case: what `name.toLowerCase() === lower` says for a token, without the copy.
 */
export function isFieldName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * RFC 9110 §5.3: a field's combined value, every line of it in order joined with ", " (what
 * WHATWG Headers.get() gives); null when there is none. `lower` is the lower-case name.
 */
export function fieldValue(fields: ReadonlyArray<readonly [string, string]>, lower: string): string | null {
  let out: string | null = null;
  for (const [n, v] of fields) {
    if (isFieldName(n, lower)) out = out === null ? v : `${out}, ${v}`;
  }
  return out;
}

/**
 * RFC 9110 §8.4: a Content-Encoding value as the codings in the order they were applied,
 * lower-cased, identity dropped.
 */
export function parseCodings(value: string | null): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
}

/**
 * RFC 9110 §5.5: field-value octets. CR, LF and NUL are never allowed (they are what makes
 * header injection and request smuggling possible); other controls are tolerated as browsers do.
 */
export function isSafeFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === CR || c === LF || c > 0xff) return false;
  }
  return true;
}

export function isOWS(c: number): boolean {
  return c === SP || c === HTAB;
}

/**
 * RFC 9110 §5.6.3: `s` without the OWS (SP / HTAB) around it. Not String#trim(), which also strips
 * VT, FF and, in a field value decoded as latin1, NBSP (0xA0): "chunked\xa0" is no more the coding
 * chunked than "5\x0b" is a Content-Length, to llhttp or to h11 (a framing field must not mean one
 * thing here and another to a proxy on the path).
 */
export function trimOWS(s: string): string {
  let from = 0;
  let to = s.length;
  while (from < to && isOWS(s.charCodeAt(from))) from++;
  while (to > from && isOWS(s.charCodeAt(to - 1))) to--;
  return from === 0 && to === s.length ? s : s.slice(from, to);
}

// RFC 9112 §7.1: chunk-size = 1*HEXDIG
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}
export function hexValue(c: number): number {
  return HEX[c]!;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
