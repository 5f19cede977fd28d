import { describe, expect, it } from 'vitest';
import { planCrawl } from '../../src/crawl/plan.js';
import { normalizeUrl } from '../../src/crawl/normalize-url.js';
import { admit } from '../../src/crawl/scope.js';

describe('planCrawl', () => {
  it('takes allowHosts as URLs spell host names (IDN as punycode), *.domain included', () => {
    const { hosts } = planCrawl({ startUrls: ['http://start.example/'], allowHosts: ['*.bücher.example', '*.EXAMPLE.org:8080', 'Straße.example'] });
    expect([...hosts].sort()).toEqual(['*.example.org', '*.xn--bcher-kva.example', 'start.example', 'xn--strae-oqa.example']);
    const scope = { hosts, include: [], exclude: [], maxDepth: Infinity };
    expect(admit(new URL(normalizeUrl('http://shop.bücher.example/')!), 1, scope)).toBe('ok');
    expect(admit(new URL(normalizeUrl('http://www.example.org:8080/')!), 1, scope)).toBe('ok');
  });
});
