/**
 * Page-level robots directives (the robots meta tag and the X-Robots-Tag header, as Google and
 * Bing document them): a comma-separated list of directives, of which a crawler acts on
 * `noindex`, `nofollow` and `none` (both). Other directives, some with a value after a colon
 * (`max-image-preview:none`, `max-snippet:-1`, `unavailable_after: …`), say nothing to a crawler:
 * a "none" inside one of them is not `none`.
 */
export interface RobotsDirectives {
  noindex: boolean;
  nofollow: boolean;
}

/** Directives that take a value after a colon: a name before a colon that is none of them names a user agent. */
const VALUED = new Set(['max-snippet', 'max-image-preview', 'max-video-preview', 'unavailable_after']);

/** Adds what one directive says. */
function apply(directive: string, into: RobotsDirectives): void {
  switch (directive) {
    case 'none':
      into.noindex = true;
      into.nofollow = true;
      break;
    case 'noindex':
      into.noindex = true;
      break;
    case 'nofollow':
      into.nofollow = true;
      break;
  }
}

/** What the contents of the page's robots meta tags for us (`<meta name="robots">` or our own token) say. */
export function metaRobots(contents: string[]): RobotsDirectives {
  const out = { noindex: false, nofollow: false };
  for (const content of contents) for (const d of content.split(',')) apply(d.trim().toLowerCase(), out);
  return out;
}

/**
 * What the X-Robots-Tag fields (each as sent) say to the user agent `token` (lower case). A
 * field, or a part of one, may be addressed to a user agent (`otherbot: noindex, nofollow`):
 * what follows such a prefix, to the field's end or the next prefix, is that agent's only.
 */
export function xRobotsTag(fields: string[], token: string): RobotsDirectives {
  const out = { noindex: false, nofollow: false };
  for (const field of fields) {
    let forUs = true;
    for (const part of field.split(',')) {
      let d = part.trim().toLowerCase();
      const colon = d.indexOf(':');
      if (colon > 0) {
        const name = d.slice(0, colon).trim();
        if (!VALUED.has(name)) {
          forUs = name === token;
          d = d.slice(colon + 1).trim();
        }
      }
      if (forUs) apply(d, out);
    }
  }
  return out;
}
