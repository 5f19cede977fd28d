import type { WireEvent } from './events.js';

export interface WireFormatOptions {
  /** Body bytes shown per connection before the rest is summarised (default 512). */
  bodyLimit?: number;
  /** Show every body byte. */
  full?: boolean;
}

/**
 * Escapes bytes so CR, LF, TAB and every non-printable byte are visible: "\r\n", "\x00".
 * The result is a valid JSON string body only for printable ASCII; it is meant for eyes and grep.
 */
export function escapeBytes(data: Buffer): string {
  let out = '';
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === 0x0d) out += '\\r';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x22) out += '\\"';
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Splits after each LF, so a multi-line head prints one wire line per trace line. */
function splitLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const lf = data.indexOf(0x0a, start);
    if (lf === -1 || lf === data.length - 1) break;
    out.push(data.subarray(start, lf + 1));
    start = lf + 1;
  }
  out.push(data.subarray(start));
  return out;
}

/**
 * Turns wire events into trace lines, one event per line:
 *
 *     c3 +1.204ms < framing @118 4 "1a\r\n"
 *
 * connection id, time since the connection began, direction (`>` sent, `<` received, `*` event),
 * what the bytes were to the parser, their stream offset and length, the bytes escaped.
 * Many connections may interleave: the id tells them apart.
 */
export class WireFormatter {
  private readonly bodyLimit: number;
  private readonly shown = new Map<number, number>();

  constructor(options: WireFormatOptions = {}) {
    this.bodyLimit = options.full ? Infinity : (options.bodyLimit ?? 512);
  }

  format(ev: WireEvent): string[] {
    const p = `c${ev.conn} +${ev.t.toFixed(3)}ms`;
    switch (ev.type) {
      case 'open':
        return [`${p} * open ${ev.url} host=${ev.host} port=${ev.port}${ev.tls ? ' tls' : ''}${ev.proxy ? ` proxy=${ev.proxy}` : ''}`];
      case 'tunnel':
        return [
          ...this.formatBytes(`${p} > tunnel`, ev.request),
          ...this.formatBytes(`${p} < tunnel`, ev.response),
          ev.protocol === 'socks5'
            ? `${p} * tunnel socks5 reply ${ev.status}${ev.status === 0 ? ' succeeded' : ''}`
            : ev.protocol === 'socks4'
              ? `${p} * tunnel socks4 reply ${ev.status}${ev.status === 90 ? ' granted' : ''}`
              : `${p} * tunnel ${ev.status}`,
        ];
      case 'dns':
        return [`${p} * dns ${ev.host} -> ${ev.address} family=${ev.family} ${ev.ms.toFixed(3)}ms${ev.cached ? ' cached' : ''}${ev.pinned ? ' pinned' : ''}`];
      case 'connected':
        return [`${p} * connected ${ev.local} -> ${ev.remote}`];
      case 'tls':
        return [
          `${p} * tls${ev.proxy ? ' proxy' : ''} ${ev.protocol} ${ev.cipher} authorized=${ev.authorized}${ev.resumed ? ' resumed' : ''}` +
            (ev.authorizationError ? ` error=${ev.authorizationError}` : '') +
            (ev.alpn ? ` alpn=${ev.alpn}` : '') +
            (ev.fingerprint256 ? ` sha256=${ev.fingerprint256}` : ''),
        ];
      case 'send':
        return this.formatBytes(`${p} > ${ev.part}`, ev.data);
      case 'written':
        return [`${p} * written`];
      case 'head-end':
        return [`${p} * head-end @${ev.offset}`];
      case 'body-end':
        return [`${p} * body-end @${ev.offset}`];
      case 'leniency':
        return [`${p} * leniency ${ev.kind} @${ev.offset}`];
      case 'eof':
        return [`${p} * eof${ev.closeNotify === null ? '' : ev.closeNotify ? ' close_notify' : ' without close_notify'}`];
      case 'read':
        return [`${p} < read @${ev.offset} ${ev.size}`];
      case 'first-byte':
        return [`${p} * first-byte`];
      case 'recv':
        return this.formatRecv(p, ev);
      case 'close':
        this.shown.delete(ev.conn);
        return [`${p} * close ${ev.reason}`];
      case 'error':
        return [`${p} * error ${ev.code} ${ev.message}${ev.offset !== undefined ? ` @${ev.offset}` : ''}${ev.excerpt ? ` ${ev.excerpt}` : ''}`];
    }
  }

  /** `prefix @offset length "bytes"`, a line per wire line. */
  private formatBytes(prefix: string, data: Buffer): string[] {
    let off = 0;
    return splitLines(data).map((line) => {
      const s = `${prefix} @${off} ${line.length} "${escapeBytes(line)}"`;
      off += line.length;
      return s;
    });
  }

  private formatRecv(p: string, ev: Extract<WireEvent, { type: 'recv' }>): string[] {
    if (ev.part !== 'body') {
      // Head, framing and trailer lines are bounded by the parser's limits; bytes left unparsed
      // (after an error, or past the response's end) are not: they are shown as a body is, up to
      // the body limit, so that a framing error does not print a 64 KB line.
      const limit = ev.part === 'unparsed' ? this.bodyLimit : Infinity;
      const data = ev.data.length > limit ? ev.data.subarray(0, limit) : ev.data;
      let off = ev.offset;
      const lines = splitLines(data).map((line) => {
        const s = `${p} < ${ev.part} @${off} ${line.length} "${escapeBytes(line)}"`;
        off += line.length;
        return s;
      });
      if (data.length < ev.data.length) lines.push(`${p} < ${ev.part} @${off} ${ev.data.length - data.length} (not shown)`);
      return lines;
    }
    const shown = this.shown.get(ev.conn) ?? 0;
    const room = Math.max(0, this.bodyLimit - shown);
    if (room === 0) return [`${p} < body @${ev.offset} ${ev.data.length} (not shown)`];
    const visible = ev.data.subarray(0, room);
    this.shown.set(ev.conn, shown + visible.length);
    const more = ev.data.length - visible.length;
    return [`${p} < body @${ev.offset} ${ev.data.length} "${escapeBytes(visible)}"${more > 0 ? ` (+${more} not shown)` : ''}`];
  }
}
