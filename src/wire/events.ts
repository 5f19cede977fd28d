/**
 * What happened on one connection, event by event. Every byte sent appears in exactly one
 * `send` event and every byte received in exactly one `recv` event, in stream order.
 */
export type WirePart = 'head' | 'framing' | 'body' | 'trailer' | 'unparsed';

export type WireEventBody =
  | { type: 'open'; url: string; host: string; port: number; tls: boolean }
  | { type: 'dns'; host: string; address: string; family: number; ms: number }
  | { type: 'connected'; local: string; remote: string }
  | { type: 'tls'; protocol: string; cipher: string; authorized: boolean; authorizationError?: string; alpn?: string }
  | { type: 'send'; part: 'head'; data: Buffer }
  | { type: 'read'; size: number; offset: number }
  | { type: 'first-byte' }
  | { type: 'recv'; part: WirePart; offset: number; data: Buffer }
  | { type: 'close'; reason: string }
  | { type: 'error'; code: string; message: string };

export type WireEvent = WireEventBody & {
  /** Connection id, unique in this process. */
  conn: number;
  /** Milliseconds since the connection began. */
  t: number;
};

export type WireListener = (event: WireEvent) => void;
