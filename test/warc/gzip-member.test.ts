import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { crc32, MAX_STORED_BLOCK, STORED_HEAD, STORED_TAIL, storedGzipMember, wrapStoredInPlace } from '../../src/warc/gzip-member.js';

describe('stored gzip member', () => {
  it.each([0, 1, 700, 65535, 65536, 200_000])('round-trips %i bytes through gunzip, alone and concatenated', (n) => {
    const data = Buffer.alloc(n);
    for (let i = 0; i < n; i++) data[i] = (i * 31 + 7) & 0xff;
    const member = storedGzipMember(data);
    expect(gunzipSync(member).equals(data)).toBe(true);
    expect(gunzipSync(Buffer.concat([member, storedGzipMember(Buffer.from('next'))])).equals(Buffer.concat([data, Buffer.from('next')]))).toBe(true);
    expect(member.length).toBe(10 + Math.max(1, Math.ceil(n / 65535)) * 5 + n + 8);
  });

  it('CRC-32 of "123456789" is the check value cbf43926', () => {
    expect(crc32(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
  });

  it.each([0, 1, 700, MAX_STORED_BLOCK])('wraps %i bytes where they lie into the same member storedGzipMember makes', (n) => {
    const data = Buffer.alloc(n);
    for (let i = 0; i < n; i++) data[i] = (i * 13 + 1) & 0xff;
    const out = Buffer.alloc(5 + STORED_HEAD + n + STORED_TAIL + 5, 0xee);
    data.copy(out, 5 + STORED_HEAD);
    const end = wrapStoredInPlace(out, 5, 5 + STORED_HEAD + n);
    expect(end).toBe(5 + STORED_HEAD + n + STORED_TAIL);
    expect(out.subarray(5, end).equals(storedGzipMember(data))).toBe(true);
    expect(gunzipSync(out.subarray(5, end)).equals(data)).toBe(true);
    expect(out.subarray(0, 5).equals(Buffer.alloc(5, 0xee))).toBe(true);
    expect(out.subarray(end).equals(Buffer.alloc(5, 0xee))).toBe(true);
  });

  it('will not wrap more than one stored block holds', () => {
    const out = Buffer.alloc(STORED_HEAD + MAX_STORED_BLOCK + 1 + STORED_TAIL);
    expect(() => wrapStoredInPlace(out, 0, STORED_HEAD + MAX_STORED_BLOCK + 1)).toThrow(RangeError);
  });
});
