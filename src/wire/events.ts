/**
 * What happened on one connection, event by event. Every byte sent appears in exactly one
 * `send` event, and every byte received in exactly one `read` event and (except for a raw-only
 * listener, see WireListener.rawOnly) in exactly one `recv` event, in stream order.
 */
export type WirePart = 'head' | 'framing' | 'body' | 'trailer' | 'unparsed';

export type WireEventBody =
  /** `proxy`: the HTTP proxy the connection goes to (scheme, host and port), if any. */
  | { type: 'open'; url: string; host: string; port: number; tls: boolean; proxy?: string }
  /**
   * The proxy's tunnel handshake, before TLS: the bytes sent and received (an HTTP CONNECT and
   * its answer's head; SOCKS5's binary greeting, authentication and CONNECT; SOCKS4's CONNECT).
   * `status`: the HTTP status, or the SOCKS reply code (SOCKS5: 0 = succeeded; SOCKS4: 90 =
   * granted; -1 when none came). These bytes are not part of the request or response: offsets
   * in other events leave them out.
   */
  | { type: 'tunnel'; protocol: 'http' | 'socks4' | 'socks5'; request: Buffer; response: Buffer; status: number }
  /**
   * `cached`: the addresses came from an earlier lookup (see ConnectOptions.dnsCacheMs);
   * `pinned`: from the caller's `resolve` map, no lookup made.
   */
  | { type: 'dns'; host: string; address: string; family: number; ms: number; cached: boolean; pinned?: boolean }
  /**
   * `remote` is the address connected to ("ip:port", an IPv6 one in brackets). `local` (the
   * same form) is asked of the socket when first read: read it during the event, not after the
   * connection closed.
   */
  | { type: 'connected'; readonly local: string; remote: string }
  | {
      type: 'tls';
      /** The handshake with an https:// proxy, not with the target (which, if https, comes after). */
      proxy?: true;
      protocol: string;
      cipher: string;
      authorized: boolean;
      /** The handshake resumed an earlier connection's session (see TlsOptions.sessionCache). */
      resumed: boolean;
      authorizationError?: string;
      alpn?: string;
      /** SHA-256 fingerprint of the peer certificate, "AB:CD:…" (getPeerCertificate().fingerprint256). */
      fingerprint256?: string;
    }
  | { type: 'send'; part: 'head'; data: Buffer }
  /** The request bytes were handed to the OS. */
  | { type: 'written' }
  /**
   * One socket read of `size` bytes at stream `offset`; `data` is those bytes (the same bytes
   * the `recv` events then label, so a listener that keeps raw bytes needs only these).
   */
  | { type: 'read'; size: number; offset: number; data: Buffer }
  | { type: 'first-byte' }
  | { type: 'recv'; part: WirePart; offset: number; data: Buffer }
  /** The final (non-1xx) response head was parsed; `offset` is the stream offset just past it. */
  | { type: 'head-end'; offset: number }
  /** The response is complete; `offset` is the stream offset just past its last byte. */
  | { type: 'body-end'; offset: number }
  /** The parser accepted bytes a strict reading would not (one event per leniency, at the end);
   * `kind` is a LeniencyKind (src/http/leniency.ts), a plain string so wire stays a leaf. */
  | { type: 'leniency'; kind: string; offset: number }
  /**
   * The peer ended its side. `closeNotify`: over TLS, whether a close_notify alert came before
   * the TCP FIN (false = truncation-capable close); null over plain TCP.
   */
  | { type: 'eof'; closeNotify: boolean | null }
  | { type: 'close'; reason: string }
  /** `offset` and `excerpt` (hex/ASCII around the offset) for errors found in received bytes. */
  | { type: 'error'; code: string; message: string; offset?: number; excerpt?: string };

export type WireEvent = WireEventBody & {
  /** Connection id, unique in this process. */
  conn: number;
  /** Milliseconds since the connection began. */
  t: number;
};

export interface WireListener {
  (event: WireEvent): void;
  /**
   * True for a listener that keeps the raw bytes (`read` and `send` events) and ignores the
   * `recv` events that label them: request() then does not cut each response into labelled
   * segments for it (a dozen or more events per page); only bytes past the end of a response,
   * or left after an error, still come as one `recv` of part `unparsed`. The capture sink's
   * listener is one. Absent or false: every event is delivered.
   */
  readonly rawOnly?: boolean;
}

/**
 * A raw-only WireListener (see WireListener.rawOnly) that calls `listener`; `listener` itself is
 * left as it was, so it can still be used elsewhere as a listener that gets every event.
 */
export function rawOnlyListener(listener: (event: WireEvent) => void): WireListener {
  const raw = (event: WireEvent): void => listener(event);
  raw.rawOnly = true as const;
  return raw;
}

/**
 * One listener that calls each of `listeners` in order (undefined entries skipped); it is
 * raw-only when every one of them is.
 */
export function chainListeners(listeners: ReadonlyArray<WireListener | undefined>): WireListener | undefined {
  const list = listeners.filter((l): l is WireListener => l !== undefined);
  if (list.length <= 1) return list[0];
  const chained = (ev: WireEvent): void => {
    for (const l of list) l(ev);
  };
  return list.every((l) => l.rawOnly === true) ? rawOnlyListener(chained) : chained;
}
