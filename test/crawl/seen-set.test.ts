import { describe, expect, it } from 'vitest';
import { fingerprint, SeenSet } from '../../src/crawl/seen-set.js';

describe('SeenSet', () => {
  it('adds each key once and finds it again, across growth', () => {
    const s = new SeenSet(16);
    for (let i = 0; i < 50_000; i++) expect(s.add(`http://example.com/page/${i}`)).toBe(true);
    for (let i = 0; i < 50_000; i++) expect(s.add(`http://example.com/page/${i}`)).toBe(false);
    expect(s.size).toBe(50_000);
    expect(s.has('http://example.com/page/49999')).toBe(true);
    expect(s.has('http://example.com/page/50000')).toBe(false);
  });

  it('holds fixed-size fingerprints: between 10 and 15 bytes per URL at every size past the start', () => {
    const s = new SeenSet(16);
    for (let i = 1; i <= 300_000; i++) {
      s.add(`https://example.org/articles/${i}?ref=${i * 7}`);
      if (i % 997 === 0) {
        expect(s.bytes / i).toBeLessThanOrEqual(15.1);
        expect(s.bytes / i).toBeGreaterThanOrEqual(9.9);
      }
    }
  });

  it('fingerprints differ for near-identical strings', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(fingerprint(`/p/${i}`).join(':'));
    expect(seen.size).toBe(100_000);
  });
});
