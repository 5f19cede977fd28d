import { afterEach, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../src/client/request.js';
import { createCaptureSink } from '../../src/capture/sink.js';
import type { CapturedExchange } from '../../src/capture/exchange.js';
import { startReplayServer, type ReplayServer } from '../../src/capture/replay-server.js';
import { rawServer, type RawServer } from '../helpers/raw-server.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';

const closers: Array<RawServer | ReplayServer> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((s) => s.close()));
});

const PARTS = [
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n',
  '5\r\nhello\r\n',
  '6;x=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n',
];
const WIRE = Buffer.from(PARTS.join(''), 'latin1');

/** Captures one exchange from a server that sends PARTS 40 ms apart. */
async function captureOne(path: string, parts = PARTS): Promise<CapturedExchange> {
  const s = await rawServer([{ send: parts[0]! }, { delayMs: 40 }, { send: parts[1]! }, { delayMs: 40 }, { send: parts[2]! }, { end: true }]);
  closers.push(s);
  const exchanges: CapturedExchange[] = [];
  const sink = createCaptureSink({ dir: mkdtempSync(join(tmpdir(), 'rawcrawl-rs-')), onExchange: (ex) => exchanges.push(ex) });
  await request(`${s.origin}${path}`, { onWire: sink.onWire });
  await sink.close();
  return exchanges[0]!;
}

/** curl's output; exit 18 (partial file) is expected for a replayed premature close. */
function curl(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '--raw', '-i', url], { encoding: 'buffer' }, (err, out) =>
      err && (err as { code?: unknown }).code !== 18 ? reject(err) : resolve(out),
    );
  });
}

describe('replay server', () => {
  it('captures three reads and serves them back to curl, byte for byte', async () => {
    const ex = await captureOne('/page');
    expect(ex.response.equals(WIRE)).toBe(true);
    expect(ex.reads.map((r) => r.size)).toEqual(PARTS.map((p) => p.length));
    const server = await startReplayServer([ex]);
    closers.push(server);
    const got = await curl(`${server.origin}/page`);
    expect(got.equals(WIRE)).toBe(true);
    expect(server.served).toBe(1);
  });

  it('serves the project client the same bytes at the same read boundaries and pace', async () => {
    const ex = await captureOne('/page');
    const server = await startReplayServer([ex]);
    closers.push(server);
    const again: CapturedExchange[] = [];
    const sink = createCaptureSink({ dir: mkdtempSync(join(tmpdir(), 'rawcrawl-rs-')), onExchange: (e) => again.push(e) });
    const res = await request(`${server.origin}/page`, { onWire: sink.onWire });
    await sink.close();
    expect(res.text()).toBe('hello world');
    expect(res.trailers.get('x-trailer')).toBe('yes');
    const re = again[0]!;
    expect(re.response.equals(ex.response)).toBe(true);
    expect(re.reads.map((r) => [r.offset, r.size])).toEqual(ex.reads.map((r) => [r.offset, r.size]));
    // The captured 40 ms gaps are kept (timers are never early; allow scheduling slack).
    const gaps = re.reads.slice(1).map((r, i) => r.t - re.reads[i]!.t);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(30);
  });

  it('picks the exchange by request-target, and serves a premature close as one', async () => {
    const a = await captureOne('/a');
    const cut = await rawServer([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly' }, { end: true }]);
    closers.push(cut);
    const got: CapturedExchange[] = [];
    const sink = createCaptureSink({ dir: mkdtempSync(join(tmpdir(), 'rawcrawl-rs-')), onExchange: (e) => got.push(e) });
    await expect(request(`${cut.origin}/b`, { onWire: sink.onWire })).rejects.toMatchObject({ code: 'ERR_PREMATURE_CLOSE' });
    await sink.close();
    const server = await startReplayServer([a, got[0]!], { speed: 0 });
    closers.push(server);
    await expect(request(`${server.origin}/b`)).rejects.toMatchObject({ code: 'ERR_PREMATURE_CLOSE', offset: 43 });
    expect((await request(`${server.origin}/a`)).text()).toBe('hello world');
    expect((await curl(`${server.origin}/b`)).toString()).toBe('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly');
  });

  it('rawcrawl replay DIR --serve 0 answers curl with the captured bytes until SIGTERM', async () => {
    ensureBuilt();
    const s = await rawServer([{ split: WIRE, sizes: [20] }, { end: true }]);
    closers.push(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-rs-'));
    const sink = createCaptureSink({ dir });
    await request(`${s.origin}/cli`, { onWire: sink.onWire });
    await sink.close();
    const child = spawn(process.execPath, [join(ROOT, 'bin/rawcrawl'), 'replay', dir, '--serve', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    const origin = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /serving 1 exchanges on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`replay exited: ${out} ${err}`)));
    });
    expect((await curl(`${origin}/cli`)).equals(WIRE)).toBe(true);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toContain('served 1 connections');
  });
});
