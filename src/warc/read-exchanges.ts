import type { CapturedExchange } from '../capture/exchange.js';
import type { ResponseRecord } from '../capture/replay-response.js';
import { warcField, type WarcRecordRead } from './reader.js';

export interface WarcExchange {
  exchange: CapturedExchange;
  /** The record stored in the metadata record (rawcrawl WARCs), else null. */
  record: ResponseRecord | null;
}

type MetadataJson = Omit<CapturedExchange, 'request' | 'response'> & { record?: ResponseRecord };

/**
 * Rebuilds exchanges from WARC records: each response record with its request and metadata
 * records (matched by WARC-Concurrent-To). A rawcrawl metadata record gives the read boundaries,
 * timings and stored record; a WARC from another tool replays as one read ending at EOF.
 */
export function warcExchanges(records: WarcRecordRead[]): WarcExchange[] {
  const byId = new Map<string, WarcRecordRead>();
  const concurrent = new Map<string, WarcRecordRead[]>();
  for (const r of records) {
    const id = warcField(r, 'WARC-Record-ID');
    if (id) byId.set(id, r);
    for (const [n, v] of r.fields) {
      if (n.toLowerCase() === 'warc-concurrent-to') concurrent.set(v, [...(concurrent.get(v) ?? []), r]);
    }
  }
  const out: WarcExchange[] = [];
  for (const r of records) {
    if (warcField(r, 'WARC-Type') !== 'response') continue;
    const id = warcField(r, 'WARC-Record-ID') ?? '';
    const linked = [...(concurrent.get(id) ?? [])];
    const to = warcField(r, 'WARC-Concurrent-To');
    if (to && byId.has(to)) linked.push(byId.get(to)!);
    const request = linked.find((x) => warcField(x, 'WARC-Type') === 'request');
    const meta = linked.find((x) => warcField(x, 'WARC-Type') === 'metadata' && warcField(x, 'Content-Type') === 'application/json');
    let facts: MetadataJson | null = null;
    if (meta) {
      try {
        facts = JSON.parse(meta.block.toString('utf8')) as MetadataJson;
      } catch {
        facts = null;
      }
    }
    const requestBytes = request?.block ?? Buffer.alloc(0);
    const sp = requestBytes.indexOf(0x20);
    const url = (warcField(r, 'WARC-Target-URI') ?? '').replace(/^<(.*)>$/, '$1');
    const ip = warcField(r, 'WARC-IP-Address') ?? null;
    const base: CapturedExchange = facts
      ? { ...facts, request: requestBytes, response: r.block }
      : {
          conn: 0, url, method: sp > 0 ? requestBytes.toString('latin1', 0, sp) : 'GET', host: '', port: 0, tls: url.startsWith('https:'),
          startedAt: warcField(r, 'WARC-Date') ?? '', remoteAddress: ip, timings: { closed: 0 }, reads: [], tlsInfo: null,
          peerEof: true, leniencies: [], error: null, closeReason: '', responseEnd: null, request: requestBytes, response: r.block,
        };
    const { record: _drop, ...clean } = base as CapturedExchange & { record?: unknown };
    out.push({ exchange: clean as CapturedExchange, record: facts?.record ?? null });
  }
  return out;
}
