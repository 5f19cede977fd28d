import net from 'node:net';

export interface CuttableProxy {
  /** mysql:// URL through the proxy, for `database`. */
  url: string;
  /**
   * Drops every connection and stops listening: the database "goes away". It goes between
   * statements: cut() waits (up to 2 s) until no statement the proxy forwarded is still waiting
   * for its reply. A reply lost in flight leaves the statement's outcome unknown to the client —
   * rows that were written and are also spilled — which no client can rule out, so the tests'
   * "each record in exactly one place" is asserted on outages between statements.
   */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy to the local MariaDB that can be cut and restored, to play a database that goes away. */
export async function cuttableProxy(database: string): Promise<CuttableProxy> {
  const sockets = new Set<net.Socket>();
  /** Client connections whose last forwarded bytes were a request not answered yet. */
  const awaitingReply = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = async (): Promise<void> => {
    server = net.createServer((client) => {
      const upstream = net.connect(3306, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.on('data', () => awaitingReply.add(client));
      upstream.on('data', () => awaitingReply.delete(client));
      client.pipe(upstream).pipe(client);
      const kill = (): void => {
        awaitingReply.delete(client);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', kill).on('close', kill);
      upstream.on('error', kill).on('close', kill);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server!.address() as net.AddressInfo).port;
  };
  const cut = async (): Promise<void> => {
    const deadline = Date.now() + 2000;
    while (awaitingReply.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    // Synchronously from here: no request can be forwarded between the check and the cut.
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  };
  await listen();
  return { url: `mysql://root@127.0.0.1:${port}/${database}`, cut, restore: listen, close: cut };
}
