import { readFileSync } from 'node:fs';
import type { TlsOptions } from '../net/connect.js';
import { RawcrawlError } from '../errors.js';

/** --insecure, --ca FILE and --no-tls-resume, as the client's tls options. */
export function tlsFromFlags(flags: { insecure?: boolean; ca?: string; tlsResume?: boolean }): TlsOptions {
  const tls: TlsOptions = {};
  if (flags.insecure) tls.rejectUnauthorized = false;
  if (flags.tlsResume === false) tls.sessionCache = false;
  if (flags.ca) {
    try {
      tls.ca = readFileSync(flags.ca);
    } catch (err) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `cannot read --ca ${flags.ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return tls;
}
