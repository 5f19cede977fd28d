import { decodeBuffer, getEncoding } from 'encoding-sniffer';

/** The charset parameter of a Content-Type value, if any (RFC 9110 §8.3.2). */
export function charsetOf(contentType: string | null): string | undefined {
  if (!contentType) return undefined;
  const m = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType);
  return m ? m[2] : undefined;
}

/**
 * The WHATWG encoding sniffing algorithm (BOM, then transport charset, then <meta> prescan,
 * then windows-1252), via encoding-sniffer.
 */
export function sniffEncoding(body: Buffer, contentType: string | null): string {
  const label = charsetOf(contentType);
  return getEncoding(body, label ? { transportLayerEncodingLabel: label } : {});
}

export function decodeText(body: Buffer, contentType: string | null): string {
  const label = charsetOf(contentType);
  return decodeBuffer(body, label ? { transportLayerEncodingLabel: label } : {});
}
