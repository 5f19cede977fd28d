import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { RawcrawlError } from '../errors.js';
import type { WireEventBody } from '../wire/events.js';
import { tlsSessionKey, tlsSessions, type CachedSession } from './tls-sessions.js';

export interface TlsOptions {
  /**
   * The certificates (PEM) to trust instead of the system's: CAs, or the server's own certificate
   * or an intermediate, each trusted as it is (OpenSSL's partial chain, as curl --cacert).
   */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /** SNI and certificate name to check; defaults to the host, without a trailing dot (never an IP literal). */
  servername?: string;
  /** Client certificate chain (PEM), for a server that asks for one (mutual TLS); with `key`. */
  cert?: string | Buffer | Array<string | Buffer>;
  /** Private key (PEM) of `cert`. */
  key?: string | Buffer | Array<string | Buffer>;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /**
   * Resume the TLS session of an earlier connection to the same server made with the same
   * settings (default true): the handshake then skips the certificate check and the server's
   * signature. false: a full handshake every time.
   */
  sessionCache?: boolean;
}

export interface Handshake {
  secure: tls.TLSSocket;
  /** peerFingerprint() of the connection, worked out once (getPeerCertificate() builds an object). */
  fingerprint(): string | undefined;
}

/** The `tls` trace event of a handshake; `proxy`: the one with an https:// proxy. */
export function tlsEvent({ secure, fingerprint }: Handshake, proxy: boolean): WireEventBody {
  const fingerprint256 = fingerprint();
  return {
    type: 'tls',
    ...(proxy ? { proxy: true } : {}),
    protocol: secure.getProtocol() ?? 'unknown',
    cipher: secure.getCipher()?.name ?? 'unknown',
    authorized: secure.authorized,
    resumed: secure.isSessionReused(),
    ...(secure.authorizationError ? { authorizationError: String(secure.authorizationError) } : {}),
    ...(secure.alpnProtocol ? { alpn: secure.alpnProtocol } : {}),
    ...(fingerprint256 ? { fingerprint256 } : {}),
  };
}

/**
 * The peer certificate's SHA-256 fingerprint. A resumed handshake carries no certificate and
 * Node reports none: it is then the one the resumed session was made with.
 */
function peerFingerprint(s: tls.TLSSocket, offered: CachedSession | undefined): string | undefined {
  return s.getPeerCertificate().fingerprint256 ?? (s.isSessionReused() ? offered?.fingerprint256 : undefined);
}

/**
 * A TLS error in one line of words: its code and OpenSSL's `reason`. OpenSSL's own message is a
 * line of internals (library, function, source file and line), ended by a line break.
 */
export function tlsErrorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const detail = (err as { reason?: unknown }).reason;
  const why = typeof detail === 'string' && detail !== '' ? detail : err.message.trim();
  return `${code ? `${code}: ` : ''}${why}`;
}

/**
 * TLS over `socket` with the server `host`:`port` (a name, or an IP literal without brackets):
 * SNI is `t.servername`, else the host's name without a trailing dot (none for an IP literal),
 * and the certificate is checked against it, else against the address. Unless `t.sessionCache` is false, offers the
 * session cached for this server and these settings, and caches the ones the server sends.
 */
export function tlsHandshake(socket: net.Socket | Duplex, host: string, port: number, t: TlsOptions): Promise<Handshake> {
  // SNI is a name without its trailing dot (RFC 6066 §3), as curl sends it: a server choosing
  // its certificate by name would not know `example.org.`.
  const servername = t.servername ?? (net.isIP(host) ? undefined : host.replace(/\.$/, ''));
  const sessionKey = t.sessionCache === false ? null : tlsSessionKey(host, port, servername, t.ca, t.rejectUnauthorized ?? true, t.cert);
  return new Promise((resolve, reject) => {
    const offered = sessionKey === null ? undefined : tlsSessions.get(sessionKey);
    let s: tls.TLSSocket;
    try {
      s = tls.connect({
        socket,
        // Given a socket, Node checks the certificate against `host` when there is no
        // servername (an IP literal), and `host` left out is "localhost": a certificate for
        // localhost passed for https://127.0.0.1/, and one for the address itself failed.
        host,
        ...(servername ? { servername } : {}),
        // A certificate in `ca` is trusted as it is, a CA's or not: the server's own certificate
        // (pinned) or an intermediate is an anchor, as curl --cacert makes it (partial chain).
        ...(t.ca !== undefined ? { ca: t.ca, allowPartialTrustChain: true } : {}),
        ...(t.cert !== undefined ? { cert: t.cert } : {}),
        ...(t.key !== undefined ? { key: t.key } : {}),
        ...(t.passphrase !== undefined ? { passphrase: t.passphrase } : {}),
        // A session the server (or OpenSSL) does not take means a full handshake, not an error.
        ...(offered ? { session: offered.session } : {}),
        rejectUnauthorized: t.rejectUnauthorized ?? true,
        ALPNProtocols: ['http/1.1'],
      });
    } catch (err) {
      // A CA, certificate or key OpenSSL cannot use (a key that is not the certificate's, a
      // wrong passphrase): thrown before any byte is sent.
      reject(new RawcrawlError('ERR_TLS', `TLS settings refused: ${(err as Error).message}`, { cause: err }));
      return;
    }
    let known: string | undefined;
    const fingerprint = (): string | undefined => (known ??= peerFingerprint(s, offered));
    // TLS 1.3 sends its tickets after the handshake: they may come with the response.
    if (sessionKey !== null) {
      s.on('session', (next: Buffer) => {
        const fingerprint256 = fingerprint();
        tlsSessions.set(sessionKey, fingerprint256 ? { session: next, fingerprint256 } : { session: next });
      });
    }
    const onError = (err: Error): void => {
      if (sessionKey !== null) tlsSessions.delete(sessionKey);
      s.destroy();
      if (err instanceof RawcrawlError) return reject(err);
      // The connection dropped under the handshake (an overloaded server, a middlebox) is the
      // transport's failure, as it is over plain HTTP, and retried as one: not a TLS one.
      // Node reports a FIN as ECONNRESET too, without the system call a real reset has.
      const { code, syscall } = err as NodeJS.ErrnoException;
      if ((code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') && syscall) {
        return reject(new RawcrawlError('ERR_CONNECTION_RESET', `connection reset by peer during the TLS handshake (${code})`, { cause: err }));
      }
      if (code === 'ECONNRESET') return reject(new RawcrawlError('ERR_PREMATURE_CLOSE', 'connection closed by the server during the TLS handshake', { cause: err }));
      reject(new RawcrawlError('ERR_TLS', `TLS handshake failed: ${tlsErrorText(err)}`, { cause: err }));
    };
    s.once('error', onError);
    s.once('secureConnect', () => {
      s.off('error', onError);
      resolve({ secure: s, fingerprint });
    });
  });
}
