import { closeAfterEach } from './close-after-each.js';
import net from 'node:net';
import { once } from 'node:events';

/** One step of a scripted response, played in order on each accepted connection. */
export type Step =
  | { send: Buffer | string }
  /** Sends the bytes in pieces of these sizes (the last size repeats). */
  | { split: Buffer | string; sizes: number[] }
  /** Sends one byte at a time, each in its own TCP segment. */
  | { bytes: Buffer | string; everyMs?: number }
  | { delayMs: number }
  /** Sends `piece` every `everyMs` until the socket closes or `max` pieces went out. */
  | { drip: Buffer | string; everyMs: number; max?: number }
  /** Writes `piece` as fast as the client reads, until the socket closes or `maxBytes` went out. */
  | { endless: Buffer | string; maxBytes?: number }
  /** Sends what the iterable yields, pulled only as fast as the socket drains, until it closes. */
  | { from: () => AsyncIterable<Buffer | string> }
  /** Waits until the request head (CRLFCRLF) has arrived. */
  | { waitRequest: true }
  | { end: true }
  | { reset: true }
  /** Keeps the connection open without sending more (until the client closes it). */
  | { hold: true };

export interface RawServer {
  port: number;
  host: string;
  /** `http://host:port` (IPv6 hosts in brackets). */
  origin: string;
  /** Exact bytes received, one Buffer per connection, in accept order. */
  requests: Buffer[];
  /** Exact bytes sent, one Buffer per connection. */
  sent: Buffer[];
  connections: number;
  /** Resolves once `n` connections have closed. */
  closed(n?: number): Promise<void>;
  close(): Promise<void>;
}

const toBuf = (b: Buffer | string): Buffer => (typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
const sleep = (ms: number): Promise<void> =>
  new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

export type Script = Step[] | ((conn: number, request: () => Buffer) => Step[]);

/**
 * A node:net server that records the exact request bytes and replays a scripted response.
 * By default each step waits for the whole request head first (`waitRequest` is implied).
 */
export async function rawServer(script: Script, options: { host?: string; waitRequest?: boolean } = {}): Promise<RawServer> {
  const host = options.host ?? '127.0.0.1';
  const requests: Buffer[] = [];
  // Pieces, joined on demand: endless steps write many small pieces.
  const sentPieces: Buffer[][] = [];
  let closedCount = 0;
  const closeWaiters: Array<{ n: number; resolve: () => void }> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const id = requests.length;
    requests.push(Buffer.alloc(0));
    sentPieces.push([]);
    sockets.add(socket);
    // Each write its own TCP segment, so split and byte-at-a-time delivery reach the client as such.
    socket.setNoDelay(true);
    let gone = false;
    let headSeen: (() => void) | null = null;
    socket.on('data', (d: Buffer) => {
      requests[id] = Buffer.concat([requests[id]!, d]);
      if (headSeen && requests[id]!.includes('\r\n\r\n')) headSeen();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      gone = true;
      sockets.delete(socket);
      closedCount++;
      for (const w of closeWaiters.splice(0)) {
        if (closedCount >= w.n) w.resolve();
        else closeWaiters.push(w);
      }
    });
    const write = async (b: Buffer): Promise<void> => {
      if (gone || socket.destroyed || socket.writableEnded) return;
      sentPieces[id]!.push(b);
      if (!socket.write(b)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
    };
    const steps = typeof script === 'function' ? script(id, () => requests[id]!) : script;
    const waitForHead = async (): Promise<void> => {
      if (requests[id]!.includes('\r\n\r\n')) return;
      await new Promise<void>((resolve) => {
        headSeen = resolve;
        socket.once('close', () => resolve());
      });
      headSeen = null;
    };
    const play = async (): Promise<void> => {
      if (options.waitRequest !== false) await waitForHead();
      for (const step of steps) {
        if (gone) return;
        if ('send' in step) await write(toBuf(step.send));
        else if ('split' in step) {
          const b = toBuf(step.split);
          let i = 0;
          let k = 0;
          while (i < b.length && !gone) {
            const size = step.sizes[Math.min(k++, step.sizes.length - 1)]!;
            await write(b.subarray(i, i + size));
            i += size;
            await sleep(0);
          }
        } else if ('bytes' in step) {
          const b = toBuf(step.bytes);
          for (let i = 0; i < b.length && !gone; i++) {
            await write(b.subarray(i, i + 1));
            await sleep(step.everyMs ?? 0);
          }
        } else if ('delayMs' in step) await sleep(step.delayMs);
        else if ('drip' in step) {
          const b = toBuf(step.drip);
          for (let n = 0; !gone && (step.max === undefined || n < step.max); n++) {
            await write(b);
            await sleep(step.everyMs);
          }
        } else if ('endless' in step) {
          const b = toBuf(step.endless);
          let total = 0;
          while (!gone && (step.maxBytes === undefined || total < step.maxBytes)) {
            await write(b);
            total += b.length;
            // The client runs in this process too: let it read.
            if (total % (64 * 1024) < b.length) await sleep(0);
          }
        } else if ('from' in step) {
          for await (const piece of step.from()) {
            if (gone) break;
            await write(toBuf(piece));
          }
        } else if ('waitRequest' in step) {
          // (Before the first step it is waited for already, unless options.waitRequest is false.)
          await waitForHead();
        } else if ('end' in step) socket.end();
        else if ('reset' in step) socket.resetAndDestroy();
        else if ('hold' in step) return;
      }
    };
    play().catch(() => socket.destroy());
  });
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    host,
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    requests,
    get sent() {
      return sentPieces.map((p) => Buffer.concat(p));
    },
    get connections() {
      return requests.length;
    },
    closed(n = requests.length) {
      if (closedCount >= n) return Promise.resolve();
      return new Promise((resolve) => closeWaiters.push({ n, resolve }));
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A complete response: status line, headers (CRLF each), blank line, body. */
export function response(status: string, headers: Array<[string, string | number]>, body: Buffer | string = ''): Buffer {
  let head = `HTTP/1.1 ${status}\r\n`;
  for (const [n, v] of headers) head += `${n}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), toBuf(body)]);
}

/** A chunked body: each piece as one chunk, then the last-chunk and optional trailers. */
export function chunked(pieces: Array<Buffer | string>, trailers = ''): Buffer {
  const parts: Buffer[] = [];
  for (const p of pieces) {
    const b = toBuf(p);
    if (b.length === 0) continue;
    parts.push(Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailers}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

/**
 * A `serve(steps)` for one test file: each server it starts is closed after each test.
 * Call it at the top level of the file (it registers an afterEach hook).
 */
export function rawServers(): (steps: Step[]) => Promise<RawServer> {
  const track = closeAfterEach();
  return async (steps) => track(await rawServer(steps));
}
