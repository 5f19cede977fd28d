import { DONE, NEED_DATA, type ParserEvent, type ResponseParser } from '../../src/http/response-parser.js';

/** Splits `wire` at the given points (taken modulo its length + 1, sorted, deduplicated). */
export function splitAt(wire: Buffer, points: number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => p % (wire.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(wire.subarray(prev, c));
    prev = c;
  }
  out.push(wire.subarray(prev));
  return out;
}

/**
 * Hands `onEvent` every event the parser has for the bytes fed so far; true once it said DONE
 * (it keeps saying so).
 */
export function drain(parser: ResponseParser, onEvent: (ev: ParserEvent) => void): boolean {
  for (;;) {
    const ev = parser.next();
    if (ev === NEED_DATA) return false;
    if (ev === DONE) return true;
    onEvent(ev);
  }
}
