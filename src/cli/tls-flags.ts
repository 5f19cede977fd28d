import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsOptions } from '../net/tls-handshake.js';
import { RawcrawlError } from '../errors.js';

export interface TlsFlags {
  insecure?: boolean;
  ca?: string;
  tlsResume?: boolean;
  cert?: string;
  key?: string;
  pass?: string;
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new RawcrawlError('ERR_INVALID_OPTION', `cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * --insecure, --ca FILE, --no-tls-resume and the client certificate (--cert FILE, --key FILE,
 * --pass PHRASE; as curl, --key defaults to the --cert file, which then holds both), as the
 * client's tls options. A certificate and key that do not go together, or a wrong passphrase,
 * are refused here, before any connection.
 */
export function tlsFromFlags(flags: TlsFlags, caFlag = '--ca'): TlsOptions {
  const tls: TlsOptions = {};
  if (flags.insecure) tls.rejectUnauthorized = false;
  if (flags.tlsResume === false) tls.sessionCache = false;
  if (flags.ca) tls.ca = readPem(caFlag, flags.ca);
  if (flags.key !== undefined && flags.cert === undefined) throw new RawcrawlError('ERR_INVALID_OPTION', '--key needs --cert (the certificate the key belongs to)');
  if (flags.cert !== undefined) {
    tls.cert = readPem('--cert', flags.cert);
    tls.key = flags.key !== undefined ? readPem('--key', flags.key) : tls.cert;
    if (flags.pass !== undefined) tls.passphrase = flags.pass;
    try {
      createSecureContext({ cert: tls.cert, key: tls.key, ...(flags.pass !== undefined ? { passphrase: flags.pass } : {}) });
    } catch (err) {
      throw new RawcrawlError('ERR_INVALID_OPTION', `--cert ${flags.cert}${flags.key !== undefined ? ` with --key ${flags.key}` : ''} cannot be used: ${(err as Error).message}`);
    }
  }
  return tls;
}
