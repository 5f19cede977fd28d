import type { RawcrawlError } from '../errors.js';

/** User name and password, %-decoded, as a URL's userinfo gives them. */
export interface Credentials {
  user: string;
  password: string;
}

/**
 * The user name and password of `url` (`http://user:pass@host/`), %-decoded; null when it has
 * none. A malformed %-escape in them is the error `malformed` makes, given what is wrong.
 */
export function urlCredentials(url: URL, malformed: (problem: string) => RawcrawlError): Credentials | null {
  if (url.username === '' && url.password === '') return null;
  try {
    return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    throw malformed('its user name or password holds a malformed %-escape');
  }
}

/** The value of an Authorization (or Proxy-Authorization) field for Basic credentials (RFC 7617, UTF-8). */
export function basicAuthorization(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.user}:${c.password}`, 'utf8').toString('base64')}`;
}

/**
 * A URL as an error line shows it: without the user name and password it may hold. Works on
 * text that does not parse as a URL too (that is when it is quoted in an error).
 */
export const withoutUserinfo = (href: string): string => href.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
