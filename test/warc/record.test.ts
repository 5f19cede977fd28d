import { describe, expect, it } from 'vitest';
import { recordHead } from '../../src/warc/record.js';

describe('recordHead', () => {
  it('refuses a field value with a line break, which would break the record framing', () => {
    expect(() => recordHead([['WARC-Target-URI', 'http://x/\r\nWARC-Type: evil']], Buffer.alloc(0))).toThrow(/line break/);
    expect(() => recordHead([['WARC-Target-URI', 'http://x/\nx']], Buffer.alloc(0))).toThrow(/line break/);
  });
});
