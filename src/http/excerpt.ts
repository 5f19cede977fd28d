/** Bytes shown on each side of an error offset. */
export const EXCERPT_RADIUS = 12;

/**
 * A one-line hex and ASCII view of the bytes around `offset`, the offending byte in brackets:
 *
 *     @57: 0d 0a 31 41 [7a] 7a 0d 0a |..1A[z]z..|
 *
 * `bytes` starts at stream offset `start`; bytes outside it are simply not shown. Non-printable
 * bytes show as "." on the ASCII side, as hexdump -C does. Returns '' when the window is empty.
 */
export function formatExcerpt(bytes: Buffer, start: number, offset: number, radius = EXCERPT_RADIUS): string {
  const from = Math.max(start, offset - radius);
  const to = Math.min(start + bytes.length, offset + radius + 1);
  if (to <= from) return '';
  const hex: string[] = [];
  let ascii = '';
  for (let at = from; at < to; at++) {
    const c = bytes[at - start]!;
    const h = c.toString(16).padStart(2, '0');
    const a = c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
    hex.push(at === offset ? `[${h}]` : h);
    ascii += at === offset ? `[${a}]` : a;
  }
  // An offset just past the window (an early close) is marked at the end.
  if (offset >= to) {
    hex.push('[]');
    ascii += '[]';
  }
  return `@${from}: ${hex.join(' ')} |${ascii}|`;
}

/**
 * Text the server sent, quoted for an error message (JSON.stringify: one line, controls escaped),
 * at most `max` characters of it and "…" after a cut: a field may be as long as maxHeaderBytes.
 */
export function quote(text: string, max = 64): string {
  return text.length > max ? `${JSON.stringify(text.slice(0, max))}…` : JSON.stringify(text);
}

/** Text for an error message, unquoted (a URL, digits): at most `max` characters, "…" after a cut. */
export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
