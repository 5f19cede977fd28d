import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../src/client/request.js';
import { rawOnlyListener, type WireEvent } from '../../src/wire/events.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;

const BODY = 256 * 1024;
const ROUNDS = 40;
let server: net.Server;
let url: string;

beforeAll(async () => {
  const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY}\r\n\r\n`), Buffer.alloc(BODY, 0x61)]);
  server = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end(response));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** ArrayBuffer bytes still held after minor GCs (scavenges), once the sweeper freed the rest. */
async function heldAfterScavenges(): Promise<number> {
  for (let i = 0; i < 3; i++) gc({ type: 'minor' });
  await sleep(100);
  return process.memoryUsage().arrayBuffers;
}

async function fetchMany(onWire?: (ev: WireEvent) => void): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const res = await request(url, onWire ? { onWire: rawOnlyListener(onWire) } : {});
    bytes += res.body.length;
  }
  return bytes;
}

describe('a traced connection', () => {
  // The `connected` event's lazy `local` was a getter in an object literal: V8 keeps such
  // accessors in old space, so each connection's socket, and the bytes it read, outlived it
  // until a full GC (16–33 MB in a 5,000-page crawl with --warc). Measured here by what minor GCs
  // cannot free after 40 responses of 256 KB each (10 MB in all).
  it('leaves nothing for a full GC: its buffers go with the next minor GCs, as without a trace', async () => {
    await fetchMany(); // warm-up: lazily made objects and code
    gc();
    const base = await heldAfterScavenges();
    let locals = 0;
    const bytes = await fetchMany((ev) => {
      if (ev.type === 'connected' && /^127\.0\.0\.1:\d+$/.test(ev.local)) locals++;
    });
    expect(bytes).toBe(ROUNDS * BODY);
    expect(locals).toBe(ROUNDS);
    const held = (await heldAfterScavenges()) - base;
    expect(held).toBeLessThan(2 * 1024 * 1024);
  });

  it('gives `local` in JSON.stringify() of its connected event, as for every other field', async () => {
    const seen: string[] = [];
    await request(url, { onWire: (ev) => ev.type === 'connected' && seen.push(JSON.stringify(ev)) });
    expect(seen).toHaveLength(1);
    const parsed = JSON.parse(seen[0]!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ type: 'connected', remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/), local: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(typeof parsed.conn).toBe('number');
    expect(typeof parsed.t).toBe('number');
  });
});
