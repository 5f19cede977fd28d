import { PassThrough } from 'node:stream';
import type { Io } from '../../src/cli/io.js';

/** CLI streams in memory: pass `io` to main(), read what it wrote with out() and err(). */
export function memoryIo(isTTY = false): { io: Io; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { io: { stdout, stderr, env: {}, isTTY }, out: () => out, err: () => err };
}
