import net from 'node:net';
import { once } from 'node:events';
import type { CapturedExchange } from './exchange.js';
import { drainOrClose } from '../net/stream-writer.js';

export interface ReplayServerOptions {
  port?: number;
  /** Multiplies the captured delays (0: send every read at once, still as separate writes). */
  speed?: number;
}

export interface ReplayServer {
  port: number;
  origin: string;
  /** Connections answered. */
  served: number;
  close(): Promise<void>;
}

/** The request-target of a request's first line ("/a?b"). */
export function requestTarget(head: Buffer): string | null {
  const lf = head.indexOf(0x0a);
  const line = head.toString('latin1', 0, lf === -1 ? head.length : lf).trim();
  const m = /^[A-Z]+ (\S+) HTTP\/1\.\d$/.exec(line);
  return m ? m[1]! : null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/**
 * A 127.0.0.1 server that answers each connection with a captured response: the bytes split at
 * the captured read boundaries, each piece sent after the captured delay (time of that read
 * minus time the request was written), then the captured ending: a close, or a reset for an
 * exchange that ended in ERR_CONNECTION_RESET. The exchange is picked by request-target; a
 * target seen several times is answered in capture order, and an unknown one gets the next
 * exchange not yet served.
 */
export async function startReplayServer(exchanges: CapturedExchange[], options: ReplayServerOptions = {}): Promise<ReplayServer> {
  const speed = options.speed ?? 1;
  const byTarget = new Map<string, CapturedExchange[]>();
  for (const ex of exchanges) {
    const target = requestTarget(ex.request);
    if (target === null) continue;
    byTarget.set(target, [...(byTarget.get(target) ?? []), ex]);
  }
  const used = new Set<CapturedExchange>();
  const pick = (target: string | null): CapturedExchange | undefined => {
    const list = target === null ? undefined : byTarget.get(target);
    const hit = list?.find((ex) => !used.has(ex)) ?? list?.[list.length - 1];
    return hit ?? exchanges.find((ex) => !used.has(ex)) ?? exchanges[0];
  };
  const sockets = new Set<net.Socket>();
  let served = 0;

  const answer = async (socket: net.Socket, ex: CapturedExchange): Promise<void> => {
    used.add(ex);
    served++;
    const start = ex.timings.written ?? ex.timings.connect ?? 0;
    const t0 = performance.now();
    const reads = ex.reads.length > 0 ? ex.reads : [{ offset: 0, size: ex.response.length, t: start }];
    for (const r of reads) {
      const due = (r.t - start) * speed - (performance.now() - t0);
      await sleep(due);
      if (socket.destroyed) return;
      const ok = socket.write(ex.response.subarray(r.offset, r.offset + r.size));
      if (!ok) await drainOrClose(socket);
    }
    if (ex.error?.code === 'ERR_CONNECTION_RESET') socket.resetAndDestroy();
    else if (ex.error?.code === 'ERR_TIMEOUT' || ex.error?.code === 'ERR_ABORTED') {
      // The server kept the connection open: so does the replay, until the client gives up.
    } else socket.end();
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      if (head.indexOf('\r\n\r\n') === -1 && head.indexOf('\n\n') === -1) return;
      socket.off('data', onData);
      // Keep reading (and dropping) whatever else comes, so the client is never blocked writing.
      socket.on('data', () => {});
      const ex = pick(requestTarget(head));
      if (!ex) {
        socket.destroy();
        return;
      }
      answer(socket, ex).catch(() => socket.destroy());
    };
    socket.on('data', onData);
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    get served() {
      return served;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
