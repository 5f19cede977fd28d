import { describe, expect, it } from 'vitest';
import { checkSelectors, extract } from '../../src/crawl/extract.js';
import { ParsePool } from '../../src/crawl/parse-pool.js';

const input = (html: string | Buffer, extra: Partial<Parameters<typeof extract>[0]> = {}) => ({
  body: typeof html === 'string' ? Buffer.from(html) : html,
  contentType: 'text/html',
  url: 'http://example.com/dir/page',
  selects: [] as Array<[string, string]>,
  wantText: false,
  ...extra,
});

describe('extract', () => {
  it('takes a[href] and area[href], resolved against <base href>, skipping non-web schemes', () => {
    const r = extract(input(`<base href="/other/"><a href="x">1</a><area href="/y"><a href="javascript:1">j</a>
      <a href="mailto:a@b">m</a><a href="tel:1">t</a><a href="data:text/plain,1">d</a><a>none</a><a href="https://z.org/q#f">z</a>`));
    expect(r.links).toEqual(['http://example.com/other/x', 'http://example.com/y', 'https://z.org/q#f']);
  });

  it('honours meta robots nofollow and noindex', () => {
    const r = extract(input('<meta name="robots" content="NOINDEX, nofollow"><a href="/x">x</a>'));
    expect(r).toMatchObject({ noindex: true, nofollow: true, links: [] });
  });

  it('decodes by the page charset: header, BOM, meta', () => {
    const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]);
    expect(extract(input(Buffer.concat([Buffer.from('<title>'), gbk, Buffer.from('</title>')]), { contentType: 'text/html; charset=gbk' })).title).toBe('中文');
    const meta = Buffer.concat([Buffer.from('<meta charset="shift_jis"><title>'), Buffer.from([0x82, 0xa0]), Buffer.from('</title>')]);
    expect(extract(input(meta, { contentType: 'text/html' })).title).toBe('あ');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<title>é</title>')]);
    expect(extract(input(bom, { contentType: 'text/html; charset=windows-1252' })).title).toBe('é');
  });

  it('fills fields from --select with the first match text, null when none', () => {
    const r = extract(input('<h1> A  <b>b</b> </h1><h1>second</h1>', { selects: [['h', 'h1'], ['p', 'p.price']] }));
    expect(r.fields).toEqual({ h: 'A b', p: null });
  });

  it('gives the same result inline and in a worker pool', async () => {
    const pool = new ParsePool(0);
    const html = '<title>T</title><a href="/a">a</a>';
    expect(await pool.run(input(html))).toEqual(extract(input(html)));
    await pool.close();
  });

  it('checks --select CSS up front and names the bad one', () => {
    expect(checkSelectors([['a', 'h1'], ['b', 'div > p.x:first-child']])).toBeNull();
    expect(checkSelectors([['a', 'h1'], ['b', 'h1[[[']])).toMatch(/^--select b=h1\[\[\[: not a valid CSS selector \(/);
  });
});
