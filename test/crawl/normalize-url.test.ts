import { describe, expect, it } from 'vitest';
import { normalizeUrl } from '../../src/crawl/normalize-url.js';

describe('normalizeUrl', () => {
  const same: Array<[string, string | undefined]> = [
    ['http://example.com/a/b', undefined],
    ['HTTP://EXAMPLE.COM/a/b', undefined],
    ['http://example.com:80/a/b', undefined],
    ['http://example.com/a/b#frag', undefined],
    // An empty fragment, alone or after an empty query: the href="#" on every other page.
    ['http://example.com/a/b#', undefined],
    ['http://example.com/a/b?#', undefined],
    ['#', 'http://example.com/a/b'],
    ['?#', 'http://example.com/a/b'],
    ['b#', 'http://example.com/a/x'],
    ['http://example.com/a/./b', undefined],
    ['http://example.com/a/c/../b', undefined],
    ['http://example.com/%61/b', undefined],
    ['http://user:pw@example.com/a/b', undefined],
    ['./b', 'http://example.com/a/x'],
    ['../a/b', 'http://example.com/c/d'],
    ['//example.com/a/b', 'http://other.org/'],
  ];
  it.each(same)('%s (base %s) is http://example.com/a/b', (input, base) => {
    expect(normalizeUrl(input, base)).toBe('http://example.com/a/b');
  });

  it('gives an empty path "/", drops an empty query, keeps a real one', () => {
    expect(normalizeUrl('http://example.com')).toBe('http://example.com/');
    expect(normalizeUrl('http://example.com/?')).toBe('http://example.com/');
    expect(normalizeUrl('http://example.com/?b=2&a=1')).toBe('http://example.com/?b=2&a=1');
  });

  it('keeps a "?" that ends a real query (only an empty query is dropped)', () => {
    expect(normalizeUrl('http://example.com/s?q=what?')).toBe('http://example.com/s?q=what?');
    expect(normalizeUrl('http://example.com/s?q=what?#top')).toBe('http://example.com/s?q=what?');
    expect(normalizeUrl('?q=why?', 'http://example.com/s')).toBe('http://example.com/s?q=why?');
    expect(normalizeUrl('http://example.com/s??')).toBe('http://example.com/s??');
    expect(normalizeUrl('http://example.com/s?#')).toBe('http://example.com/s');
  });

  it('upper-cases escapes it keeps and decodes unreserved ones', () => {
    expect(normalizeUrl('http://example.com/a%2fb%7e%41?q=%2f%7e')).toBe('http://example.com/a%2Fb~A?q=%2F~');
  });

  it('keeps a non-default port and https default port rules', () => {
    expect(normalizeUrl('https://example.com:443/')).toBe('https://example.com/');
    expect(normalizeUrl('http://example.com:8080/')).toBe('http://example.com:8080/');
    expect(normalizeUrl('https://example.com:80/')).toBe('https://example.com:80/');
  });

  it('refuses a host no DNS lookup can take (over 253 characters), or over 255 with its port', () => {
    const name = (n: number): string => `${'a'.repeat(n - '.example'.length)}.example`;
    expect(normalizeUrl(`http://${name(253)}/`)).toBe(`http://${name(253)}/`);
    expect(normalizeUrl(`http://${name(254)}/`)).toBeNull();
    expect(normalizeUrl(`http://${name(250)}:8080/`)).toBe(`http://${name(250)}:8080/`);
    expect(normalizeUrl(`http://${name(251)}:8080/`)).toBeNull();
    expect(normalizeUrl(`http://${name(250)}:80/`)).toBe(`http://${name(250)}/`);
  });

  it('turns IDN hosts into punycode', () => {
    expect(normalizeUrl('http://bücher.example/')).toBe('http://xn--bcher-kva.example/');
  });

  it('refuses what is not crawlable', () => {
    for (const u of ['mailto:a@b.c', 'javascript:void(0)', 'ftp://x/', 'data:text/plain,hi', 'not a url', 'http://']) {
      expect(normalizeUrl(u)).toBeNull();
    }
  });
});
