/** Content types a page is parsed for links as HTML. */
export const HTML_TYPES = /^\s*(text\/html|application\/xhtml\+xml)\s*(;|$)/i;

/**
 * WHATWG MIME Sniffing §7.1, the HTML rows of "identifying an unknown MIME type": after white
 * space, one of these tags (any case) ended by a space or ">", or a comment. A UTF-8 BOM before
 * them is allowed too (the spec would call such a body text/plain; a server that sends no
 * Content-Type and a BOM means HTML as often as not).
 */
const HTML_SIGNATURE = /^(?:\xef\xbb\xbf)?[\t\n\f\r ]*(?:<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p)[ >]|<!--)/i;

/** The page is HTML: by its Content-Type, or with none, by its first bytes. */
export function isHtml(contentType: string | null, body: Buffer): boolean {
  if (contentType) return HTML_TYPES.test(contentType);
  return HTML_SIGNATURE.test(body.subarray(0, 512).toString('latin1'));
}
