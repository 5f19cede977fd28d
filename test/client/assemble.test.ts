import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ResponseAssembler } from '../../src/client/assemble.js';
import { ResponseParser } from '../../src/http/response-parser.js';
import { drain } from '../helpers/feed.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** process.memoryUsage() once full GCs (and the sweeper after them) freed what they can. */
async function settled(): Promise<NodeJS.MemoryUsage> {
  gc();
  await sleep(50);
  gc();
  return process.memoryUsage();
}

const head = (codings: string): Buffer =>
  Buffer.from(`HTTP/1.1 200 OK\r\n${codings ? `Content-Encoding: ${codings}\r\n` : ''}Transfer-Encoding: chunked\r\n\r\n`, 'latin1');

/** Feeds `reads` one by one, as a socket would hand them over, and lets them go. */
function feedAll(parser: ResponseParser, asm: ResponseAssembler, reads: Iterable<Buffer>): boolean {
  let done = false;
  for (const read of reads) {
    parser.feed(read);
    done = drain(parser, (ev) => asm.accept(ev, parser.offset));
  }
  return done;
}

/** Each body byte a chunk of its own, in a read of its own, padded by a 4 KB chunk extension. */
function* paddedOneByteChunks(body: Buffer): Generator<Buffer> {
  const ext = `;${'x'.repeat(4000)}`;
  for (const b of body) yield Buffer.concat([Buffer.from(`1${ext}\r\n`, 'latin1'), Buffer.from([b]), Buffer.from('\r\n')]);
  yield Buffer.from('0\r\n\r\n');
}

describe('a body of tiny chunks', () => {
  it.each([
    ['plain', '', (b: Buffer) => b],
    ['gzip', 'gzip', (b: Buffer) => zlib.gzipSync(b, { level: 0 })],
  ])('%s: holds the body bytes, not the reads each byte came in', async (_, codings, encode) => {
    const plain = Buffer.alloc(3000, 'a');
    const wire = encode(plain);
    // (Extensions this long in all pass only a raised limit: see the parser's tests.)
    const parser = new ResponseParser({ maxHeaderBytes: 16 << 20 });
    const asm = new ResponseAssembler({ method: 'GET', decompress: true, maxBodyBytes: 1 << 20 });
    feedAll(parser, asm, [head(codings)]);
    const before = (await settled()).arrayBuffers;
    // 3000 + bytes of body in reads of 4 KB each: 12 MB went by.
    expect(feedAll(parser, asm, paddedOneByteChunks(wire))).toBe(true);
    const held = (await settled()).arrayBuffers - before;
    expect(held).toBeLessThan(1024 * 1024);
    expect(asm.received).toBe(wire.length);
    expect((await asm.body()).equals(plain)).toBe(true);
  });

  it('1-byte chunks in one read: the body costs its bytes, not an object per byte', async () => {
    const n = 200_000;
    const wire = Buffer.from(`${'1\r\nz\r\n'.repeat(n)}0\r\n\r\n`, 'latin1');
    const parser = new ResponseParser();
    const asm = new ResponseAssembler({ method: 'GET', decompress: true, maxBodyBytes: 1 << 20 });
    feedAll(parser, asm, [head('')]);
    const before = (await settled()).heapUsed;
    expect(feedAll(parser, asm, [wire])).toBe(true);
    // A Buffer per byte was 80+ bytes of heap each: 16 MB here.
    expect((await settled()).heapUsed - before).toBeLessThan(4 * 1024 * 1024);
    expect((await asm.body()).equals(Buffer.alloc(n, 'z'))).toBe(true);
  });
});
