import net from 'node:net';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

export interface UnansweredPort {
  port: number;
  close(): Promise<void>;
}

/**
 * A port on 127.0.0.1 whose SYNs go unanswered, as a host behind a firewall that drops them or a
 * server whose accept queue is full: a connect() to it neither succeeds nor fails until given
 * up on. A listener with a backlog of 1 in a worker thread that blocks, so that nothing accepts,
 * and connections that fill its queue; the kernel then drops further SYNs. No root, no iptables.
 */
export async function unansweredPort(): Promise<UnansweredPort> {
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
       server.close();
     });`,
    { eval: true, workerData: wake },
  );
  const [port] = (await once(worker, 'message')) as [number];
  const fillers: net.Socket[] = [];
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    Atomics.store(wake, 0, 1);
    Atomics.notify(wake, 0);
    await worker.terminate();
  };
  // Until one connect is left hanging: the queue is full.
  for (let i = 0; i < 16; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
    const connected = await Promise.race([once(s, 'connect').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 200))]);
    if (!connected) return { port, close };
  }
  await close();
  throw new Error('could not fill the accept queue of a listener that does not accept');
}
