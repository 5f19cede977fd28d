/** RFC 3986 §2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** RFC 3986 §6.2.2.1-2: upper-case hex in escapes, decode escaped unreserved characters. */
export function normalizeEscapes(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

/**
 * The form a URL is deduplicated by: http(s) only; scheme and host lower-cased, IDN as punycode,
 * default port dropped, dot-segments resolved, empty path → "/", fragment dropped, empty query
 * dropped, percent-escapes normalised (RFC 3986 §6.2.2). Returns null for anything not crawlable.
 */
export function normalizeUrl(input: string, base?: string | URL): string | null {
  let url: URL;
  try {
    url = base === undefined ? new URL(input) : new URL(input, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.hostname === '') return null;
  // A DNS name has at most 253 characters (RFC 1035 §2.3.4), which no lookup gets past; WHATWG
  // URL takes any length. With a port, 255 is what the MySQL frontier's host column holds.
  if (url.hostname.length > 253 || url.host.length > 255) return null;
  // Each setter re-serialises the URL: touch only what needs changing (this runs for every link).
  if (url.hash !== '') url.hash = '';
  if (url.username !== '' || url.password !== '') {
    url.username = '';
    url.password = '';
  }
  // WHATWG URL already lower-cases scheme and host, drops the default port, resolves dot-segments
  // and turns an empty path into "/"; escapes it leaves alone.
  if (url.pathname.includes('%')) url.pathname = normalizeEscapes(url.pathname);
  const search = url.search;
  if (search !== '' && search.includes('%')) url.search = normalizeEscapes(search);
  let href = url.href;
  // An empty fragment ("#", "x#", "x?#") has hash '' but stays in href: the commonest link of
  // all (href="#") would be its page again under another name.
  if (href.endsWith('#')) href = href.slice(0, -1);
  // An empty query ("x?") likewise; a query that ends in "?" ("?q=what?") is not empty.
  if (url.search === '' && href.endsWith('?')) href = href.slice(0, -1);
  return href;
}
