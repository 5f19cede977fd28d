import { decodeHTML, decodeHTMLAttribute } from 'entities';

/** A `<meta name content>` of the page. */
export interface MetaTag {
  name: string;
  content: string;
}

/** What extract() needs of a page when it has no --select to answer. */
export interface PageScan {
  title: string | null;
  metas: MetaTag[];
  /** The first `<base href>`'s value. */
  baseHref: string | undefined;
  /** Every `a[href]` and `area[href]` value, in document order. */
  hrefs: string[];
  /** The `content` of each `<meta http-equiv="refresh">`, in document order. */
  refreshes: string[];
}

/**
 * What both readings of a page (scanPage()'s parser events, looseScan()'s regular expressions)
 * take from its `<meta>`, `<base>`, `<a>` and `<area>` start tags, one tag at a time.
 */
export class TagCollector {
  baseHref: string | undefined;
  readonly metas: MetaTag[] = [];
  readonly hrefs: string[] = [];
  readonly refreshes: string[] = [];

  /** A start tag: its lower-case name and its attributes (names lower case). */
  tag(name: string, attrs: Readonly<Record<string, string | undefined>>): void {
    switch (name) {
      case 'meta':
        if (attrs.name !== undefined) this.metas.push({ name: attrs.name, content: attrs.content ?? '' });
        if (attrs.content !== undefined && isRefresh(attrs['http-equiv'])) this.refreshes.push(attrs.content);
        break;
      case 'base':
        if (this.baseHref === undefined && attrs.href !== undefined) this.baseHref = attrs.href;
        break;
      case 'a':
      case 'area':
        if (attrs.href !== undefined) this.hrefs.push(attrs.href);
        break;
    }
  }

  /** The page as scanned, with its title (null when it had none). */
  scan(title: string | null): PageScan {
    return { title, metas: this.metas, baseHref: this.baseHref, hrefs: this.hrefs, refreshes: this.refreshes };
  }
}

/** Text as a page shows it: runs of white space as one space, none at the ends. */
export const collapseSpace = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** A title as records hold it: collapsed, null when empty. */
export const normaliseTitle = (text: string): string | null => collapseSpace(text) || null;

/** Whether a `<meta http-equiv>` value is a refresh. */
export const isRefresh = (httpEquiv: string | undefined): boolean => httpEquiv !== undefined && httpEquiv.trim().toLowerCase() === 'refresh';

/**
 * Tag nesting past which a page is not given to htmlparser2: its stack of open tags is an array
 * it adds to and takes from at the front, so a page that opens tag after tag without closing
 * them costs time quadratic in its depth (100,000 levels: 2 s; 200,000: 14 s of the crawl's one
 * thread, every other page waiting), and cheerio's DOM of one overflows the call stack at a few
 * thousand levels. Pages nest a few dozen levels.
 */
export const MAX_PARSE_DEPTH = 20_000;

/** Shorter pages cannot nest MAX_PARSE_DEPTH deep (each level is a tag of at least 3 bytes). */
const DEPTH_CHECK_FROM = 3 * MAX_PARSE_DEPTH;

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const TAG = /<(\/?)([a-zA-Z][^\s/>]*)[^>]*?(\/?)>/g;

/**
 * True when the page opens tags deeper than MAX_PARSE_DEPTH (a rough count: tags opened less
 * tags closed, void and self-closed ones aside), which only a page made to stall parsers does.
 */
export function nestsTooDeep(html: string): boolean {
  if (html.length < DEPTH_CHECK_FROM) return false;
  let depth = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(html); m !== null; m = TAG.exec(html)) {
    if (m[1] === '/') depth = Math.max(0, depth - 1);
    else if (m[3] !== '/' && !VOID.has(m[2]!.toLowerCase()) && ++depth > MAX_PARSE_DEPTH) return true;
  }
  return false;
}

const ATTR = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

/** A start tag's attributes (the text after its name), names lower case, values decoded; the first of a name wins, as in HTML. */
function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  ATTR.lastIndex = 0;
  for (let m = ATTR.exec(text); m !== null; m = ATTR.exec(text)) {
    const name = m[1]!.toLowerCase();
    if (!(name in out)) out[name] = decodeHTMLAttribute(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

const START_TAG = /<(title|meta|base|a|area)(?=[\s/>])([^>]*)>/gi;
const TITLE_END = /<\/title\s*>/i;

/**
 * What scanPage() reads of a page, read from its start tags with regular expressions instead of
 * a parser: for a page that nests too deep to parse (nestsTooDeep()), in time linear in its
 * length. Script and comment contents are not told apart, so a tag written in one counts: a
 * crawl may follow a link or two more on such a page, and loses none.
 */
export function looseScan(html: string): PageScan {
  let title: string | null = null;
  const tags = new TagCollector();
  START_TAG.lastIndex = 0;
  for (let m = START_TAG.exec(html); m !== null; m = START_TAG.exec(html)) {
    const name = m[1]!.toLowerCase();
    if (name !== 'title') {
      tags.tag(name, attributes(m[2]!));
    } else if (title === null) {
      const rest = html.slice(START_TAG.lastIndex);
      const end = TITLE_END.exec(rest);
      title = decodeHTML(end ? rest.slice(0, end.index) : rest);
    }
  }
  return tags.scan(title === null ? null : normaliseTitle(title));
}
