import { exchangeFacts, type CapturedExchange, type ExchangeFacts } from '../capture/exchange.js';
import type { ResponseRecord } from '../capture/replay-response.js';
import { newRecordId, warcDate, type WarcField } from './record.js';

export interface ExchangeRecord {
  type: 'request' | 'response' | 'metadata';
  id: string;
  fields: WarcField[];
  /** The exchange's bytes, or (metadata) text written as UTF-8. */
  block: Buffer | string;
}

/**
 * WARC-Truncated (§5.13) for a response that did not arrive whole. A limit the client stopped at
 * truncates only a response whose end is not in the captured bytes (`scan.end`): one read often
 * brings the whole of a small page, which is then stored whole though request() refused it.
 */
function truncation(ex: CapturedExchange, scan: ResponseRecord): string | null {
  const cutByLimit = scan.end === null ? 'length' : null;
  // The client stopped reading at its body limit (RequestOptions.truncateBody).
  if (ex.closeReason === 'truncated') return cutByLimit;
  if (!ex.error) return null;
  switch (ex.error.code) {
    case 'ERR_PREMATURE_CLOSE':
    case 'ERR_CONNECTION_RESET':
      return 'disconnect';
    case 'ERR_TIMEOUT':
    case 'ERR_ABORTED':
      return 'time';
    case 'ERR_BODY_TOO_LARGE':
    case 'ERR_HEADERS_TOO_LARGE':
      return cutByLimit;
    default:
      // Parse errors: every byte that arrived is there, but the message is not a valid one.
      return null;
  }
}

/** The capture facts wget would put in its log: timings, reads, TLS, leniencies, error. */
function metadataBlock(ex: CapturedExchange, scan: ResponseRecord): string {
  // Fields added to the one-shape literal (a spread copy would make a slow dictionary again).
  const facts: ExchangeFacts & { requestBytes?: number; responseBytes?: number; record?: ResponseRecord } = exchangeFacts(ex);
  facts.requestBytes = ex.request.length;
  facts.responseBytes = ex.response.length;
  facts.record = scan;
  return `${JSON.stringify(facts)}\n`;
}

/**
 * The records for one exchange, in file order: `request` (the bytes sent), `response` (the bytes
 * received, chunk framing and content coding intact; only when at least one byte arrived) and a
 * `metadata` record (application/json: the capture facts replay needs: read boundaries, timings,
 * TLS, leniencies, error). An exchange that failed before any byte arrived has no response record:
 * its metadata record tells what happened.
 */
export function exchangeRecords(ex: CapturedExchange, scan: ResponseRecord, warcinfoId: string): ExchangeRecord[] {
  const date = warcDate(ex.startedAt);
  const ip: WarcField[] = ex.remoteAddress ? [['WARC-IP-Address', ex.remoteAddress]] : [];
  const out: ExchangeRecord[] = [];
  const requestId = newRecordId();
  const responseId = newRecordId();
  const hasRequest = ex.request.length > 0;
  const hasResponse = ex.response.length > 0;
  if (hasRequest) {
    out.push({
      type: 'request',
      id: requestId,
      fields: [
        ['WARC-Type', 'request'],
        ['WARC-Record-ID', requestId],
        ['WARC-Warcinfo-ID', warcinfoId],
        ['WARC-Date', date],
        ['WARC-Target-URI', ex.url],
        ...ip,
        ...(hasResponse ? ([['WARC-Concurrent-To', responseId]] as WarcField[]) : []),
        ['Content-Type', 'application/http;msgtype=request'],
      ],
      block: ex.request,
    });
  }
  if (hasResponse) {
    const truncated = truncation(ex, scan);
    out.push({
      type: 'response',
      id: responseId,
      fields: [
        ['WARC-Type', 'response'],
        ['WARC-Record-ID', responseId],
        ['WARC-Warcinfo-ID', warcinfoId],
        ['WARC-Date', date],
        ['WARC-Target-URI', ex.url],
        ...ip,
        ...(hasRequest ? ([['WARC-Concurrent-To', requestId]] as WarcField[]) : []),
        // The payload is the de-chunked body (RFC 2616 entity-body, as warcio and pywb hash it).
        ...(scan.headEnd !== null ? ([['WARC-Payload-Digest', scan.payload.sha1]] as WarcField[]) : []),
        ...(truncated ? ([['WARC-Truncated', truncated]] as WarcField[]) : []),
        ['Content-Type', 'application/http;msgtype=response'],
      ],
      block: ex.response,
    });
  }
  const metaId = newRecordId();
  const about = hasResponse ? responseId : hasRequest ? requestId : null;
  out.push({
    type: 'metadata',
    id: metaId,
    fields: [
      ['WARC-Type', 'metadata'],
      ['WARC-Record-ID', metaId],
      ['WARC-Warcinfo-ID', warcinfoId],
      ['WARC-Date', date],
      ['WARC-Target-URI', ex.url],
      ...(about ? ([['WARC-Concurrent-To', about]] as WarcField[]) : []),
      ['Content-Type', 'application/json'],
    ],
    block: metadataBlock(ex, scan),
  });
  return out;
}
