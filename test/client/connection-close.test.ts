import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../src/client/request.js';
import { openConnection, RELEASE_GRACE_MS } from '../../src/net/connect.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';

const run = promisify(execFile);
const BODY = 'x'.repeat(2000);
const RESPONSE = `HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`;

interface Seen {
  /** ms after the response was written when the server sent its FIN (null: never). */
  serverFin: number | null;
  /** ms after the response was written when the client's FIN or RST arrived. */
  clientClosed: number;
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/**
 * Answers every request with RESPONSE, then sends its FIN after `finAfterMs` (null: never) and
 * reports when the client's side closed.
 */
async function server(finAfterMs: number | null): Promise<{ url: string; seen: Promise<Seen> }> {
  let report!: (s: Seen) => void;
  const seen = new Promise<Seen>((r) => (report = r));
  const srv = net.createServer({ allowHalfOpen: true }, (sock) => {
    sockets.push(sock);
    let t0 = 0;
    let serverFin: number | null = null;
    sock.once('data', () => {
      sock.write(RESPONSE);
      t0 = performance.now();
      if (finAfterMs !== null) {
        setTimeout(() => {
          serverFin = performance.now() - t0;
          sock.end();
        }, finAfterMs);
      }
    });
    const done = (): void => report({ serverFin, clientClosed: performance.now() - t0 });
    sock.once('end', done);
    sock.once('error', done);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}/`, seen };
}

describe('who closes the connection', () => {
  it('the client waits for the server to close first (TIME_WAIT stays on the server)', async () => {
    const s = await server(150);
    const t0 = performance.now();
    const res = await request(s.url);
    const resolvedAfter = performance.now() - t0;
    expect(res.body.toString()).toBe(BODY);
    // The response did not wait for the server's FIN.
    expect(resolvedAfter).toBeLessThan(120);
    const seen = await s.seen;
    expect(seen.serverFin).not.toBeNull();
    // The client's FIN came after the server's, not before it.
    expect(seen.clientClosed).toBeGreaterThanOrEqual(seen.serverFin!);
    expect(seen.clientClosed).toBeLessThan(seen.serverFin! + 500);
  });

  it(`a server that never closes is closed by the client after ${RELEASE_GRACE_MS} ms`, async () => {
    const s = await server(null);
    const t0 = performance.now();
    const res = await request(s.url);
    expect(performance.now() - t0).toBeLessThan(300);
    expect(res.status).toBe(200);
    const seen = await s.seen;
    expect(seen.clientClosed).toBeGreaterThanOrEqual(RELEASE_GRACE_MS - 50);
    expect(seen.clientClosed).toBeLessThan(RELEASE_GRACE_MS + 1000);
  });

  it('release(0) closes at once', async () => {
    const s = await server(null);
    const port = Number(new URL(s.url).port);
    const c = await openConnection('127.0.0.1', port, {});
    c.writer.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.reader.readexactly(Buffer.byteLength(RESPONSE));
    c.release(0);
    expect(c.socket.destroyed).toBe(true);
    const seen = await s.seen;
    expect(seen.clientClosed).toBeLessThan(300);
  });

  it('release() closes at once when the FIN is already in', async () => {
    const s = await server(0);
    const port = Number(new URL(s.url).port);
    const c = await openConnection('127.0.0.1', port, {});
    c.writer.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.reader.read()).toString()).toBe(RESPONSE);
    expect(c.reader.atEof()).toBe(true);
    c.release();
    expect(c.socket.destroyed).toBe(true);
  });
});

describe('a connection waiting for the server to close', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('does not keep the process alive', async () => {
    const s = await server(null);
    const script = `
      const { request } = await import(${JSON.stringify(`${ROOT}/dist/index.js`)});
      const res = await request(${JSON.stringify(s.url)});
      console.log(res.status, res.body.length);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout.trim()).toBe(`200 ${BODY.length}`);
    // The child exited (and its socket closed) without waiting out the grace period.
    const seen = await s.seen;
    expect(seen.clientClosed).toBeLessThan(RELEASE_GRACE_MS - 200);
  });
});
