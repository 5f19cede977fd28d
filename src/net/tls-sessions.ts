import { createHash } from 'node:crypto';
import { BoundedMap } from './bounded-map.js';

/** A session to resume, with the certificate it was made with. */
export interface CachedSession {
  /** What OpenSSL gave (tls 'session' event) and takes back (tls.connect's `session`). */
  session: Buffer;
  /**
   * SHA-256 fingerprint of the peer certificate of the handshake that made the session: a
   * resumed handshake sends no certificate, and Node then reports none.
   */
  fingerprint256?: string;
}

/**
 * TLS sessions to resume, by server and by how its certificate was checked (tlsSessionKey), at
 * most 1,000 (about 1–2 KB each). rawcrawl opens a new connection per request (Connection:
 * close); resuming the session of an earlier one spares each handshake the certificate chain
 * check and the server's signature (RFC 8446 §2.2, RFC 5077), as browsers, curl and Node's
 * https.Agent do. A session is offered only to a connection made with the same verification
 * settings (CA list, rejectUnauthorized, server name) as the one that received it, so a session
 * from an unchecked connection never stands in for a checked one. Shared by every
 * openConnection() that does not opt out.
 */
export const tlsSessions = new BoundedMap<CachedSession>(1000);

/** A digest of PEMs (a CA list, a client certificate chain), or `none` when there are none. */
function pemIdentity(ca: string | Buffer | Array<string | Buffer> | undefined, none: string): string {
  if (ca === undefined) return none;
  const h = createHash('sha256');
  for (const c of Array.isArray(ca) ? ca : [ca]) {
    h.update(c);
    h.update('\0');
  }
  return h.digest('base64');
}

/**
 * The cache key: the server, every setting that decides whether its certificate is accepted,
 * and the client certificate presented: a resumed session skips client authentication too, so
 * a session one certificate earned is never offered by a connection with another, or with none.
 */
export function tlsSessionKey(
  host: string,
  port: number,
  servername: string | undefined,
  ca: string | Buffer | Array<string | Buffer> | undefined,
  rejectUnauthorized: boolean,
  clientCert?: string | Buffer | Array<string | Buffer>,
): string {
  return `${host}|${port}|${servername ?? ''}|${rejectUnauthorized ? 'verify' : 'no-verify'}|${pemIdentity(ca, 'default')}|${pemIdentity(clientCert, 'no-client-cert')}`;
}
