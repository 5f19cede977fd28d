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
 * A SOCKS5 server (RFC 1928, CONNECT only) for tests. With `credentials` ("user:pass") it
 * requires RFC 1929 authentication; `hosts` resolves domain names only the proxy knows; `reply`
 * forces a CONNECT reply code (5: connection refused, …).
 */
export async function socksServer(options: { credentials?: string; hosts?: Record<string, string>; reply?: number } = {}): Promise<SocksServer> {
  const seen: SocksSeen[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
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
      const upstream = net.connect(port, options.hosts?.[host] ?? host);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => fail(0x05));
      upstream.on('connect', () => {
        client.off('data', onData);
        client.write(Buffer.from([0x05, 0x00, 0x00, 0x01, 127, 0, 0, 1, 0, 0]));
        if (buf.length > 0) upstream.write(buf);
        upstream.pipe(client);
        client.pipe(upstream);
      });
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
