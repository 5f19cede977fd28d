import { describe, expect, it } from 'vitest';
import { admit, type ScopeRules } from '../../src/crawl/scope.js';

const rules = (extra: Partial<ScopeRules>): ScopeRules => ({ hosts: new Set(['example.com']), include: [], exclude: [], maxDepth: Infinity, ...extra });

describe('admit', () => {
  it('gives the same verdict every time with a global --include/--exclude RegExp (no lastIndex carried over)', () => {
    const include = rules({ include: [/\/a/g] });
    const exclude = rules({ exclude: [/\/x/gi] });
    for (let i = 0; i < 4; i++) {
      expect(admit(new URL('http://example.com/a/1'), 1, include)).toBe('ok');
      expect(admit(new URL('http://example.com/b'), 1, include)).toBe('include');
      expect(admit(new URL('http://example.com/X'), 1, exclude)).toBe('exclude');
    }
  });

  it('matches --include/--exclude against the URL as normalised: escapes as WHATWG URL and normalizeUrl write them', () => {
    expect(admit(new URL('http://example.com/~joe/caf%C3%A9'), 0, rules({ exclude: [/\/~joe\//] }))).toBe('exclude');
    expect(admit(new URL('http://example.com/caf%C3%A9'), 0, rules({ include: [/caf%C3%A9/] }))).toBe('ok');
  });
});
