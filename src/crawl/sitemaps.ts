import { gunzipSync } from 'node:zlib';
import { Parser } from 'htmlparser2';
import { decodeText, sniffEncoding } from '../client/index.js';

/** sitemaps.org: a sitemap file is at most 50 MB (52,428,800 bytes) uncompressed. */
export const MAX_SITEMAP_BYTES = 50 * 1024 * 1024;

/** Sitemap files read per crawl at most (an index may name 50,000 of them). */
export const MAX_SITEMAPS = 1000;

/** A sitemap's content: page URLs (`urlset`, or a text sitemap), or more sitemaps (`index`). */
export interface Sitemap {
  kind: 'urlset' | 'index';
  /** `<loc>` values (or text lines) as written, trimmed. */
  locs: string[];
}

/** The local part of an XML name: sitemaps are written with and without a namespace prefix. */
function localName(name: string): string {
  const i = name.indexOf(':');
  return (i === -1 ? name : name.slice(i + 1)).toLowerCase();
}

/**
 * Parses a sitemap (sitemaps.org 0.9): an XML `urlset` or `sitemapindex`, or a text file of one
 * URL per line; gzipped or not (a `.xml.gz` usually comes as application/gzip, not as a content
 * coding). Throws an Error naming the problem for a body it cannot read.
 */
export function parseSitemap(body: Buffer): Sitemap {
  let data = body;
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      data = gunzipSync(data, { maxOutputLength: MAX_SITEMAP_BYTES });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(code === 'ERR_BUFFER_TOO_LARGE' ? `larger than ${MAX_SITEMAP_BYTES} bytes once gunzipped` : `cannot gunzip: ${(err as Error).message}`);
    }
  }
  // UTF-8, as the protocol says; but a BOM (UTF-16) or the XML declaration's encoding is
  // followed, as an XML reader does (read as UTF-8, a UTF-16 file gave no URL and no error).
  const text = (sniffEncoding(data, null) === 'UTF-8' ? data.toString('utf8') : decodeText(data, null)).replace(/^\uFEFF/, '');
  if (!text.trimStart().startsWith('<')) {
    const locs = text
      .split(/\r?\n|\r/)
      .map((l) => l.trim())
      .filter((l) => /^https?:\/\//i.test(l));
    return { kind: 'urlset', locs };
  }
  let root: string | null = null;
  const stack: string[] = [];
  const locs: string[] = [];
  let loc: string | null = null;
  const parser = new Parser(
    {
      onopentag(name) {
        const local = localName(name);
        root ??= local;
        stack.push(local);
        if (local === 'loc') loc = '';
      },
      ontext(t) {
        if (loc !== null) loc += t;
      },
      onclosetag() {
        const local = stack.pop();
        if (local === 'loc' && loc !== null) {
          const parent = stack[stack.length - 1];
          if ((parent === 'url' || parent === 'sitemap') && loc.trim() !== '') locs.push(loc.trim());
          loc = null;
        }
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(text);
  parser.end();
  if (root !== 'urlset' && root !== 'sitemapindex') throw new Error(`not a sitemap: its root element is <${root ?? '?'}>, not <urlset> or <sitemapindex>`);
  return { kind: root === 'sitemapindex' ? 'index' : 'urlset', locs };
}
