import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { crc32, storedGzipMember } from '../../src/warc/gzip-member.js';

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
});
