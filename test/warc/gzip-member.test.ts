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

describe('member deflater (one engine for every member)', () => {
  it('gives members that each gunzip alone, in call order, for sizes from 0 to 200 KB', async () => {
    const { MemberDeflater } = await import('../../src/warc/member-deflater.js');
    const d = new MemberDeflater(1);
    const records = [0, 1, 700, 21_000, 65_536, 200_000, 5, 30_000].map((n, k) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (i * (k + 3) + (i >> 7)) & 0xff;
      return b;
    });
    const members = await Promise.all(records.map((r) => d.member(r)));
    d.close();
    members.forEach((m, i) => expect(gunzipSync(m).equals(records[i]!)).toBe(true));
    expect(gunzipSync(Buffer.concat(members)).equals(Buffer.concat(records))).toBe(true);
  });
});
