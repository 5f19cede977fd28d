import { isUtf8 } from 'node:buffer';
import { decodeBuffer, getEncoding, type SnifferOptions } from 'encoding-sniffer';

/** The charset parameter of a Content-Type value, if any (RFC 9110 §8.3.2). */
export function charsetOf(contentType: string | null): string | undefined {
  if (!contentType) return undefined;
  const m = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType);
  return m ? m[2] : undefined;
}

/**
 * The WHATWG encoding sniffing algorithm (BOM, then transport charset, then the <meta> prescan of
 * the first 1024 bytes), via encoding-sniffer; where none of them names an encoding (or only a
 * label no encoding has), UTF-8 when the bytes are valid UTF-8, else windows-1252. The standard's
 * last step is left to the browser's own guess: as browsers do (Chrome's detector) and Scrapy
 * does, a page in UTF-8 that does not say so is read as UTF-8, not as mojibake.
 */
function sniffOptions(body: Buffer, contentType: string | null): SnifferOptions {
  const label = charsetOf(contentType);
  const defaultEncoding = isUtf8(body) ? 'utf-8' : 'windows-1252';
  return label ? { transportLayerEncodingLabel: label, defaultEncoding } : { defaultEncoding };
}

export function sniffEncoding(body: Buffer, contentType: string | null): string {
  return getEncoding(body, sniffOptions(body, contentType));
}

export function decodeText(body: Buffer, contentType: string | null): string {
  const options = sniffOptions(body, contentType);
  // WHATWG's "replacement" encoding (labels ISO-2022-KR, HZ-GB-2312, …), which no TextDecoder
  // takes: its decoder gives one U+FFFD for a body that is not empty.
  if (getEncoding(body, options) === 'replacement') return body.length > 0 ? '\ufffd' : '';
  return decodeBuffer(body, options);
}
