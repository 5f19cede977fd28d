import type { PageRecord } from '../../src/crawl/record.js';

/** A page record for the sinks' tests: a 200 HTML page fetched without error, `extra` over it. */
export function pageRecord(extra: Partial<PageRecord> = {}): PageRecord {
  return {
    url: 'http://127.0.0.1/a',
    final_url: 'http://127.0.0.1/a',
    status: 200,
    content_type: 'text/html',
    title: 'A',
    fields: {},
    depth: 0,
    referrer: null,
    bytes: 100,
    fetched_at: '2026-11-27T00:00:00.000Z',
    timings: null,
    error: null,
    error_message: null,
    error_offset: null,
    error_excerpt: null,
    leniencies: [],
    attempts: 1,
    ...extra,
  };
}
