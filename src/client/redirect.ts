/** RFC 9110 §15.4: the statuses that redirect with a Location. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export type RedirectDecision =
  | { follow: false; why: 'not-a-redirect' | 'no-location' | 'bad-location' | 'unsupported-scheme' | 'disabled' }
  | { follow: true; url: URL; method: string; crossOrigin: boolean };

/**
 * Whether and where to follow a response, as a pure function of the response and the request.
 * Only http and https targets are followed; HEAD stays HEAD, everything else becomes GET.
 */
export function decideRedirect(status: number, location: string | null, current: URL, method: string, maxRedirects: number): RedirectDecision {
  if (!REDIRECTS.has(status)) return { follow: false, why: 'not-a-redirect' };
  if (maxRedirects <= 0) return { follow: false, why: 'disabled' };
  if (location === null || location.trim() === '') return { follow: false, why: 'no-location' };
  let url: URL;
  try {
    // Location values are often sent with raw UTF-8 or spaces; WHATWG URL percent-encodes them.
    url = new URL(utf8Location(location.trim()), current);
  } catch {
    return { follow: false, why: 'bad-location' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { follow: false, why: 'unsupported-scheme' };
  // RFC 9110 §15.4: a fragment-less Location inherits the fragment of the original request.
  if (url.hash === '' && current.hash !== '') url.hash = current.hash;
  return { follow: true, url, method: method === 'HEAD' ? 'HEAD' : 'GET', crossOrigin: url.origin !== current.origin };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The Location of a 3xx response, read as the client reads one it follows (raw UTF-8 as UTF-8);
 * null for another status or without one.
 */
export function redirectLocation(res: { status: number; header(name: string): string | null }): string | null {
  const raw = res.status >= 300 && res.status < 400 ? res.header('location') : null;
  return raw === null ? null : utf8Location(raw);
}

/** Header values are kept as Latin-1; a Location sent as raw UTF-8 is read as UTF-8, as browsers do. */
export function utf8Location(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value)) return value;
  try {
    return utf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}
