import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { formatRecord, RecordGzipper, STORE_BELOW, type WarcField } from '../../src/warc/record.js';

const FIELDS: WarcField[] = [
  ['WARC-Type', 'response'],
  ['WARC-Target-URI', 'http://127.0.0.1/p'],
];

function block(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = 0x61 + ((i * seed) % 7);
  return b;
}

describe('RecordGzipper', () => {
  it('makes each formatted record its own gzip member: stored below STORE_BELOW bytes, deflated above', () => {
    const g = new RecordGzipper(1);
    const records = [10, 200_000, 3, 70_000, 0, 150_000].map((n, i) => formatRecord(FIELDS, block(n, i + 2)));
    const members = records.map((r) => g.member(r));
    members.forEach((m, i) => expect(gunzipSync(m).equals(records[i]!)).toBe(true));
    expect(records[0]!.length).toBeLessThan(STORE_BELOW);
    expect((members[0]![10]! >> 1) & 3).toBe(0);
    expect((members[1]![10]! >> 1) & 3).not.toBe(0);
    expect(members[1]!.length).toBeLessThan(200_000 / 10);
    g.close();
  });

  it('refuses a field value with a line break, which would break the record framing', () => {
    expect(() => formatRecord([['WARC-Target-URI', 'http://x/\r\nWARC-Type: evil']], Buffer.alloc(0))).toThrow(/line break/);
    expect(() => formatRecord([['WARC-Target-URI', 'http://x/\nx']], Buffer.alloc(0))).toThrow(/line break/);
  });
});
