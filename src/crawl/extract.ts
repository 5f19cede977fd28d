import { load } from 'cheerio/slim';
import { select } from 'cheerio-select';
import { Parser } from 'htmlparser2';
import iconv from 'iconv-lite';
import { decodeText, sniffEncoding } from '../client/index.js';
import { metaRobots, type RobotsDirectives } from './robots-directives.js';
import { collapseSpace, isRefresh, looseScan, MAX_PARSE_DEPTH, nestsTooDeep, normaliseTitle, TagCollector, type MetaTag, type PageScan } from './loose-scan.js';

export interface ExtractInput {
  body: Uint8Array;
  contentType: string | null;
  /** The page URL (final, after the response): the base for relative links. */
  url: string;
  /**
   * name → CSS selector: the text of the first match is taken, or with `::attr(NAME)` at the
   * end its attribute NAME (as Scrapy's selectors write it; `::text` at the end is the default).
   */
  selects: Array<[string, string]>;
  /** name → CSS selector, as `selects`, but every match is taken, in document order (a list). */
  selectAll?: Array<[string, string]>;
  /** Return the decoded text too. */
  wantText: boolean;
}

export interface ExtractResult {
  title: string | null;
  /**
   * Absolute URLs of a[href] and area[href], then of the first meta refresh that names one;
   * unfiltered except for non-web schemes; none on a nofollow page.
   */
  links: string[];
  fields: Record<string, string | string[] | null>;
  noindex: boolean;
  nofollow: boolean;
  text: string | null;
  /**
   * Why the --select fields are all null though the page is HTML (cheerio could not build its
   * document: it nests too deep); its title and links were read all the same.
   */
  fieldsError?: string;
}

/** A --select's CSS and what it takes of a match: its text, or an attribute's value. */
interface Selector {
  css: string;
  attr: string | null;
}

const PSEUDO = /::(?:attr\(\s*([^\s()]+)\s*\)|(text))\s*$/;

/** `h1`, `h1::text`, `link[rel=canonical]::attr(href)`. */
function parseSelector(selector: string): Selector {
  const m = PSEUDO.exec(selector);
  if (!m) return { css: selector, attr: null };
  return { css: selector.slice(0, m.index), attr: m[1] ?? null };
}

/** A message naming the first selector (of --select or `flag`) cheerio cannot compile, or null when all can. */
export function checkSelectors(selects: Array<[string, string]>, flag = 'selects (--select)'): string | null {
  const $ = load('<html></html>');
  for (const [name, selector] of selects) {
    try {
      const { css } = parseSelector(selector);
      if (/::/.test(css)) throw new Error('the only pseudo-elements taken are ::text and ::attr(NAME), at the end');
      $(css);
    } catch (err) {
      return `${flag} ${name}=${selector}: not a valid CSS selector (${err instanceof Error ? err.message : String(err)})`;
    }
  }
  return null;
}

/**
 * A message naming what is wrong with a crawl's --select and --select-all fields (a selector
 * cheerio cannot compile, a name both give), or null when nothing is.
 */
export function checkFields(selects: Array<[string, string]>, selectAll: Array<[string, string]>): string | null {
  const bad = checkSelectors(selects) ?? checkSelectors(selectAll, 'selectAll (--select-all)');
  if (bad) return bad;
  const taken = new Set(selects.map(([name]) => name));
  const twice = selectAll.find(([name]) => taken.has(name));
  return twice ? `selects and selectAll (--select and --select-all) both name the field ${JSON.stringify(twice[0])}` : null;
}

const SKIP_SCHEMES = /^\s*(javascript|mailto|tel|data|ftp|file|about|blob|sms):/i;

/** What the page's robots meta tags (`robots`, or rawcrawl's own name) say. */
function robotsDirectives(metas: MetaTag[]): RobotsDirectives {
  return metaRobots(metas.filter((m) => /^(robots|rawcrawl)$/i.test(m.name)).map((m) => m.content));
}

/** The page's encoding (its name, as encoding-sniffer gives it), asked for only when a URL needs it. */
type PageEncoding = () => string;

/** A query's ASCII bytes that WHATWG URL percent-encodes (the special-query percent-encode set). */
const QUERY_ESCAPED = /[\x00-\x20"#'<>\x7f]/;

/**
 * The query as the page's encoding spells it (WHATWG URL "percent-encode after encoding"): each
 * non-ASCII character's bytes in that encoding, those outside ASCII or in the query's escape set
 * percent-encoded, and a character the encoding has no bytes for as "&#N;" (%26%23N%3B). ASCII
 * is left as written, for the URL parser.
 */
function encodeQuery(query: string, encoding: string): string {
  let out = '';
  for (const ch of query) {
    if (ch < '\x80') {
      out += ch;
      continue;
    }
    const bytes = iconv.encode(ch, encoding);
    if (iconv.decode(bytes, encoding) !== ch) {
      out += `%26%23${ch.codePointAt(0)!}%3B`;
      continue;
    }
    for (const b of bytes) {
      const c = String.fromCharCode(b);
      out += b >= 0x80 || QUERY_ESCAPED.test(c) ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : c;
    }
  }
  return out;
}

/**
 * An href resolved as HTML resolves it ("encoding-parse a URL"): the query of a link in a page
 * in a legacy encoding (windows-1252, Shift_JIS, GBK …) is that encoding's bytes, not UTF-8's,
 * as browsers request it and Scrapy's link extractor does; the path is UTF-8 either way.
 * Throws for what is not a URL.
 */
function resolveHref(href: string, base: string, encoding: PageEncoding): URL {
  const url = new URL(href, base);
  // Only a non-ASCII query written in the href is encoded otherwise: for http(s) the query is
  // what follows the first "?" before any "#", once the URL parser's white space is stripped.
  if (!/[^\x00-\x7f]/.test(href) || (url.protocol !== 'http:' && url.protocol !== 'https:')) return url;
  let s = href.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '').replace(/[\t\n\r]/g, '');
  const hash = s.indexOf('#');
  if (hash !== -1) s = s.slice(0, hash);
  const q = s.indexOf('?');
  if (q === -1 || !/[^\x00-\x7f]/.test(s.slice(q))) return url;
  const name = encoding();
  // UTF-16 pages' URLs are UTF-8 (WHATWG: an encoding's output encoding); one iconv-lite lacks (ISO-2022-JP) stays UTF-8.
  if (/^utf-?(8|16)/i.test(name) || !iconv.encodingExists(name)) return url;
  url.search = `?${encodeQuery(s.slice(q + 1), name)}`;
  return url;
}

/**
 * HTML: the first <base href> sets the document base URL; an unparsable one, or one to a data:
 * or javascript: URL, is ignored, as browsers do.
 */
function documentBase(baseHref: string | undefined, url: string, encoding: PageEncoding): string {
  if (baseHref === undefined) return url;
  try {
    const base = resolveHref(baseHref, url, encoding);
    return base.protocol === 'data:' || base.protocol === 'javascript:' ? url : base.href;
  } catch {
    return url;
  }
}

/** The hrefs as absolute URLs, in order, without non-web schemes and what is not a URL. */
function resolveLinks(hrefs: string[], base: string, encoding: PageEncoding): string[] {
  const links: string[] = [];
  for (const href of hrefs) {
    try {
      // The scheme as the URL parser reads it: "java\tscript:" is javascript: too.
      const url = resolveHref(href, base, encoding);
      if (!SKIP_SCHEMES.test(url.protocol)) links.push(url.href);
    } catch {
      // Not a URL: skip it.
    }
  }
  return links;
}

const HTML_SPACE = '[\\t\\n\\f\\r ]';
const REFRESH_TIME = new RegExp(`^${HTML_SPACE}*(\\d*)(\\.[\\d.]*)?`);
const REFRESH_SEPARATOR = new RegExp(`^${HTML_SPACE}*[;,]?${HTML_SPACE}*`);
const REFRESH_URL_KEY = new RegExp(`^url${HTML_SPACE}*=${HTML_SPACE}*`, 'i');

/**
 * The URL a `<meta http-equiv="refresh" content>` sends the browser to (`5; url=/next`,
 * `0;URL='/x'`, `3, /y`), as HTML's declarative refresh reads it; null for a bare delay (a
 * reload of the page itself) or content that is not a refresh.
 */
export function refreshUrl(content: string): string | null {
  const time = REFRESH_TIME.exec(content)!;
  if (time[1] === '' && time[2] === undefined) return null;
  let rest = content.slice(time[0].length);
  if (rest !== '' && !/^[\t\n\f\r ;,]/.test(rest)) return null;
  rest = rest.slice(REFRESH_SEPARATOR.exec(rest)![0].length);
  const key = REFRESH_URL_KEY.exec(rest);
  if (key) rest = rest.slice(key[0].length);
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    rest = rest.slice(1);
    const end = rest.indexOf(quote);
    if (end !== -1) rest = rest.slice(0, end);
  }
  return rest.trim() === '' ? null : rest;
}

/**
 * The page's links (none for a nofollow page): its hrefs, then where its first meta refresh
 * with a URL leads.
 */
function pageLinks(hrefs: string[], refreshes: string[], nofollow: boolean, base: string, encoding: PageEncoding): string[] {
  if (nofollow) return [];
  const links = resolveLinks(hrefs, base, encoding);
  for (const content of refreshes) {
    const target = refreshUrl(content);
    if (target === null) continue;
    const [url] = resolveLinks([target], base, encoding);
    if (url !== undefined && !links.includes(url)) links.push(url);
    break;
  }
  return links;
}

/**
 * What a page without --select needs (title, meta robots, base, links), read from htmlparser2's
 * events as they come, without building the document: the same parser and options cheerio's
 * load() uses, so the same elements with the same attributes, in document order. The DOM of a
 * 20 KB page is thousands of objects the crawl's thread had to build and the GC to copy;
 * test/crawl/extract.test.ts checks this path against the cheerio one on random markup.
 */
function scanPage(html: string): PageScan {
  let title = '';
  /** Depth of the first <title> while it is open; 0 before it, -1 after it closed. */
  let titleDepth = 0;
  let depth = 0;
  const tags = new TagCollector();
  const parser = new Parser({
    onopentag(name, attribs) {
      depth++;
      if (name !== 'title') tags.tag(name, attribs);
      else if (titleDepth === 0) titleDepth = depth;
    },
    ontext(text) {
      if (titleDepth > 0) title += text;
    },
    onclosetag() {
      if (depth === titleDepth) titleDepth = -1;
      depth--;
    },
  });
  parser.end(html);
  return tags.scan(normaliseTitle(title));
}

/**
 * Parses one HTML page: decoded by its real charset (header, BOM, <meta>), with htmlparser2.
 * Without --select fields it reads the parser's events (scanPage); with them it builds the
 * document with cheerio, once, for the selectors.
 */
export function extract(input: ExtractInput): ExtractResult {
  const buf = Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
  const html = decodeText(buf, input.contentType);
  let sniffed: string | undefined;
  const encoding: PageEncoding = () => (sniffed ??= sniffEncoding(buf, input.contentType));
  const text = input.wantText ? html : null;
  const selectAll = input.selectAll ?? [];
  const deep = nestsTooDeep(html);
  const fromScan = (page: PageScan, fieldsError?: string): ExtractResult => {
    const { noindex, nofollow } = robotsDirectives(page.metas);
    const links = pageLinks(page.hrefs, page.refreshes, nofollow, documentBase(page.baseHref, input.url, encoding), encoding);
    const fields: ExtractResult['fields'] = {};
    for (const [name] of input.selects) fields[name] = null;
    for (const [name] of selectAll) fields[name] = [];
    return { title: page.title, links, fields, noindex, nofollow, text, ...(fieldsError !== undefined ? { fieldsError } : {}) };
  };
  const withFields = input.selects.length > 0 || selectAll.length > 0;
  if (deep) return fromScan(looseScan(html), withFields ? `the page nests tags more than ${MAX_PARSE_DEPTH} deep: its --select fields are not read` : undefined);
  if (!withFields) return fromScan(scanPage(html));
  try {
    return selectFields(html, input, text, encoding);
  } catch (err) {
    // cheerio's document of a page nested a few thousand deep overflows the call stack: the
    // page's own title and links are still worth having.
    return fromScan(scanPage(html), `cannot read its --select fields: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** extract() with --select fields: the document built by cheerio, once, for the selectors. */
function selectFields(html: string, input: ExtractInput, text: string | null, encoding: PageEncoding): ExtractResult {
  const selectAll = input.selectAll ?? [];
  const loaded = load(html);
  const doc = loaded.root()[0]!;
  // The elements matching css, in document order: selected from the document node itself, as
  // $(css) is not (it starts from the document's children and deduplicates them pairwise, in
  // time quadratic in their number: a page of 100,000 links with no <html> took minutes).
  const $ = (css: string | Parameters<typeof loaded>[0]) => loaded(typeof css === 'string' ? select(css, doc) : css);
  const metas: MetaTag[] = $('meta[name]')
    .toArray()
    .map((el) => ({ name: $(el).attr('name') ?? '', content: $(el).attr('content') ?? '' }));
  const { noindex, nofollow } = robotsDirectives(metas);
  const hrefs: string[] = [];
  if (!nofollow) {
    $('a[href], area[href]').each((_, el) => {
      const href = $(el).attr('href');
      if (href !== undefined) hrefs.push(href);
    });
  }
  const refreshes = $('meta[http-equiv][content]')
    .toArray()
    .filter((el) => isRefresh($(el).attr('http-equiv')))
    .map((el) => $(el).attr('content') ?? '');
  const links = pageLinks(hrefs, refreshes, nofollow, documentBase($('base[href]').first().attr('href'), input.url, encoding), encoding);
  const fields: Record<string, string | string[] | null> = {};
  /** What a --select takes of one element: its text, or the attribute (undefined: it has none). */
  const take = (el: Parameters<typeof $>[0], attr: string | null): string | undefined => (attr === null ? collapseSpace($(el).text()) : $(el).attr(attr)?.trim());
  for (const [name, selector] of input.selects) {
    const { css, attr } = parseSelector(selector);
    const hit = $(css).first();
    fields[name] = hit.length === 0 ? null : (take(hit, attr) ?? null);
  }
  for (const [name, selector] of selectAll) {
    const { css, attr } = parseSelector(selector);
    fields[name] = $(css)
      .toArray()
      .map((el) => take(el, attr))
      .filter((v): v is string => v !== undefined);
  }
  return { title: normaliseTitle($('title').first().text()), links, fields, noindex, nofollow, text };
}
