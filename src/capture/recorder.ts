import type { Leniency, LeniencyKind } from '../http/leniency.js';
import { rawOnlyListener, type WireEvent, type WireListener } from '../wire/events.js';
import type { CapturedExchange } from './exchange.js';

const r3 = (v: number): number => Math.round(v * 1000) / 1000;

/** The address part of "ip:port" or "[ipv6]:port". */
function hostOf(endpoint: string): string {
  const i = endpoint.lastIndexOf(':');
  const host = i === -1 ? endpoint : endpoint.slice(0, i);
  // An IPv6 address is written in brackets there ("[::1]:80"), and kept bare.
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

interface Pending {
  ex: CapturedExchange;
  requestParts: Buffer[];
  responseParts: Buffer[];
}

/**
 * A WireListener that assembles each connection's events into a CapturedExchange and hands it
 * to `onExchange` when the connection closes. It only reads the events, so it chains with any
 * other listener (the --dump-wire trace).
 */
export class CaptureRecorder {
  private readonly open = new Map<number, Pending>();

  constructor(private readonly onExchange: (ex: CapturedExchange) => void) {}

  /** Connections seen but not closed yet. */
  get pending(): number {
    return this.open.size;
  }

  // Raw-only: it keeps `read` events and never looks at the `recv` labels.
  readonly onWire: WireListener = rawOnlyListener((ev: WireEvent): void => {
    if (ev.type === 'open') {
      this.open.set(ev.conn, {
        ex: {
          conn: ev.conn,
          url: ev.url,
          method: '',
          host: ev.host,
          port: ev.port,
          tls: ev.tls,
          startedAt: new Date(Date.now() - ev.t).toISOString(),
          remoteAddress: null,
          proxy: ev.proxy ?? null,
          timings: { closed: 0 },
          reads: [],
          tlsInfo: null,
          peerEof: false,
          leniencies: [],
          error: null,
          closeReason: '',
          responseEnd: null,
          request: Buffer.alloc(0),
          response: Buffer.alloc(0),
        },
        requestParts: [],
        responseParts: [],
      });
      return;
    }
    const p = this.open.get(ev.conn);
    if (!p) return;
    const ex = p.ex;
    const t = r3(ev.t);
    switch (ev.type) {
      case 'dns':
        ex.timings.dns = t;
        break;
      case 'connected':
        ex.timings.connect = t;
        ex.remoteAddress = hostOf(ev.remote);
        break;
      case 'tls': {
        // The handshake with an https:// proxy: the exchange's TLS facts are the target's.
        if (ev.proxy) break;
        const { type: _type, conn: _conn, t: _t, proxy: _proxy, ...facts } = ev;
        ex.tlsInfo = { ...facts, closeNotify: null };
        ex.timings.tls = t;
        break;
      }
      case 'send':
        p.requestParts.push(ev.data);
        break;
      case 'written':
        ex.timings.written = t;
        break;
      case 'read':
        ex.reads.push({ offset: ev.offset, size: ev.size, t });
        // The response as received is its reads, in order: usually one or two per page, where the
        // recv events that label them are a dozen or more.
        p.responseParts.push(ev.data);
        break;
      case 'first-byte':
        ex.timings.firstByte = t;
        break;
      case 'head-end':
        ex.timings.headersEnd = t;
        break;
      case 'body-end':
        ex.timings.bodyEnd = t;
        ex.responseEnd = ev.offset;
        break;
      case 'leniency':
        ex.leniencies.push({ kind: ev.kind as LeniencyKind, offset: ev.offset } satisfies Leniency);
        break;
      case 'eof':
        ex.peerEof = true;
        if (ex.tlsInfo) ex.tlsInfo.closeNotify = ev.closeNotify;
        break;
      case 'error':
        ex.error = {
          code: ev.code,
          message: ev.message,
          ...(ev.offset !== undefined ? { offset: ev.offset } : {}),
          ...(ev.excerpt !== undefined ? { excerpt: ev.excerpt } : {}),
        };
        break;
      case 'close': {
        this.open.delete(ev.conn);
        ex.timings.closed = t;
        ex.closeReason = ev.reason;
        ex.request = p.requestParts.length === 1 ? p.requestParts[0]! : Buffer.concat(p.requestParts);
        ex.response = p.responseParts.length === 1 ? p.responseParts[0]! : Buffer.concat(p.responseParts);
        const sp = ex.request.indexOf(0x20);
        ex.method = sp > 0 ? ex.request.toString('latin1', 0, sp) : '';
        this.onExchange(ex);
        break;
      }
    }
  });
}
