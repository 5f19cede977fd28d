import net from 'node:net';
import { once } from 'node:events';

export interface SocksSeen {
  /** ATYP of the CONNECT: 1 IPv4, 3 domain name, 4 IPv6. */
  atyp: number;
  host: string;
  port: number;
  user: string | null;
}

export interface SocksServer {
  port: number;
  seen: SocksSeen[];
  close(): Promise<void>;
}

/**
 * A TCP server on 127.0.0.1 for a test proxy: each client, and each upstream `track` is given,
 * is destroyed on close().
 */
async function proxyListener(onClient: (client: net.Socket, track: (s: net.Socket) => void) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const server = net.createServer((client) => {
    track(client);
    client.on('error', () => {});
    onClient(client, track);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Connects to host:port for `client`: once up, `granted` answers the client, the bytes it sent
 * past its request (`rest()`, asked then) go up, and the two are piped; a failed connection is
 * `refused`.
 */
function tunnel(client: net.Socket, host: string, port: number, rest: () => Buffer, track: (s: net.Socket) => void, granted: () => void, refused: () => void): void {
  const upstream = net.connect(port, host);
  track(upstream);
  upstream.on('error', refused);
  upstream.on('connect', () => {
    granted();
    const early = rest();
    if (early.length > 0) upstream.write(early);
    upstream.pipe(client);
    client.pipe(upstream);
  });
}

/**
 * A SOCKS5 server (RFC 1928, CONNECT only) for tests. With `credentials` ("user:pass") it
 * requires RFC 1929 authentication; `hosts` resolves domain names only the proxy knows; `reply`
 * forces a CONNECT reply code (5: connection refused, …).
 */
export async function socksServer(options: { credentials?: string; hosts?: Record<string, string>; reply?: number } = {}): Promise<SocksServer> {
  const seen: SocksSeen[] = [];
  const listener = await proxyListener((client, track) => {
    let buf = Buffer.alloc(0);
    const waiters: Array<{ n: number; resolve: (b: Buffer) => void }> = [];
    const pump = (): void => {
      while (waiters.length > 0 && buf.length >= waiters[0]!.n) {
        const w = waiters.shift()!;
        const out = buf.subarray(0, w.n);
        buf = buf.subarray(w.n);
        w.resolve(out);
      }
    };
    const read = (n: number): Promise<Buffer> =>
      new Promise((resolve) => {
        waiters.push({ n, resolve });
        pump();
      });
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      pump();
    };
    client.on('data', onData);
    void (async () => {
      const [, nMethods] = await read(2);
      const methods = [...(await read(nMethods!))];
      let user: string | null = null;
      if (options.credentials) {
        if (!methods.includes(0x02)) return void client.end(Buffer.from([0x05, 0xff]));
        client.write(Buffer.from([0x05, 0x02]));
        const [, ulen] = await read(2);
        user = (await read(ulen!)).toString();
        const [plen] = await read(1);
        const pass = (await read(plen!)).toString();
        if (`${user}:${pass}` !== options.credentials) return void client.end(Buffer.from([0x01, 0x01]));
        client.write(Buffer.from([0x01, 0x00]));
      } else {
        client.write(Buffer.from([0x05, 0x00]));
      }
      const [, , , atyp] = await read(4);
      let host: string;
      if (atyp === 0x01) host = [...(await read(4))].join('.');
      else if (atyp === 0x03) host = (await read((await read(1))[0]!)).toString();
      else {
        const b = await read(16);
        host = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
      }
      const port = (await read(2)).readUInt16BE(0);
      seen.push({ atyp: atyp!, host, port, user });
      const fail = (code: number): void => void client.end(Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]));
      if (options.reply !== undefined) return fail(options.reply);
      tunnel(
        client,
        options.hosts?.[host] ?? host,
        port,
        () => buf,
        track,
        () => {
          client.off('data', onData);
          client.write(Buffer.from([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 0]));
        },
        () => fail(0x05),
      );
    })();
  });
  return { ...listener, seen };
}

export interface Socks4Seen {
  /** The address field as sent ("0.0.0.1" for SOCKS4A with a name). */
  address: string;
  /** The name SOCKS4A sent after the user id, else null. */
  name: string | null;
  port: number;
  userId: string;
}

/**
 * A SOCKS4/4A server (CONNECT only) for tests: reads the request byte by byte as the protocol
 * defines it, connects (`hosts` resolves names only the proxy knows) and answers 90, or
 * `reply` (91 …) without connecting.
 */
export async function socks4Server(options: { hosts?: Record<string, string>; reply?: number } = {}): Promise<SocksServer & { seen4: Socks4Seen[] }> {
  const seen4: Socks4Seen[] = [];
  const listener = await proxyListener((client, track) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 9) return;
      const userEnd = buf.indexOf(0, 8);
      if (userEnd === -1) return;
      const address = [...buf.subarray(4, 8)].join('.');
      const byName = address.startsWith('0.0.0.') && address !== '0.0.0.0';
      let end = userEnd + 1;
      let name: string | null = null;
      if (byName) {
        const nameEnd = buf.indexOf(0, end);
        if (nameEnd === -1) return;
        name = buf.subarray(end, nameEnd).toString('ascii');
        end = nameEnd + 1;
      }
      client.off('data', onData);
      const port = buf.readUInt16BE(2);
      seen4.push({ address, name, port, userId: buf.subarray(8, userEnd).toString('utf8') });
      const rest = buf.subarray(end);
      const answer = (code: number): Buffer => Buffer.from([0x00, code, 0, 0, 0, 0, 0, 0]);
      if (options.reply !== undefined) return void client.end(answer(options.reply));
      const target = name ?? address;
      tunnel(
        client,
        options.hosts?.[target] ?? target,
        port,
        () => rest,
        track,
        () => client.write(answer(90)),
        () => client.end(answer(91)),
      );
    };
    client.on('data', onData);
  });
  return { ...listener, seen: [], seen4 };
}
