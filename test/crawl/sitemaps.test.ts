import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { MAX_SITEMAP_BYTES, parseSitemap } from '../../src/crawl/sitemaps.js';

const xml = (s: string): Buffer => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${s}`);

describe('parseSitemap', () => {
  it('reads a urlset\'s <loc>s, entities decoded, whitespace trimmed, other elements ignored', () => {
    const sm = parseSitemap(
      xml(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> https://example.org/a?x=1&amp;y=2 </loc><lastmod>2026-01-01</lastmod>
    <image:image><image:loc>https://example.org/img.png</image:loc></image:image></url>
  <url><loc><![CDATA[https://example.org/b]]></loc></url>
  <url><loc></loc></url>
</urlset>`),
    );
    expect(sm).toEqual({ kind: 'urlset', locs: ['https://example.org/a?x=1&y=2', 'https://example.org/b'] });
  });

  it('reads a sitemap index, with a namespace prefix, and gzipped', () => {
    const body = gzipSync(xml(`<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9"><sm:sitemap><sm:loc>https://example.org/s1.xml</sm:loc></sm:sitemap><sm:sitemap><sm:loc>https://example.org/s2.xml.gz</sm:loc></sm:sitemap></sm:sitemapindex>`));
    expect(parseSitemap(body)).toEqual({ kind: 'index', locs: ['https://example.org/s1.xml', 'https://example.org/s2.xml.gz'] });
  });

  it('reads a text sitemap: one URL a line, BOM and blank or other lines left out', () => {
    expect(parseSitemap(Buffer.from('\uFEFFhttps://example.org/1\r\n\r\n  http://example.org/2  \n# note\nftp://x/\n'))).toEqual({ kind: 'urlset', locs: ['https://example.org/1', 'http://example.org/2'] });
  });

  it('reads a sitemap by its BOM or XML declaration: UTF-16, windows-1252', () => {
    const doc = (encoding: string): string => `<?xml version="1.0" encoding="${encoding}"?><urlset><url><loc>https://example.org/caf\u00e9</loc></url></urlset>`;
    const want = { kind: 'urlset', locs: ['https://example.org/caf\u00e9'] };
    expect(parseSitemap(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc('UTF-16'), 'utf16le')]))).toEqual(want);
    expect(parseSitemap(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(doc('UTF-16'), 'utf16le').swap16()]))).toEqual(want);
    expect(parseSitemap(Buffer.from(doc('windows-1252'), 'latin1'))).toEqual(want);
    expect(parseSitemap(Buffer.from(`\uFEFF${doc('UTF-8')}`))).toEqual(want);
  });

  it('names what is wrong with a body that is not a sitemap', () => {
    expect(() => parseSitemap(Buffer.from('<!doctype html><html><body>404</body></html>'))).toThrow(/not a sitemap: its root element is <html>/);
    expect(() => parseSitemap(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]))).toThrow(/cannot gunzip/);
  });

  it('stops a gzip bomb at 50 MiB', () => {
    const bomb = gzipSync(Buffer.alloc(MAX_SITEMAP_BYTES + 1024, 0x20), { level: 9 });
    expect(bomb.length).toBeLessThan(1 << 20);
    expect(() => parseSitemap(bomb)).toThrow(/larger than 52428800 bytes once gunzipped/);
  });
});
