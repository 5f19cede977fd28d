import { RawcrawlError } from '../errors.js';
import { isFieldName, trimOWS } from './abnf.js';
import { clip, quote } from './excerpt.js';
import type { Leniency } from './leniency.js';

/** How the body of a response is delimited (RFC 9112 §6.3). */
export type Framing =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' };

export interface FramingDecision {
  framing: Framing;
  /** Transfer codings other than chunked, in the order the sender applied them. */
  transferCodings: string[];
}

export interface FramingInput {
  method: string;
  status: number;
  rawHeaders: ReadonlyArray<readonly [string, string]>;
  /** Offset of the head in the stream, for error reports. */
  offset: number;
  /**
   * Offset of each of rawHeaders' field lines in the stream: an error or leniency about a field
   * names the field's own line (else the head's offset).
   */
  fieldOffsets?: readonly number[];
  lenient: (l: Leniency) => void;
}

/**
 * Splits comma-separated list values of every field with this (lower-case) name, each element
 * without its OWS (RFC 9110 §5.6.1: #element = [ element ] *( OWS "," OWS [ element ] )).
 */
function listValues(rawHeaders: ReadonlyArray<readonly [string, string]>, name: string): ListValues | null {
  let out: ListValues | null = null;
  for (let i = 0; i < rawHeaders.length; i++) {
    const [n, v] = rawHeaders[i]!;
    if (!isFieldName(n, name)) continue;
    out ??= { values: [], fields: [] };
    for (const part of v.split(',')) {
      out.values.push(trimOWS(part));
      out.fields.push(i);
    }
  }
  return out;
}

/** A list field's elements, and for each the index in rawHeaders of the field line it is in. */
interface ListValues {
  values: string[];
  fields: number[];
}

const DIGITS = /^[0-9]+$/;
/** At most 15 digits: always a safe integer (Number.MAX_SAFE_INTEGER has 16). */
const MAX_SAFE_DIGITS = 15;

/**
 * RFC 9112 §6.3, applied to a response in the order the RFC gives.
 */
export function decideFraming(input: FramingInput): FramingDecision {
  const { method, status, rawHeaders, offset: headOffset, lenient } = input;
  /** Where the field line rawHeaders[i] begins. */
  const at = (i: number): number => input.fieldOffsets?.[i] ?? headOffset;
  // §6.3 (1): HEAD, 1xx, 204 and 304 responses end with the head, whatever the fields say.
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { framing: { kind: 'none' }, transferCodings: [] };
  }
  // §6.3 (2): a 2xx to CONNECT makes the connection a tunnel right after the head; any
  // Content-Length or Transfer-Encoding in it is ignored.
  if (method === 'CONNECT' && status >= 200 && status < 300) return { framing: { kind: 'none' }, transferCodings: [] };
  // Most responses carry one Content-Length field with one value, or no framing field at all:
  // those are decided here from one pass over the names, without listValues()'s arrays. Anything
  // else, errors included, goes to the general code below, which gives the same result for these.
  let teFields = 0;
  let clFields = 0;
  let clValue = '';
  for (let i = 0; i < rawHeaders.length; i++) {
    const field = rawHeaders[i]!;
    if (isFieldName(field[0], 'content-length')) {
      clFields++;
      clValue = field[1];
    } else if (isFieldName(field[0], 'transfer-encoding')) {
      teFields++;
    }
  }
  if (teFields === 0) {
    // §6.3 (8), as below.
    if (clFields === 0) return { framing: { kind: 'close' }, transferCodings: [] };
    if (clFields === 1 && clValue.indexOf(',') === -1) {
      // §6.3 (5), as below for a list of one value.
      const v = trimOWS(clValue);
      if (DIGITS.test(v)) {
        const value = v.charCodeAt(0) === 0x30 ? v.replace(/^0+(?=\d)/, '') : v;
        if (value.length <= MAX_SAFE_DIGITS) {
          const length = Number(value);
          return { framing: length === 0 ? { kind: 'none' } : { kind: 'length', length }, transferCodings: [] };
        }
      }
    }
  }
  const teList = listValues(rawHeaders, 'transfer-encoding');
  const clList = listValues(rawHeaders, 'content-length');
  const te = teList?.values ?? null;
  const cl = clList?.values ?? null;
  // A Transfer-Encoding field that names no coding at all ("Transfer-Encoding:", or only commas)
  // is an empty list (RFC 9110 §5.6.1.2: empty elements are ignored), so nothing was applied: it
  // frames nothing and the rules below go on as if it were absent, as browsers, curl and llhttp
  // frame such a response by its Content-Length. Read to close instead, a server that keeps the
  // connection open would hold the response until the idle timeout, and one that sent more
  // bytes than its Content-Length would have them taken for body.
  const codings = te?.filter((c) => c !== '').map((c) => c.toLowerCase()) ?? [];
  if (teList !== null && codings.length === 0) lenient({ kind: 'empty-transfer-encoding', offset: at(teList.fields[0]!) });
  // §6.3 (3): Transfer-Encoding overrides Content-Length.
  if (te !== null && teList !== null && codings.length > 0) {
    // The Content-Length field that is ignored.
    if (clList !== null) lenient({ kind: 'transfer-encoding-with-content-length', offset: at(clList.fields[0]!) });
    /** The field of the n-th (0-based) "chunked" in the list. */
    const chunkedField = (n: number): number => {
      for (let i = 0, seen = 0; i < te.length; i++) if (te[i]!.toLowerCase() === 'chunked' && seen++ === n) return at(teList.fields[i]!);
      return at(teList.fields[0]!);
    };
    const chunkedCount = codings.filter((c) => c === 'chunked').length;
    if (chunkedCount > 1) {
      throw new RawcrawlError('ERR_INVALID_TRANSFER_ENCODING', `Transfer-Encoding ${quote(te.join(', '))} applies chunked more than once`, { offset: chunkedField(1) });
    }
    if (codings.length > 0 && codings[codings.length - 1] === 'chunked') {
      return { framing: { kind: 'chunked' }, transferCodings: codings.slice(0, -1) };
    }
    if (chunkedCount === 1) {
      // §6.1: chunked must be the final coding; a body coded after chunking cannot be framed.
      throw new RawcrawlError('ERR_INVALID_TRANSFER_ENCODING', `Transfer-Encoding ${quote(te.join(', '))} has chunked before another coding`, { offset: chunkedField(0) });
    }
    // §6.3 (3): chunked is not the final coding of a response → read until the connection closes.
    return { framing: { kind: 'close' }, transferCodings: codings };
  }
  if (cl !== null && clList !== null) {
    // §6.3 (5) and §8.6: a list of identical values is one value; anything else is an error.
    let value: string | null = null;
    for (let i = 0; i < cl.length; i++) {
      const v = cl[i]!;
      const offset = at(clList.fields[i]!);
      if (!DIGITS.test(v)) {
        throw new RawcrawlError('ERR_INVALID_CONTENT_LENGTH', `Content-Length ${quote(cl.join(', '))} is not a non-negative decimal number`, { offset });
      }
      const norm = v.replace(/^0+(?=\d)/, '');
      if (value !== null && norm !== value) {
        throw new RawcrawlError('ERR_INVALID_CONTENT_LENGTH', `Content-Length values ${quote(cl.join(', '))} conflict`, { offset });
      }
      value = norm;
    }
    if (value === null) {
      throw new RawcrawlError('ERR_INVALID_CONTENT_LENGTH', 'Content-Length is empty', { offset: at(clList.fields[0]!) });
    }
    // The second value (in the same field line, or another) is the duplicate.
    if (cl.length > 1) lenient({ kind: 'duplicate-content-length', offset: at(clList.fields[1]!) });
    const length = Number(value);
    if (value.length > MAX_SAFE_DIGITS || !Number.isSafeInteger(length)) {
      throw new RawcrawlError('ERR_INVALID_CONTENT_LENGTH', `Content-Length ${clip(value, 64)} is too large`, { offset: at(clList.fields[0]!) });
    }
    return { framing: length === 0 ? { kind: 'none' } : { kind: 'length', length }, transferCodings: [] };
  }
  // §6.3 (8): no framing fields in a response → the body runs until the connection closes.
  return { framing: { kind: 'close' }, transferCodings: [] };
}
