import type { ResponseRecord } from './replay-response.js';

export interface FieldDifference {
  field: keyof ResponseRecord;
  stored: unknown;
  current: unknown;
}

const FIELDS: Array<keyof ResponseRecord> = [
  'informational', 'status', 'statusText', 'httpVersion', 'headers', 'trailers', 'framing',
  'headEnd', 'end', 'payload', 'body', 'leniencies', 'error',
];

/**
 * Fields where the current parser's record differs from the stored one. A side that did not
 * compute the decoded body (a WARC's scan record) is not compared on it.
 */
export function diffRecords(stored: ResponseRecord, current: ResponseRecord): FieldDifference[] {
  const out: FieldDifference[] = [];
  for (const field of FIELDS) {
    if (field === 'body' && (stored.body === null || current.body === null) && !stored.error && !current.error) continue;
    const a = JSON.stringify(stored[field] ?? null);
    const b = JSON.stringify(current[field] ?? null);
    if (a !== b) out.push({ field, stored: stored[field], current: current[field] });
  }
  return out;
}
