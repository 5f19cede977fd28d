import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { extract, type ExtractInput, type ExtractResult } from './extract.js';

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: ExtractResult) => void; reject: (e: Error) => void }>;
}

/**
 * HTML parsing is CPU work: a pool of worker threads runs it so the socket loop keeps flowing
 * (asyncio's run_in_executor). With 0 threads, or where the compiled worker is absent (running
 * from TypeScript sources), it parses on the calling thread.
 */
export class ParsePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;

  constructor(threads: number) {
    const script = new URL('./extract-worker.js', import.meta.url);
    if (threads <= 0 || !existsSync(fileURLToPath(script))) return;
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(script);
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (msg: { id: number; result?: ExtractResult; error?: string }) => {
        const p = slot.pending.get(msg.id);
        if (!p) return;
        slot.pending.delete(msg.id);
        if (slot.pending.size === 0) worker.unref();
        if (msg.result) p.resolve(msg.result);
        else p.reject(new Error(msg.error ?? 'extract failed'));
      });
      worker.on('error', (err) => {
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
      });
      worker.unref();
      this.slots.push(slot);
    }
  }

  get threads(): number {
    return this.slots.length;
  }

  run(input: ExtractInput): Promise<ExtractResult> {
    if (this.slots.length === 0) {
      try {
        return Promise.resolve(extract(input));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.nextId++;
    // Copy the body into its own ArrayBuffer and hand it over without a second copy.
    const body = new Uint8Array(input.body.byteLength);
    body.set(input.body);
    return new Promise((resolve, reject) => {
      // An idle pool must not keep the process alive; a busy one must (the caller awaits it).
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, input: { ...input, body } }, [body.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}
