import { isIP } from 'node:net';
import { RawcrawlError } from '../errors.js';
import { unbracket } from '../net/connect.js';
import type { ResolvedAddress } from '../net/dns-cache.js';

/**
 * Addresses to connect to instead of looking names up, as curl's --resolve: keys "host:port"
 * (a port, or `*` for any; an IPv6 host in brackets), values one IP address or several.
 */
export type ResolveMap = Record<string, string | readonly string[]>;

/** A ResolveMap checked, keyed by lower-case host (unbracketed) and port, for openConnection(). */
export function parseResolve(map: ResolveMap): Map<string, ResolvedAddress[]> {
  const out = new Map<string, ResolvedAddress[]>();
  for (const [key, value] of Object.entries(map)) {
    const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5}|\*)$/.exec(key.trim());
    const port = m && m[2] !== '*' ? Number(m[2]) : 0;
    if (!m || (m[2] !== '*' && (port < 1 || port > 65535))) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `resolve key ${JSON.stringify(key)} is not host:port (port 1-65535 or *)`);
    }
    const host = unbracket(m[1]!).toLowerCase();
    const list = (typeof value === 'string' ? value.split(',') : [...value]).map((a) => a.trim().replace(/^\[|\]$/g, ''));
    if (list.length === 0 || list.some((a) => isIP(a) === 0)) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `resolve ${key}: ${JSON.stringify(value)} is not a list of IP addresses`);
    }
    out.set(`${host}:${m[2]}`, list.map((address) => ({ address, family: isIP(address) })));
  }
  return out;
}

/** curl's --resolve argument, "host:port:addr[,addr…]" (IPv6 in brackets), as a ResolveMap entry. */
export function parseResolveEntry(entry: string): [key: string, addresses: string] {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5}|\*):(.+)$/.exec(entry.trim());
  if (!m) throw new RawcrawlError('ERR_INVALID_OPTION', `--resolve ${JSON.stringify(entry)} is not host:port:address[,address…]`);
  const key = `${m[1]}:${m[2]}`;
  parseResolve({ [key]: m[3]! });
  return [key, m[3]!];
}
