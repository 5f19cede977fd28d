import { RawcrawlError } from '../errors.js';
import { CR, LF, SEMICOLON, hexValue, isDigit, isOWS, isToken } from './abnf.js';
import { quote } from './excerpt.js';
import type { Leniency } from './leniency.js';

/**
 * The lines of a response, each parsed on its own once the parser has found where it ends: the
 * status line, a field line (header or trailer), a chunk-size line. No state but what they are
 * given; `lenient` hears where a line was accepted though a strict reading would not.
 */

/** A header field as it was on the wire: name in its original case, value with OWS trimmed. */
export type RawHeader = [name: string, value: string];

export interface ResponseHead {
  httpVersion: string;
  status: number;
  statusText: string;
  rawHeaders: RawHeader[];
}

export type Lenient = (kind: Leniency['kind'], offset: number) => void;

/** 12 hex digits = 256 TiB: far beyond any body limit, well inside a safe integer. */
const MAX_CHUNK_HEX_DIGITS = 12;

/** A byte as an error message names it. */
export function describeByte(c: number): string {
  if (c === CR) return 'CR';
  if (c === LF) return 'LF';
  if (c === 0) return 'NUL';
  if (c >= 0x20 && c < 0x7f) return `"${String.fromCharCode(c)}"`;
  return `0x${c.toString(16).padStart(2, '0')}`;
}

/**
 * RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. The line is
 * latin1, one character per byte, and starts at stream offset `offset`.
 */
export function parseStatusLine(line: string, offset: number, lenient: Lenient): ResponseHead {
  const bad = (why: string): RawcrawlError => new RawcrawlError('ERR_INVALID_STATUS_LINE', `${why}: ${JSON.stringify(line.slice(0, 64))}`, { offset });
  // RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT
  if (!line.startsWith('HTTP/1.') || !isDigit(line.charCodeAt(7))) {
    throw bad(line.length === 0 ? 'empty status line' : 'not an HTTP/1.x status line');
  }
  // A line too short for its status code fails below at the first character it lacks.
  if (line.charCodeAt(8) !== 0x20) throw bad('no space after the HTTP version');
  const d0 = line.charCodeAt(9);
  const d1 = line.charCodeAt(10);
  const d2 = line.charCodeAt(11);
  if (!isDigit(d0) || !isDigit(d1) || !isDigit(d2)) throw bad('status code is not three digits');
  const status = (d0 - 0x30) * 100 + (d1 - 0x30) * 10 + (d2 - 0x30);
  if (status < 100) throw bad(`status code ${status} is below 100`);
  let statusText = '';
  if (line.length === 12) {
    lenient('missing-reason-phrase', offset + 12);
  } else {
    if (line.charCodeAt(12) !== 0x20) throw bad('status code is not followed by a space');
    for (let i = 13; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 0 || c === CR) throw bad(`reason phrase holds ${describeByte(c)}`);
    }
    statusText = line.slice(13);
  }
  return { httpVersion: `1.${line.charCodeAt(7) - 0x30}`, status, statusText, rawHeaders: [] };
}

/**
 * RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, as text[start, end), which starts
 * at stream offset `offset`, added to `into` (an obs-fold line joins the field before it).
 * `checked`: the line is known to be a plain field line (a token, a colon, no NUL or CR), and
 * those checks are skipped.
 */
export function parseFieldLine(text: string, start: number, end: number, offset: number, checked: boolean, into: RawHeader[], lenient: Lenient): void {
  const first = text.charCodeAt(start);
  if (isOWS(first)) {
    // RFC 9112 §5.2: obs-fold; a user agent may replace it with SP.
    const prev = into[into.length - 1];
    if (prev === undefined) {
      throw new RawcrawlError('ERR_INVALID_HEADER', 'whitespace before the first header field', { offset });
    }
    const more = fieldValue(text, start, end, offset - start, false);
    lenient('obs-fold', offset);
    prev[1] = prev[1].length === 0 ? more : more.length === 0 ? prev[1] : `${prev[1]} ${more}`;
    return;
  }
  let colon = text.indexOf(':', start);
  if (colon >= end) colon = -1;
  if (colon === -1) {
    throw new RawcrawlError('ERR_INVALID_HEADER', `header line has no colon: ${JSON.stringify(text.slice(start, Math.min(end, start + 64)))}`, { offset });
  }
  const name = text.slice(start, colon);
  if (!checked && !isToken(name)) {
    throw new RawcrawlError('ERR_INVALID_HEADER', `header name ${quote(name)} is not a token`, { offset });
  }
  into.push([name, fieldValue(text, colon + 1, end, offset - start, checked)]);
}

/**
 * A field value in text[from, end) with its OWS trimmed; text[0] is at stream offset
 * `textOffset`. `checked`: known to hold no NUL or CR.
 */
function fieldValue(text: string, from: number, end: number, textOffset: number, checked: boolean): string {
  let s = from;
  let e = end;
  while (s < e && isOWS(text.charCodeAt(s))) s++;
  while (e > s && isOWS(text.charCodeAt(e - 1))) e--;
  if (!checked) {
    for (let i = s; i < e; i++) {
      const c = text.charCodeAt(i);
      // RFC 9110 §5.5: NUL, and a CR that is not part of a line end, must not be accepted.
      if (c === 0 || c === CR) {
        throw new RawcrawlError('ERR_INVALID_HEADER', `header value holds ${describeByte(c)}`, { offset: textOffset + i });
      }
    }
  }
  return text.slice(s, e);
}

/** RFC 9112 §7.1: chunk-size [ chunk-ext ], the line without its end, at stream offset `offset`; extensions are ignored. */
export function parseChunkSize(line: Buffer, offset: number, lenient: Lenient): number {
  const chunkError = (message: string, at: number): RawcrawlError => new RawcrawlError('ERR_INVALID_CHUNK', message, { offset: at });
  let i = 0;
  let size = 0;
  while (i < line.length) {
    const v = hexValue(line[i]!);
    if (v < 0) break;
    if (i >= MAX_CHUNK_HEX_DIGITS) throw chunkError(`chunk size has more than ${MAX_CHUNK_HEX_DIGITS} hex digits`, offset);
    size = size * 16 + v;
    i++;
  }
  if (i === 0) {
    throw chunkError(`chunk size ${JSON.stringify(line.subarray(0, 32).toString('latin1'))} is not hex`, offset);
  }
  let j = i;
  while (j < line.length && isOWS(line[j]!)) j++;
  if (j > i && j === line.length) lenient('chunk-size-whitespace', offset + i);
  if (j < line.length) {
    if (line[j] !== SEMICOLON) {
      throw chunkError(`chunk size ${JSON.stringify(line.subarray(0, 32).toString('latin1'))} is not hex`, offset + j);
    }
    for (let k = j; k < line.length; k++) {
      const c = line[k]!;
      if (c === 0 || c === CR) throw chunkError(`chunk extension holds ${describeByte(c)}`, offset + k);
    }
  }
  return size;
}
