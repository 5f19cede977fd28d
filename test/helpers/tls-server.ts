import tls from 'node:tls';
import net from 'node:net';
import { once } from 'node:events';
import { generate } from 'selfsigned';

export interface Cert {
  key: string;
  cert: string;
}

let cached: Promise<Cert> | null = null;

/** A self-signed certificate for localhost and 127.0.0.1, made once per test file. */
export function selfSignedCert(): Promise<Cert> {
  cached ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  }).then((p) => ({ key: p.private, cert: p.cert }));
  return cached;
}

/**
 * A CA and a server certificate for localhost and 127.0.0.1 signed by it (not self-signed: the
 * chain has two links, as a real server's has).
 */
export async function caSignedCert(): Promise<{ ca: Cert; leaf: Cert }> {
  const ca = await generate([{ name: 'commonName', value: 'rawcrawl test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true }],
  }).then((p) => ({ key: p.private, cert: p.cert }));
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  }).then((p) => ({ key: p.private, cert: p.cert }));
  return { ca, leaf };
}

/** A self-signed client certificate (its own CA), for servers that ask for one. */
export function clientCert(commonName: string): Promise<Cert> {
  return generate([{ name: 'commonName', value: commonName }], { keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'basicConstraints', cA: true }, { name: 'extKeyUsage', clientAuth: true }] }).then((p) => ({
    key: p.private,
    cert: p.cert,
  }));
}

export interface TlsServer {
  port: number;
  cert: string;
  /** Common names of the client certificates presented, one per request answered. */
  clients: Array<string | undefined>;
  /** Request heads received, one per connection. */
  requests: Buffer[];
  /** SNI server names the clients sent (undefined when none). */
  servernames: Array<string | undefined>;
  close(): Promise<void>;
}

/**
 * A node:tls server that answers every request with `body` (Content-Length framed), with the
 * localhost certificate of selfSignedCert() unless `cert` gives another.
 */
export async function tlsServer(body = 'secure hello', options: { clientCa?: string[]; cert?: Cert } = {}): Promise<TlsServer> {
  const { key, cert } = options.cert ?? (await selfSignedCert());
  const requests: Buffer[] = [];
  const clients: Array<string | undefined> = [];
  const servernames: Array<string | undefined> = [];
  const sockets = new Set<net.Socket>();
  // With clientCa: mutual TLS, a client certificate signed by one of these required.
  const mutual = options.clientCa ? { requestCert: true, rejectUnauthorized: true, ca: options.clientCa } : {};
  const server = tls.createServer({ key, cert, ...mutual }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const id = requests.length;
    requests.push(Buffer.alloc(0));
    servernames.push((socket as tls.TLSSocket & { servername?: string | false }).servername || undefined);
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      requests[id] = Buffer.concat([requests[id]!, d]);
      if (requests[id]!.includes('\r\n\r\n')) {
        const peer = socket.getPeerCertificate();
        clients.push(peer && 'subject' in peer && peer.subject ? String(peer.subject.CN) : undefined);
        socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
    });
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    cert,
    clients,
    requests,
    servernames,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
