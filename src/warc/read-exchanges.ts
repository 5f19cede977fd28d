import type { CapturedExchange } from '../capture/exchange.js';
import type { ResponseRecord } from '../capture/replay-response.js';
import { warcField, type WarcRecordRead } from './reader.js';

export interface WarcExchange {
  exchange: CapturedExchange;
  /** The record stored in the metadata record (rawcrawl WARCs), else null. */
  record: ResponseRecord | null;
}

type MetadataJson = Omit<CapturedExchange, 'request' | 'response'> & { record?: ResponseRecord };

/** One exchange from a response record and, where found, its request and metadata records. */
function toExchange(r: WarcRecordRead, request: WarcRecordRead | undefined, meta: WarcRecordRead | undefined): WarcExchange {
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
    ? // Files written before `proxy` was recorded hold no such field: their exchanges were direct.
      { ...facts, proxy: facts.proxy ?? null, request: requestBytes, response: r.block }
    : {
        conn: 0, url, method: sp > 0 ? requestBytes.toString('latin1', 0, sp) : 'GET', host: '', port: 0, tls: url.startsWith('https:'),
        startedAt: warcField(r, 'WARC-Date') ?? '', remoteAddress: ip, proxy: null, timings: { closed: 0 }, reads: [], tlsInfo: null,
        peerEof: true, leniencies: [], error: null, closeReason: '', responseEnd: null, request: requestBytes, response: r.block,
      };
  const { record: _drop, ...clean } = base as CapturedExchange & { record?: unknown };
  return { exchange: clean as CapturedExchange, record: facts?.record ?? null };
}

const isType = (r: WarcRecordRead, type: string): boolean => warcField(r, 'WARC-Type') === type;
const isJsonMetadata = (r: WarcRecordRead): boolean => isType(r, 'metadata') && warcField(r, 'Content-Type') === 'application/json';

/** Every WARC-Concurrent-To value of a record (the field may repeat). */
function concurrentTo(r: WarcRecordRead): string[] {
  const out: string[] = [];
  for (const [n, v] of r.fields) if (n.toLowerCase() === 'warc-concurrent-to') out.push(v);
  return out;
}

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
    for (const v of concurrentTo(r)) concurrent.set(v, [...(concurrent.get(v) ?? []), r]);
  }
  const out: WarcExchange[] = [];
  for (const r of records) {
    if (!isType(r, 'response')) continue;
    const id = warcField(r, 'WARC-Record-ID') ?? '';
    const linked = [...(concurrent.get(id) ?? [])];
    const to = warcField(r, 'WARC-Concurrent-To');
    if (to && byId.has(to)) linked.push(byId.get(to)!);
    out.push(toExchange(r, linked.find((x) => isType(x, 'request')), linked.find(isJsonMetadata)));
  }
  return out;
}

/** Request and metadata records remembered (small records: a request head, a JSON object). */
const REMEMBERED = 256;
/** Records after a response record within which its metadata record must come (rawcrawl: the next one). */
const AFTER = 4;

/**
 * warcExchanges() over a stream of records, holding a few records at a time instead of the file:
 * a response's request record is looked for among the last REMEMBERED request records, its
 * metadata record among the AFTER records that follow it (rawcrawl and wget write an exchange's
 * records next to each other). Exchanges come in the order of their response records.
 */
export async function* streamWarcExchanges(records: AsyncIterable<WarcRecordRead>): AsyncGenerator<WarcExchange> {
  /** Request records by their id, and by the id of the response they name. */
  const requests = new Map<string, WarcRecordRead>();
  /** JSON metadata records by the id of the record they name. */
  const metadata = new Map<string, WarcRecordRead>();
  /** Keeps the last `max` entries of a map. */
  const remember = (map: Map<string, WarcRecordRead>, key: string, r: WarcRecordRead, max: number): void => {
    map.delete(key);
    map.set(key, r);
    if (map.size > max) map.delete(map.keys().next().value!);
  };
  /** Response records waiting for a metadata record, with how many records came after each. */
  const waiting: Array<{ r: WarcRecordRead; id: string; after: number }> = [];
  const complete = (w: { r: WarcRecordRead; id: string }): WarcExchange => {
    const to = warcField(w.r, 'WARC-Concurrent-To');
    const request = requests.get(`for ${w.id}`) ?? (to ? requests.get(to) : undefined);
    return toExchange(w.r, request && isType(request, 'request') ? request : undefined, metadata.get(w.id));
  };
  for await (const r of records) {
    const id = warcField(r, 'WARC-Record-ID') ?? '';
    if (isType(r, 'request')) {
      // Two entries per request record: by its id, and by the response it names.
      if (id) remember(requests, id, r, REMEMBERED * 2);
      for (const v of concurrentTo(r)) remember(requests, `for ${v}`, r, REMEMBERED * 2);
    } else if (isJsonMetadata(r)) {
      for (const v of concurrentTo(r)) remember(metadata, v, r, REMEMBERED);
    } else if (isType(r, 'response')) {
      waiting.push({ r, id, after: -1 });
    }
    for (const w of waiting) w.after++;
    // In order: the first waiting response goes once its metadata came or AFTER records passed.
    while (waiting.length > 0 && (metadata.get(waiting[0]!.id) !== undefined || waiting[0]!.after >= AFTER)) yield complete(waiting.shift()!);
  }
  for (const w of waiting) yield complete(w);
}
