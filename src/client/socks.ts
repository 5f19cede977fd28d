import { isIP, type Socket } from 'node:net';
import { RawcrawlError } from '../errors.js';
import { mapSocketError } from '../net/connect.js';
import { dnsCache, lookupUncached, type ResolvedAddress } from '../net/dns-cache.js';
import type { WireEventBody } from '../wire/events.js';
import { listenForHandshake, type ProxyRoute } from './proxy.js';

/** RFC 1928 §6 reply codes. */
const REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** The address part of a SOCKS5 request or reply (RFC 1928 §4): ATYP, then the address. */
function encodeAddress(host: string): Buffer {
  const family = isIP(host);
  if (family === 4) return Buffer.from([0x01, ...host.split('.').map(Number)]);
  if (family === 6) {
    // The URL parser writes an embedded IPv4 part as two hex groups; then "::" is expanded.
    const hex = new URL(`http://[${host}]/`).hostname.slice(1, -1);
    const [head, tail] = hex.includes('::') ? hex.split('::') : [hex, undefined];
    const a = head ? head.split(':') : [];
    const b = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? a : [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b];
    const out = Buffer.alloc(17);
    out[0] = 0x04;
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 1 + i * 2));
    return out;
  }
  const name = Buffer.from(host, 'ascii');
  if (name.length > 255) throw new RawcrawlError('ERR_PROXY', `host name ${host} is too long for SOCKS5 (255 bytes at most)`);
  return Buffer.concat([Buffer.from([0x03, name.length]), name]);
}

/** What a SOCKS handshake step has of the connection: bytes out, exact reads in, refusals. */
interface HandshakeIo {
  send(bytes: Buffer): void;
  /** Exactly n bytes (ERR_PROXY if the server closes first). */
  read(n: number): Promise<Buffer>;
  refuse(why: string): RawcrawlError;
  /** Bytes received past what was read. */
  readonly leftover: number;
  /** The reply code, for the trace (-1 until one came). */
  status: number;
}

/**
 * Runs `steps` over `socket` (a connection to the SOCKS server), then leaves the socket paused
 * with none of the target's bytes read; a server that sends bytes past its reply before the
 * client spoke is refused. `trace` gets the bytes of the handshake as one `tunnel` event.
 */
async function socksHandshake(socket: Socket, host: string, port: number, route: ProxyRoute, protocol: 'socks4' | 'socks5', trace: ((event: WireEventBody) => void) | undefined, steps: (io: HandshakeIo) => Promise<void>): Promise<void> {
  const sent: Buffer[] = [];
  const received: Buffer[] = [];
  let buffered: Buffer = Buffer.alloc(0);
  let waiting: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  let failure: Error | null = null;
  const deliver = (): void => {
    if (!waiting) return;
    if (failure) {
      waiting.reject(failure);
      waiting = null;
    } else if (buffered.length >= waiting.n) {
      const w = waiting;
      waiting = null;
      const out = buffered.subarray(0, w.n);
      buffered = buffered.subarray(w.n);
      received.push(out);
      w.resolve(out);
    }
  };
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    deliver();
  };
  const onEnd = (): void => {
    failure ??= new RawcrawlError('ERR_PROXY', `SOCKS proxy ${route.href} closed the connection during its handshake for ${host}:${port}`);
    deliver();
  };
  const onError = (err: Error): void => {
    failure ??= mapSocketError(err);
    deliver();
  };
  const io: HandshakeIo = {
    send(bytes) {
      sent.push(bytes);
      socket.write(bytes);
    },
    read: (n) =>
      new Promise((resolve, reject) => {
        waiting = { n, resolve, reject };
        deliver();
      }),
    refuse: (why) => new RawcrawlError('ERR_PROXY', `SOCKS proxy ${route.href} ${why} (connecting to ${host}:${port})`),
    get leftover() {
      return buffered.length;
    },
    status: -1,
  };
  const stop = listenForHandshake(socket, onData, onEnd, onError);
  try {
    await steps(io);
    if (io.leftover > 0) throw io.refuse(`sent ${io.leftover} bytes after its reply, before the client spoke`);
  } finally {
    stop();
    trace?.({ type: 'tunnel', protocol, request: Buffer.concat(sent), response: Buffer.concat(received), status: io.status });
  }
}

/**
 * The host's address, looked up here (socks5://, socks4://), through the DNS cache when it is on;
 * `pinned` (the `resolve` option, --resolve) instead of a lookup when it names the host.
 */
async function lookup(host: string, dnsCacheMs: number, family?: 4, pinned?: readonly ResolvedAddress[]): Promise<string> {
  let addresses;
  try {
    addresses = pinned ?? (await (dnsCacheMs > 0 ? dnsCache.lookup(host, dnsCacheMs) : lookupUncached(host)));
  } catch (err) {
    throw new RawcrawlError('ERR_DNS', `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const found = family ? addresses.find((a) => a.family === family) : addresses[0];
  if (!found) throw new RawcrawlError('ERR_DNS', `${host} has no IPv4 address, which SOCKS4 needs (socks4a:// lets the proxy resolve it)`);
  return found.address;
}

/**
 * SOCKS5 CONNECT (RFC 1928) to host:port over `socket`, a connection to the SOCKS server, with
 * no authentication or, given credentials, user name and password (RFC 1929). socks5 resolves
 * the host name here and sends the address; socks5h sends the name for the proxy to resolve
 * (what Tor needs). Resolves once the server replied success: the socket then carries the
 * target's bytes (paused, none of them read). Refusals are ERR_PROXY with the server's reason.
 */
async function openSocks5(socket: Socket, host: string, port: number, route: ProxyRoute, dnsCacheMs: number, trace?: (event: WireEventBody) => void, pinned?: readonly ResolvedAddress[]): Promise<void> {
  const destination = route.kind === 'socks5' && isIP(host) === 0 ? await lookup(host, dnsCacheMs, undefined, pinned) : host;
  const address = encodeAddress(destination);
  await socksHandshake(socket, host, port, route, 'socks5', trace, async (io) => {
    const { send, read, refuse } = io;
    const credentials = route.credentials;
    send(Buffer.from(credentials ? [0x05, 2, 0x00, 0x02] : [0x05, 1, 0x00]));
    const [version, method] = await read(2);
    if (version !== 0x05) throw refuse(`answered as SOCKS version ${version}, not 5`);
    if (method === 0xff) throw refuse(`accepts none of the offered ways to authenticate (${credentials ? 'none, user name and password' : 'none: it may want socks5://user:pass@host'})`);
    if (method === 0x02) {
      if (!credentials) throw refuse('asked for a user name and password that were not given');
      const user = Buffer.from(credentials.user, 'utf8');
      const password = Buffer.from(credentials.password, 'utf8');
      if (user.length > 255 || password.length > 255) throw refuse('cannot take a user name or password longer than 255 bytes');
      send(Buffer.concat([Buffer.from([0x01, user.length]), user, Buffer.from([password.length]), password]));
      const [, status] = await read(2);
      if (status !== 0x00) throw refuse('refused the user name and password');
    } else if (method !== 0x00) {
      throw refuse(`chose authentication method ${method}, which was not offered`);
    }
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16BE(port);
    send(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), address, portBytes]));
    const head = await read(4);
    if (head[0] !== 0x05) throw refuse(`answered the CONNECT as SOCKS version ${head[0]}, not 5`);
    const reply = head[1]!;
    io.status = reply;
    if (reply !== 0x00) throw refuse(`could not connect: ${REPLIES[reply] ?? `reply ${reply}`}`);
    // The bound address and port, of no use here, but part of the reply.
    const atyp = head[3];
    const rest = atyp === 0x01 ? 4 : atyp === 0x04 ? 16 : atyp === 0x03 ? (await read(1))[0]! : -1;
    if (rest < 0) throw refuse(`sent an address of unknown type ${atyp}`);
    await read(rest + 2);
  });
}

/** SOCKS4 reply codes (the SOCKS4 and 4A protocol notes, Ying-Da Lee). */
const SOCKS4_REPLIES: Record<number, string> = {
  91: 'request rejected or failed',
  92: 'request rejected: the proxy cannot reach an identd on this client',
  93: 'request rejected: identd says another user id',
};

/**
 * SOCKS4 CONNECT to host:port over `socket`: socks4 resolves the name here to an IPv4 address;
 * socks4a sends the name for the proxy to resolve (its 0.0.0.x address convention). The user
 * id is the proxy URL's user name (empty by default). SOCKS4 carries IPv4 only: an IPv6 target
 * is ERR_PROXY before anything is sent. Resolves once the server granted the request.
 */
async function openSocks4(socket: Socket, host: string, port: number, route: ProxyRoute, dnsCacheMs: number, trace?: (event: WireEventBody) => void, pinned?: readonly ResolvedAddress[]): Promise<void> {
  if (isIP(host) === 6) throw new RawcrawlError('ERR_PROXY', `SOCKS proxy ${route.href} speaks SOCKS4, which cannot reach the IPv6 address ${host}`);
  const byName = isIP(host) === 0 && route.kind === 'socks4a';
  const address = isIP(host) === 4 ? host : byName ? '0.0.0.1' : await lookup(host, dnsCacheMs, 4, pinned);
  const head = Buffer.alloc(8);
  head[0] = 0x04;
  head[1] = 0x01;
  head.writeUInt16BE(port, 2);
  address.split('.').forEach((octet, i) => (head[4 + i] = Number(octet)));
  const userId = Buffer.from(route.credentials?.user ?? '', 'utf8');
  if (userId.includes(0)) throw new RawcrawlError('ERR_PROXY', `SOCKS proxy ${route.href}: a user id cannot hold a NUL byte`);
  const name = byName ? Buffer.concat([Buffer.from(host, 'ascii'), Buffer.from([0])]) : Buffer.alloc(0);
  await socksHandshake(socket, host, port, route, 'socks4', trace, async (io) => {
    io.send(Buffer.concat([head, userId, Buffer.from([0]), name]));
    const reply = await io.read(8);
    if (reply[0] !== 0x00) throw io.refuse(`answered as SOCKS version ${reply[0]}, not a SOCKS4 reply`);
    io.status = reply[1]!;
    if (io.status !== 90) throw io.refuse(`could not connect: ${SOCKS4_REPLIES[io.status] ?? `reply ${io.status}`}`);
  });
}

/**
 * A SOCKS tunnel to host:port over `socket`, in the proxy's version (socks4/4a or socks5/5h);
 * `pinned`: the host's addresses from the `resolve` option, used where the name is resolved here.
 */
export function openSocks(socket: Socket, host: string, port: number, route: ProxyRoute, dnsCacheMs: number, trace?: (event: WireEventBody) => void, pinned?: readonly ResolvedAddress[]): Promise<void> {
  const open = route.kind === 'socks4' || route.kind === 'socks4a' ? openSocks4 : openSocks5;
  return open(socket, host, port, route, dnsCacheMs, trace, pinned);
}
