import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { request } from '../../src/client/request.js';
import { createCaptureSink } from '../../src/capture/sink.js';
import { main } from '../../src/cli/main.js';
import { rawServer } from '../helpers/raw-server.js';
import { closeAfterEach } from '../helpers/close-after-each.js';
import { memoryIo } from '../helpers/memory-io.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';

const track = closeAfterEach();
const BIN = join(ROOT, 'bin/rawcrawl');

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const m = memoryIo();
  const code = await main(['node', 'rawcrawl', ...args], m.io);
  return { code, out: m.out(), err: m.err() };
}

/**
 * A capture directory and a WARC of `n` exchanges whose replay prints far more than a pipe holds
 * (64 KiB): long paths make every output line a few KiB, so the CLI is still writing when the
 * reader of its stdout goes away.
 */
async function bigCapture(n: number): Promise<{ caps: string; warc: string }> {
  const s = track(await rawServer([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' }, { end: true }]));
  const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
  const caps = join(dir, 'caps');
  const warc = join(dir, 'small.warc.gz');
  const sink = createCaptureSink({ dir: caps, warcFile: warc, warcThread: false });
  for (let i = 0; i < n; i++) await request(`${s.origin}/${'p'.repeat(3000)}/${i}`, { onWire: sink.onWire });
  await sink.close();
  return { caps, warc };
}

/** Runs `rawcrawl ARGS | READER` in bash (a real pipe, as a user's shell makes): the CLI's exit status and stderr. */
function piped(args: string[], reader: string): Promise<{ code: number; err: string }> {
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const script = `${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')} 2>"$ERR" | ${reader}; echo "exit=\${PIPESTATUS[0]}" >&2`;
  const errFile = join(mkdtempSync(join(tmpdir(), 'rawcrawl-pipe-')), 'stderr');
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', `${script}; cat "$ERR"`], { env: { ...process.env, ERR: errFile }, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error) return reject(error);
      const m = /^exit=(\d+)\n/.exec(stderr);
      if (!m) return reject(new Error(`no exit status in ${JSON.stringify(stderr)}`));
      // bash's stdout is the reader's output, then the CLI's stderr (cat "$ERR").
      resolve({ code: Number(m[1]), err: stdout });
    });
  });
}

describe('rawcrawl replay | head', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('a reader that goes away (head) ends the replay quietly, exit 0, for a capture directory (--json) and a WARC', async () => {
    const { caps, warc } = await bigCapture(40);
    // --json: one line per exchange, each a few KiB; head -c 700 reads 700 bytes and leaves.
    const json = await piped(['replay', caps, '--json'], 'head -c 700 >/dev/null');
    expect(json.err).not.toMatch(/EPIPE|^\s+at /m);
    // One line, the summary; the replay stopped once stdout was gone (not all 40 exchanges).
    const replayed = (err: string): number => Number(/^replay: (\d+) exchanges, \1 same, 0 different, 0 without a stored record\n$/.exec(err)?.[1]);
    expect(replayed(json.err)).toBeLessThan(40);
    expect(json.code).toBe(0);
    const text = await piped(['replay', warc], 'head -1 >/dev/null');
    expect(text.err).not.toMatch(/EPIPE|^\s+at /m);
    expect(replayed(text.err)).toBeLessThan(40);
    expect(text.code).toBe(0);
  });
});

describe('rawcrawl replay --serve', () => {
  it('a port already in use is a usage error: one line, exit 2', async () => {
    const s = track(await rawServer([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' }, { end: true }]));
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const sink = createCaptureSink({ dir, warcThread: false });
    await request(`${s.origin}/a`, { onWire: sink.onWire });
    await sink.close();
    const busy = net.createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = await cli('replay', dir, '--serve', String(port));
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toBe(`rawcrawl: ERR_INVALID_OPTION cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });
});

describe('rawcrawl replay of an exchange that got no response', () => {
  it('says why, from its capture file, instead of a parse of no bytes', async () => {
    // A port with nothing listening: bound, then closed.
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const caps = join(dir, 'caps');
    const sink = createCaptureSink({ dir: caps });
    await expect(request(`http://127.0.0.1:${port}/gone`, { onWire: sink.onWire })).rejects.toMatchObject({ code: 'ERR_CONNECT' });
    await sink.close();
    const r = await cli('replay', caps);
    expect(r.out).toMatch(new RegExp(`^same GET http://127\\.0\\.0\\.1:${port}/gone no response: ERR_CONNECT cannot connect to 127\\.0\\.0\\.1:${port}: ECONNREFUSED \\(`));
  });
});
