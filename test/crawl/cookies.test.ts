import { describe, expect, it } from 'vitest';
import { CrawlCookies } from '../../src/crawl/cookies.js';

describe('CrawlCookies', () => {
  it('keeps RFC 6265 rules: path, domain, Secure (only from https, only to https), Max-Age=0 removes; other sites and public suffixes refused', () => {
    const c = new CrawlCookies();
    expect(c.header('http://a.example/')).toBe('');
    c.store('http://a.example/x/page', [
      ['Set-Cookie', 'root=1; Path=/'],
      ['set-cookie', 'deep=2; Path=/x'],
      // A Secure cookie from an http page is refused (RFC 6265bis §5.6 step 14).
      ['SET-COOKIE', 'insecure=3; Path=/; Secure'],
      ['Set-Cookie', 'dom=4; Domain=a.example; Path=/'],
      ['Set-Cookie', 'other=5; Domain=b.example'],
      ['Set-Cookie', 'suffix=6; Domain=example'],
      ['Content-Type', 'text/html'],
    ]);
    c.store('https://a.example/', [['Set-Cookie', 'sec=3; Path=/; Secure']]);
    expect(c.header('http://a.example/x/y')).toBe('deep=2; root=1; dom=4');
    // Same path length: older first (RFC 6265 §5.4).
    expect(c.header('https://a.example/')).toBe('root=1; dom=4; sec=3');
    expect(c.header('http://sub.a.example/')).toBe('dom=4');
    expect(c.header('http://b.example/')).toBe('');
    c.store('http://a.example/', [['Set-Cookie', 'root=; Path=/; Max-Age=0']]);
    expect(c.header('http://a.example/')).toBe('dom=4');
  });

  it('sends at most 8 KiB of cookies, the most specific first, never a cookie cut in half', () => {
    const c = new CrawlCookies();
    const fields: Array<[string, string]> = [];
    for (let i = 0; i < 600; i++) fields.push(['Set-Cookie', `c${String(i).padStart(3, '0')}=${'v'.repeat(12)}; Path=/`]);
    fields.push(['Set-Cookie', 'specific=1; Path=/deep/er']);
    c.store('http://a.example/deep/er/page', fields);
    const h = c.header('http://a.example/deep/er/page');
    expect(h.length).toBeLessThanOrEqual(8192);
    expect(h.length).toBeGreaterThan(8000);
    expect(h.startsWith('specific=1; ')).toBe(true);
    expect(h.split('; ').every((kv) => /^(specific=1|c\d{3}=v{12})$/.test(kv))).toBe(true);
  });
});
