import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSelectors, extract, refreshUrl } from '../../src/crawl/extract.js';
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

  it('skips a non-web scheme the URL parser reads through tabs, newlines or leading controls (java\\tscript:), as the browser does', () => {
    const r = extract(input('<a href="java\tscript:alert(1)">1</a><a href="\x01 ja\nvascript:x">2</a><a href="mail\rto:a@b">3</a><a href="/ok">4</a>'));
    expect(r.links).toEqual(['http://example.com/ok']);
    expect(extract(input('<a href="java\tscript:alert(1)">1</a><a href="/ok">4</a>', { selects: [['t', 'title']] })).links).toEqual(['http://example.com/ok']);
  });

  it('reads --select fields of a page of 100,000 top-level links (no <html> around them) in linear time', () => {
    // cheerio's $(css) from the document deduplicates its top-level children pairwise (domutils'
    // removeSubsets): 100,000 of them took minutes.
    const html = '<title>m</title>' + Array.from({ length: 100_000 }, (_, i) => `<a href="/p${i}">${i}</a>`).join('');
    const start = performance.now();
    const r = extract(input(html, { selects: [['t', 'title'], ['last', 'a:contains("99999")::attr(href)']], selectAll: [['n', 'a[href="/p1"], a[href="/p0"]']] }));
    expect(r.fields).toEqual({ t: 'm', last: '/p99999', n: ['0', '1'] });
    expect(r.links.length).toBe(100_000);
    expect(performance.now() - start).toBeLessThan(10_000);
  });

  it('strips only what the URL parser strips around an href (C0 controls and space), as browsers and Scrapy do: not a no-break space', () => {
    const r = extract(input('<base href="\u00a0b/"><a href=" \t/x\n">x</a><a href="\u00a0y">y</a><a href="/z\u3000">z</a><a href="\ufeff/w">w</a>'));
    expect(r.links).toEqual(['http://example.com/x', 'http://example.com/dir/%C2%A0b/%C2%A0y', 'http://example.com/z%E3%80%80', 'http://example.com/dir/%C2%A0b/%EF%BB%BF/w']);
  });

  it('ignores a <base href> to a data: or javascript: URL, as HTML does (the page\'s URL stays the base)', () => {
    for (const base of ['javascript:void(0)', ' JavaScript:x', 'data:text/html,x']) {
      expect(extract(input(`<base href="${base}"><a href="x">x</a><a href="/y">y</a>`)).links).toEqual(['http://example.com/dir/x', 'http://example.com/y']);
    }
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

  it('encodes the query of a link in a non-UTF-8 page in the page\'s encoding, as browsers do (WHATWG URL); the path in UTF-8', () => {
    const cp = (html: string) => Buffer.from(html, 'latin1');
    // windows-1252: é is E9, € is 80; 日 has no byte there, and goes as the &#26085; a browser sends.
    const page = cp('<a href="/q?s=\u00e9\u20ac&t=&#x65E5;#\u00e9">q</a><a href="/p/\u00e9?\u00e9">p</a>'.replace('\u20ac', '\x80'));
    for (const selects of [[], [['t', 'title']]] as Array<Array<[string, string]>>) {
      const r = extract(input(page, { contentType: 'text/html; charset=windows-1252', selects }));
      expect(r.links).toEqual(['http://example.com/q?s=%E9%80&t=%26%2326085%3B#%C3%A9', 'http://example.com/p/%C3%A9?%E9']);
    }
    // Shift_JIS, named by <meta>: 日本 is 93 FA 96 7B, and 7B ("{") is not escaped in a query; nor in
    // <base href>, whose query an empty href keeps; a meta refresh URL is a link too.
    const sjis = Buffer.concat([
      Buffer.from('<meta charset="shift_jis"><meta http-equiv="refresh" content="0; url=/r?s='),
      Buffer.from([0x93, 0xfa, 0x96, 0x7b]),
      Buffer.from('"><base href="/b/?s='),
      Buffer.from([0x93, 0xfa]),
      Buffer.from('"><a href="">e</a><a href="  \t/x?q=\n'),
      Buffer.from([0x93, 0xfa]),
      Buffer.from(' ">x</a>'),
    ]);
    expect(extract(input(sjis, { contentType: 'text/html' })).links).toEqual(['http://example.com/b/?s=%93%FA', 'http://example.com/x?q=%93%FA', 'http://example.com/r?s=%93%FA%96{']);
    // UTF-8 (and UTF-16) pages: UTF-8, as before.
    expect(extract(input('<a href="/q?s=\u00e9">q</a>', { contentType: 'text/html; charset=utf-8' })).links).toEqual(['http://example.com/q?s=%C3%A9']);
  });

  it('fills fields from --select with the first match text, null when none', () => {
    const r = extract(input('<h1> A  <b>b</b> </h1><h1>second</h1>', { selects: [['h', 'h1'], ['p', 'p.price']] }));
    expect(r.fields).toEqual({ h: 'A b', p: null });
  });

  it('takes an attribute with ::attr(NAME) at the end of a --select, as Scrapy writes it; ::text is the default', () => {
    const html = '<link rel="canonical" href=" https://example.org/c "><a class="next" href="/p/2">Next <b>page</b></a><img alt="">';
    const r = extract(
      input(html, {
        selects: [
          ['canonical', 'link[rel=canonical]::attr(href)'],
          ['next', 'a.next::attr( href )'],
          ['label', 'a.next::text'],
          ['alt', 'img::attr(alt)'],
          ['missing', 'img::attr(src)'],
          ['none', 'video::attr(src)'],
        ],
      }),
    );
    expect(r.fields).toEqual({ canonical: 'https://example.org/c', next: '/p/2', label: 'Next page', alt: '', missing: null, none: null });
    expect(checkSelectors([['a', 'a::attr(href)'], ['b', 'h1::text']])).toBeNull();
    expect(checkSelectors([['c', 'a::attr(href)::text']])).toMatch(/^selects \(--select\) c=a::attr\(href\)::text: not a valid CSS selector \(the only pseudo-elements taken are ::text and ::attr\(NAME\), at the end\)$/);
    expect(checkSelectors([['d', 'p::before']])).toMatch(/^selects \(--select\) d=p::before: not a valid CSS selector/);
  });

  it('lists every match of a --select-all, text or attribute, in document order; [] when none', () => {
    const html = '<ul><li class="tag"> a </li><li class="tag">b <i>c</i></li></ul><img src="/1.png"><img><img src=" /2.png ">';
    const r = extract(input(html, { selects: [['first', '.tag']], selectAll: [['tags', '.tag'], ['images', 'img::attr(src)'], ['none', 'video']] }));
    expect(r.fields).toEqual({ first: 'a', tags: ['a', 'b c'], images: ['/1.png', '/2.png'], none: [] });
    // Only --select-all: the document is built for it too.
    expect(extract(input(html, { selectAll: [['tags', '.tag::text']] })).fields).toEqual({ tags: ['a', 'b c'] });
    expect(checkSelectors([['x', 'p[[']], '--select-all')).toMatch(/^--select-all x=p\[\[: not a valid CSS selector/);
  });

  it('reads a meta refresh as HTML does, and takes the first one that names a URL as a link', () => {
    const cases: Array<[string, string | null]> = [
      ['0; url=/next', '/next'],
      ["5;URL='/q?x=1'", '/q?x=1'],
      ['3, /y', '/y'],
      ['0 ;  url = "/z" trailing', '/z'],
      ['1.5; /dot', '/dot'],
      ['.5;url=/half', '/half'],
      ['7', null],
      ['0;', null],
      ['url=/no-time', null],
      ['0x; url=/bad', null],
      ['', null],
    ];
    for (const [content, url] of cases) expect(refreshUrl(content), content).toBe(url);
    const html = '<a href="/a">a</a><meta http-equiv="Refresh" content="9"><meta http-equiv="refresh" content="0; url=/moved"><meta http-equiv="refresh" content="0; url=/second">';
    for (const selects of [[], [['p', 'p']]] as Array<Array<[string, string]>>) {
      expect(extract(input(html, { selects })).links).toEqual(['http://example.com/a', 'http://example.com/moved']);
      // A nofollow page gives no links, its refresh included.
      expect(extract(input(`<meta name="robots" content="nofollow">${html}`, { selects })).links).toEqual([]);
      // The same URL as a link is not listed twice; a non-web scheme is not followed.
      expect(extract(input('<a href="/moved">m</a><meta http-equiv="refresh" content="0;url=/moved">', { selects })).links).toEqual(['http://example.com/moved']);
      expect(extract(input('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', { selects })).links).toEqual([]);
    }
  });

  it('gives the same result inline and in a worker pool', async () => {
    const pool = new ParsePool(0);
    const html = '<title>T</title><a href="/a">a</a>';
    expect(await pool.run(input(html))).toEqual(extract(input(html)));
    await pool.close();
  });

  it('checks --select CSS up front and names the bad one', () => {
    expect(checkSelectors([['a', 'h1'], ['b', 'div > p.x:first-child']])).toBeNull();
    expect(checkSelectors([['a', 'h1'], ['b', 'h1[[[']])).toMatch(/^selects \(--select\) b=h1\[\[\[: not a valid CSS selector \(/);
  });

  it('reads title, robots, base and links from the parser events exactly as the cheerio document gives them', () => {
    // Without --select, extract() never builds the document; with one it does. Random markup
    // full of what HTML parsers disagree on must give the same result both ways.
    const attrValue = fc.constantFrom('/a', 'b c', ' /sp ', 'HTTP://X.org/Q', 'javascript:x', 'mailto:q', '//h/p', 'http://[', '', '?q=1#f', '&amp;x&lt;', 'noindex', 'NOFOLLOW', 'none', 'robots', 'ROBOTS', 'rawcrawl', 'index', '../up', '/base/', 'refresh', ' Refresh ', '0; url=/r', "5;URL='/q'", '3');
    const attrName = fc.constantFrom('href', 'HREF', 'name', 'content', 'id', 'rel', 'http-equiv', 'HTTP-EQUIV');
    const attr = fc.tuple(attrName, attrValue, fc.constantFrom('"', "'", '')).map(([n, v, q]) => (q === '' && /^[^\s"'=<>`]+$/.test(v) ? ` ${n}=${v}` : q === '' ? ` ${n}` : ` ${n}=${q}${v.replaceAll(q, '')}${q}`));
    const tagName = fc.constantFrom('title', 'TITLE', 'meta', 'base', 'a', 'A', 'area', 'svg', 'math', 'template', 'script', 'style', 'textarea', 'p', 'div', 'b', 'head', 'body', 'html', 'table', 'tr', 'td', 'select', 'option', 'noscript', 'iframe', 'xmp', 'br', 'img');
    const token = fc.oneof(
      fc.tuple(tagName, fc.array(attr, { maxLength: 3 }), fc.boolean()).map(([t, as, self]) => `<${t}${as.join('')}${self ? '/' : ''}>`),
      tagName.map((t) => `</${t}>`),
      fc.constantFrom(' some  text ', '\n\t', '&amp;', '&lt;a href=x&gt;', '&#x41;', '&nbsp;', 'a & b', '<!-- <a href="/c"> -->', '<![CDATA[<a href="/d">]]>', '<!doctype html>', '<?pi x?>', '</', '<', '>', 'é', '<a href="/e"', '"'),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
        const html = tokens.join('');
        const fast = extract(input(html));
        const dom = extract(input(html, { selects: [['p', 'p']] }));
        expect({ ...fast, fields: null }).toEqual({ ...dom, fields: null });
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the first <title> whole, with its entities, and a base or link given only later in the page', () => {
    const html = '<a href="x">1</a><title> A &amp;\n B </title><title>second</title><base href="/later/"><meta name="Robots" content="noindex">';
    for (const selects of [[], [['p', 'p']]] as Array<Array<[string, string]>>) {
      const r = extract(input(html, { selects }));
      expect(r).toMatchObject({ title: 'A & B', links: ['http://example.com/later/x'], noindex: true, nofollow: false });
    }
  });
});


describe('extract on a page nested to stall a parser', () => {
  const deep = (levels: number): string =>
    `<html><head><title>Deep &amp; dark</title><meta name="robots" content="index"></head><body>${'<div>'.repeat(levels)}<a href="/inside?a=1&amp;b=2">in</a>${'</div>'.repeat(levels)}<a href='/after'>after</a></body></html>`;

  it('reads title and links of 200,000 levels in linear time, and says its --select fields were not read', () => {
    const html = deep(200_000);
    const t0 = performance.now();
    const plain = extract(input(html));
    // htmlparser2 took 14 s on this page (its tag stack is an array it shifts at the front).
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(plain).toMatchObject({ title: 'Deep & dark', links: ['http://example.com/inside?a=1&b=2', 'http://example.com/after'], fields: {}, noindex: false, nofollow: false });
    expect(plain.fieldsError).toBeUndefined();
    const selected = extract(input(html, { selects: [['d', 'div']], selectAll: [['all', 'a::attr(href)']] }));
    expect(selected).toMatchObject({ title: 'Deep & dark', links: ['http://example.com/inside?a=1&b=2', 'http://example.com/after'], fields: { d: null, all: [] } });
    expect(selected.fieldsError).toBe('the page nests tags more than 20000 deep: its --select fields are not read');
  });

  it('keeps title and links when cheerio cannot build the document (a few thousand levels overflow its stack)', () => {
    const r = extract(input(deep(8000), { selects: [['d', 'div']] }));
    expect(r).toMatchObject({ title: 'Deep & dark', links: ['http://example.com/inside?a=1&b=2', 'http://example.com/after'], fields: { d: null } });
    expect(r.fieldsError).toMatch(/^cannot read its --select fields: Maximum call stack size exceeded/);
  });

  it('a page of many tags, shallow, is parsed as before', () => {
    const html = `<title>t</title>${'<p>x</p><br><img src=a>'.repeat(30_000)}<a href="/z">z</a>`;
    const r = extract(input(html));
    expect(r).toMatchObject({ title: 't', links: ['http://example.com/z'] });
  });
});
