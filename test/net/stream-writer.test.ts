import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { openConnection, type Connection } from '../../src/net/connect.js';
import { RawcrawlError } from '../../src/errors.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

const track = closeAfterEach();

/** More than loopback's socket buffers hold: a peer that does not read leaves most of it with us. */
const BIG = Buffer.alloc(32 * 1024 * 1024, 0x61);

interface Peer {
  port: number;
  /** The server side of the connection, once accepted. */
  socket: Promise<net.Socket>;
  close(): Promise<void>;
}

/** A server on 127.0.0.1 that hands its one connection to the test; `read: false` never reads. */
async function peer(options: { read?: boolean; onSocket?: (s: net.Socket) => void } = {}): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  let accepted!: (s: net.Socket) => void;
  const socket = new Promise<net.Socket>((r) => (accepted = r));
  const server = net.createServer({ pauseOnConnect: options.read === false }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    if (options.read !== false) s.resume();
    options.onSocket?.(s);
    accepted(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return track({
    port: (server.address() as net.AddressInfo).port,
    socket,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}

async function failure(p: Promise<unknown>): Promise<RawcrawlError | 'resolved' | 'pending'> {
  const result = await Promise.race([p.then(() => 'resolved' as const, (e: unknown) => e), sleep(3000, 'pending' as const)]);
  if (result === 'resolved' || result === 'pending' || result instanceof RawcrawlError) return result;
  throw result;
}

const listeners = (c: Connection): number[] => ['drain', 'finish', 'close', 'error'].map((e) => c.socket.listenerCount(e));

/** Resets the connection once a byte arrives (a reset at accept can beat the client's connect). */
const resetOnData = (s: net.Socket): void => {
  s.once('data', () => s.resetAndDestroy());
};

/** Waits until the socket is closed (the reset has reached it). */
async function closed(c: Connection): Promise<void> {
  // Not events.once(): it rejects on the 'error' that comes first.
  if (!c.socket.destroyed) await new Promise((r) => c.socket.once('close', r));
}

describe('drain()', () => {
  it('rejects with ERR_CONNECTION_RESET when the peer resets while it waits, and leaves no listener', async () => {
    const server = await peer({ read: false });
    const c = await openConnection('127.0.0.1', server.port);
    const before = listeners(c);
    c.writer.send(BIG);
    expect(c.socket.writableNeedDrain).toBe(true);
    let settled = false;
    const p = failure(c.writer.drain().finally(() => (settled = true)));
    await sleep(50);
    expect(settled).toBe(false);
    (await server.socket).resetAndDestroy();
    const err = await p;
    expect(err).toBeInstanceOf(RawcrawlError);
    expect((err as RawcrawlError).code).toBe('ERR_CONNECTION_RESET');
    expect(listeners(c)).toEqual(before);
  });

  it('rejects on a connection already closed, by us or by a reset', async () => {
    const server = await peer();
    const c = await openConnection('127.0.0.1', server.port);
    c.close();
    expect(await failure(c.writer.drain())).toMatchObject({ code: 'ERR_CONNECTION_RESET' });

    const reset = await peer({ onSocket: resetOnData });
    const d = await openConnection('127.0.0.1', reset.port);
    d.writer.send('x');
    await closed(d);
    const err = await failure(d.writer.drain());
    expect(err).toMatchObject({ code: 'ERR_CONNECTION_RESET' });
    expect(((err as RawcrawlError).cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });

  it('after writeEof() resolves once the buffer is flushed ("drain" never comes once ending)', async () => {
    let received = 0;
    const server = await peer({ onSocket: (s) => s.on('data', (b: Buffer) => (received += b.length)) });
    const c = await openConnection('127.0.0.1', server.port);
    c.writer.send(BIG);
    c.writer.writeEof();
    expect(c.socket.writableLength).toBeGreaterThan(c.socket.writableHighWaterMark);
    expect(await failure(c.writer.drain())).toBe('resolved');
    expect(c.socket.writableLength).toBe(0);
    await once(await server.socket, 'end');
    expect(received).toBe(BIG.length);
  });

  it('a hundred waits that end leave no listener behind', async () => {
    const server = await peer();
    const c = await openConnection('127.0.0.1', server.port);
    const before = listeners(c);
    for (let i = 0; i < 100; i++) {
      c.writer.send(Buffer.alloc(64 * 1024));
      await c.writer.drain();
    }
    expect(listeners(c)).toEqual(before);
  });
});

describe('write()', () => {
  it('a write pending on a full buffer rejects with ERR_CONNECTION_RESET when the peer resets', async () => {
    const server = await peer({ read: false });
    const c = await openConnection('127.0.0.1', server.port);
    const before = listeners(c);
    const p = failure(c.writer.write(BIG));
    await sleep(50);
    (await server.socket).resetAndDestroy();
    expect(await p).toMatchObject({ code: 'ERR_CONNECTION_RESET' });
    expect(listeners(c)).toEqual(before);
  });

  it('on a connection the peer reset rejects with ERR_CONNECTION_RESET, its ECONNRESET as cause', async () => {
    const server = await peer({ onSocket: resetOnData });
    const c = await openConnection('127.0.0.1', server.port);
    c.writer.send('x');
    await closed(c);
    const err = await failure(c.writer.write('GET / HTTP/1.1\r\n\r\n'));
    expect(err).toMatchObject({ code: 'ERR_CONNECTION_RESET' });
    expect(((err as RawcrawlError).cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });

  it('on a connection we closed rejects with ERR_CONNECTION_RESET', async () => {
    const server = await peer();
    const c = await openConnection('127.0.0.1', server.port);
    c.close();
    expect(await failure(c.writer.write('x'))).toMatchObject({ code: 'ERR_CONNECTION_RESET' });
  });

  it('a write pending on a full buffer resolves once flushed when writeEof() follows it', async () => {
    let received = 0;
    const server = await peer({ onSocket: (s) => s.on('data', (b: Buffer) => (received += b.length)) });
    const c = await openConnection('127.0.0.1', server.port);
    const p = failure(c.writer.write(BIG));
    c.writer.writeEof();
    expect(await p).toBe('resolved');
    await once(await server.socket, 'end');
    expect(received).toBe(BIG.length);
  });

  it('after writeEof() rejects with ERR_CONNECTION_RESET and leaves the reading side open', async () => {
    const server = await peer({
      onSocket: (s) => {
        let got = '';
        s.on('data', (b: Buffer) => (got += b.toString('latin1')));
        s.on('end', () => s.end(`got ${JSON.stringify(got)}`));
      },
    });
    const c = await openConnection('127.0.0.1', server.port);
    await c.writer.write('hello');
    c.writer.writeEof();
    expect(await failure(c.writer.write('more'))).toMatchObject({ code: 'ERR_CONNECTION_RESET' });
    expect((await c.reader.read()).toString('latin1')).toBe('got "hello"');
  });
});

describe('the idle timeout', () => {
  it('counts bytes sent as well as received: writes keep a silent peer from idling out, and it fires once they stop', async () => {
    const server = await peer();
    const c = await openConnection('127.0.0.1', server.port, { idleTimeoutMs: 300 });
    const reading = failure(c.reader.read(1));
    for (let i = 0; i < 12; i++) {
      await c.writer.write('x');
      await sleep(50);
    }
    expect(c.socket.destroyed).toBe(false);
    const started = Date.now();
    const err = await reading;
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT', message: 'no byte received or sent for 300 ms' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });
});
