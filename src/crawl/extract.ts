import { load } from 'cheerio/slim';
import { decodeText } from '../client/index.js';

export interface ExtractInput {
  body: Uint8Array;
  contentType: string | null;
  /** The page URL (final, after the response): the base for relative links. */
  url: string;
  /** name → CSS selector; the text of the first match is taken. */
  selects: Array<[string, string]>;
  /** Return the decoded text too. */
  wantText: boolean;
}

export interface ExtractResult {
  title: string | null;
  /** Absolute URLs of a[href] and area[href], unfiltered except for non-web schemes. */
  links: string[];
  fields: Record<string, string | null>;
  noindex: boolean;
  nofollow: boolean;
  text: string | null;
}

/** A message naming the first --select whose CSS cheerio cannot compile, or null when all can. */
export function checkSelectors(selects: Array<[string, string]>): string | null {
  const $ = load('<html></html>');
  for (const [name, selector] of selects) {
    try {
      $(selector);
    } catch (err) {
      return `--select ${name}=${selector}: not a valid CSS selector (${err instanceof Error ? err.message : String(err)})`;
    }
  }
  return null;
}

const SKIP_SCHEMES = /^\s*(javascript|mailto|tel|data|ftp|file|about|blob|sms):/i;

/** Parses one HTML page: decoded by its real charset (header, BOM, <meta>), with htmlparser2. */
export function extract(input: ExtractInput): ExtractResult {
  const buf = Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
  const html = decodeText(buf, input.contentType);
  const $ = load(html);
  const titleText = $('title').first().text().replace(/\s+/g, ' ').trim();
  let noindex = false;
  let nofollow = false;
  $('meta[name]').each((_, el) => {
    const name = ($(el).attr('name') ?? '').toLowerCase();
    if (name !== 'robots' && name !== 'rawcrawl') return;
    const content = ($(el).attr('content') ?? '').toLowerCase();
    if (/\b(noindex|none)\b/.test(content)) noindex = true;
    if (/\b(nofollow|none)\b/.test(content)) nofollow = true;
  });
  // HTML: the first <base href> sets the document base URL.
  let base = input.url;
  const baseHref = $('base[href]').first().attr('href');
  if (baseHref !== undefined) {
    try {
      base = new URL(baseHref.trim(), input.url).href;
    } catch {
      // An unparsable <base href> is ignored, as browsers do.
    }
  }
  const links: string[] = [];
  if (!nofollow) {
    $('a[href], area[href]').each((_, el) => {
      const href = $(el).attr('href');
      if (href === undefined || SKIP_SCHEMES.test(href)) return;
      try {
        links.push(new URL(href.trim(), base).href);
      } catch {
        // Not a URL: skip it.
      }
    });
  }
  const fields: Record<string, string | null> = {};
  for (const [name, selector] of input.selects) {
    const hit = $(selector).first();
    fields[name] = hit.length > 0 ? hit.text().replace(/\s+/g, ' ').trim() : null;
  }
  return { title: titleText === '' ? null : titleText, links, fields, noindex, nofollow, text: input.wantText ? html : null };
}
