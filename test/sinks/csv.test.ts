import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { PageRecord } from '../../src/crawl/record.js';
import { CsvSink } from '../../src/sinks/csv.js';
import { pageRecord } from '../helpers/page-record.js';

const base = pageRecord({ timings: { dns: 0, connect: 1, tls: 1, firstByte: 2, total: 3.25 } });

async function written(columns: ConstructorParameters<typeof CsvSink>[3], records: PageRecord[]): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const sink = new CsvSink(out, true, 'test output', columns);
  for (const r of records) await sink.write(r);
  await sink.close();
  expect(sink.written).toBe(records.length);
  return Buffer.concat(chunks).toString('utf8');
}

describe('CsvSink', () => {
  it('writes a header, then one RFC 4180 row per record that a CSV reader gives back cell for cell', async () => {
    const hostile: PageRecord = {
      ...base,
      url: 'http://127.0.0.1/b',
      title: 'Comma, "quote"\r\nand a new line',
      fields: { price: '12,50 €', missing: null },
      referrer: 'http://127.0.0.1/a',
      status: null,
      timings: null,
      error: 'ERR_TIMEOUT',
      error_message: 'request took longer than timeoutMs (30000 ms)',
    };
    const text = await written({ fields: ['price', 'missing'] }, [{ ...base, fields: { price: '3', missing: null } }, hostile]);
    expect(text.startsWith('url,final_url,status,content_type,title,depth,referrer,bytes,fetched_at,attempts,total_ms,error,error_message,fields.price,fields.missing\r\n')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ url: 'http://127.0.0.1/a', status: '200', title: 'A', referrer: '', total_ms: '3.25', 'fields.price': '3', 'fields.missing': '' });
    expect(rows[1]).toMatchObject({ title: 'Comma, "quote"\r\nand a new line', 'fields.price': '12,50 €', status: '', total_ms: '', error: 'ERR_TIMEOUT', error_message: 'request took longer than timeoutMs (30000 ms)' });
  });

  it('defuses what a spreadsheet would run as a formula, in text taken from pages', async () => {
    const text = await written({ fields: ['f'] }, [{ ...base, title: '=HYPERLINK("http://evil.example","x")', fields: { f: '@SUM(A1)' } }, { ...base, title: '+1', fields: { f: '-2' } }]);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.title, r['fields.f']])).toEqual([
      ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1)"],
      ["'+1", "'-2"],
    ]);
    // Numbers the crawl made are left as they are.
    expect(rows[0]!.status).toBe('200');
  });

  it('has body and capture columns when asked for', async () => {
    const text = await written({ fields: [], body: true, capture: true }, [{ ...base, body: 'line1\nline2', capture: { warc_file: 'c.warc.gz', warc_offset: 1234, capture_file: null, phases: {}, tls: null, remote_address: null } }]);
    const rows = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!).slice(-4)).toEqual(['body', 'warc_file', 'warc_offset', 'capture_file']);
    expect(rows[0]).toMatchObject({ body: 'line1\nline2', warc_file: 'c.warc.gz', warc_offset: '1234', capture_file: '' });
  });
});
