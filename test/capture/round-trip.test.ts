import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { request } from '../../src/client/request.js';
import { createCaptureSink } from '../../src/capture/sink.js';
import { loadStored } from '../../src/capture/load.js';
import { writeCaptureFile } from '../../src/capture/capture-file.js';
import { diffRecords } from '../../src/capture/record-diff.js';
import { replayResponse } from '../../src/capture/replay-response.js';
import { main } from '../../src/cli/main.js';
import { rawServer } from '../helpers/raw-server.js';
import { parse, ParseError } from '../helpers/parser-cases.js';
import { DELIVERIES, FRAMING_CASES } from '../helpers/framing-cases.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

const track = closeAfterEach();

class Text extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Text();
  const err = new Text();
  const code = await main(['node', 'rawcrawl', ...args], { stdout: out, stderr: err, env: {}, isTTY: false });
  return { code, out: out.text, err: err.text };
}

describe.each(DELIVERIES)('capture -> replay, delivered %s', (delivery, deliver) => {
  it.each(FRAMING_CASES)('$name', async (c) => {
    const wire = Buffer.from(c.wire as string, 'latin1');
    const s = await rawServer([...deliver(c.wire), c.close ? { end: true } : { hold: true }]);
    track(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const sink = createCaptureSink({ dir });
    const outcome = await request(`${s.origin}/case`, { timeoutMs: 5000, onWire: sink.onWire }).then(
      (res) => ({ ok: true as const, res }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    await sink.close();
    if (c.close) await s.closed(1);

    const stored = loadStored(dir);
    expect(stored).toHaveLength(1);
    const { exchange: ex, record } = stored[0]!;
    // Exact bytes both ways, and the reads add up to the response.
    expect(ex.request.equals(s.requests[0]!)).toBe(true);
    // Split deliveries: the client stops reading at a complete response or an error, so the
    // capture may hold a prefix of what the server sent (never a byte that was not sent).
    const got = ex.response;
    expect(got.equals(s.sent[0]!.subarray(0, got.length))).toBe(true);
    expect(got.equals(wire.subarray(0, got.length))).toBe(true);
    // All of it when it came at once, or when the client had to read to the close to end it.
    const readToClose = c.close === true && ('body' in c.expect || c.expect.error === 'ERR_PREMATURE_CLOSE');
    if (delivery === 'whole' || readToClose) expect(got.length).toBe(wire.length);
    expect(got.length).toBeGreaterThanOrEqual(record!.end ?? record!.error?.offset ?? 0);
    expect(ex.reads.reduce((n, r) => n + r.size, 0)).toBe(got.length);
    let next = 0;
    for (const r of ex.reads) {
      expect(r.offset).toBe(next);
      next += r.size;
    }
    if (delivery === 'byte at a time' && wire.length > 20) expect(ex.reads.length).toBeGreaterThan(wire.length / 4);

    // Replay through the current parser gives the record stored at capture time.
    const again = await replayResponse({ response: ex.response, reads: ex.reads, peerEof: ex.peerEof, method: ex.method });
    expect(diffRecords(record!, again)).toEqual([]);
    expect(again).toEqual(record);

    if ('error' in c.expect) {
      expect(outcome.ok).toBe(false);
      expect(ex.error?.code).toBe(c.expect.error);
      expect(record!.error?.code).toBe(c.expect.error);
      expect(record!.error?.offset).toBe(ex.error?.offset);
      expect(typeof ex.error?.offset).toBe('number');
      if (wire.length > 0) expect(ex.error?.excerpt).toMatch(/^@\d+: ([0-9a-f]{2}|\[[0-9a-f]{0,2}\])( ([0-9a-f]{2}|\[[0-9a-f]{0,2}\]))* \|.*\|$/);
      return;
    }
    expect(outcome.ok).toBe(true);
    expect(record!.body?.bytes).toBe(c.expect.body.length);
    expect(ex.leniencies.map((l) => l.kind)).toEqual(c.expect.leniencies ?? []);
    expect(record!.leniencies).toEqual(ex.leniencies);
    // Independently: the test helper's parse of the same bytes.
    let helper;
    try {
      helper = parse([wire], { eof: Boolean(c.close) });
    } catch (e) {
      throw e instanceof ParseError ? e.error : e;
    }
    expect(record!.status).toBe(helper.status);
    expect(record!.headers).toEqual(helper.headers);
    expect(record!.trailers).toEqual(helper.trailers);
    expect(record!.framing).toBe(helper.framing);
    expect(record!.payload.bytes).toBe(helper.body.length);
    expect(record!.end).toBe(wire.length - helper.unconsumed);
    const t = ex.timings;
    expect(t.connect!).toBeLessThanOrEqual(t.firstByte!);
    expect(t.firstByte!).toBeLessThanOrEqual(t.headersEnd!);
    expect(t.headersEnd!).toBeLessThanOrEqual(t.bodyEnd!);
    expect(t.bodyEnd!).toBeLessThanOrEqual(t.closed);
  });
});

describe('rawcrawl replay', () => {
  it('reports "same" for an untouched capture and DIFF (exit 1) when the stored record disagrees', async () => {
    const s = await rawServer([{ send: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' }, { hold: true }]);
    track(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const warc = join(dir, 'out.warc.gz');
    const fetched = await cli('fetch', '--capture', dir, '--warc', warc, `${s.origin}/x`);
    expect(fetched.code).toBe(0);
    expect(fetched.out).toBe('abc');

    const same = await cli('replay', dir);
    expect(same.code).toBe(0);
    expect(same.out).toMatch(/^same GET http:\/\/127\.0\.0\.1:\d+\/x 200 chunked, payload 3 B, body 3 B \(/);
    expect(same.err).toContain('1 exchanges, 1 same, 0 different');
    const fromWarc = await cli('replay', warc);
    expect(fromWarc.code).toBe(0);
    expect(fromWarc.out).toMatch(/^same GET .* \(.*out\.warc\.gz#1\)\n$/);

    // Yesterday's parser said 201 and saw no trailers: today's run must flag it.
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.rawcap'));
    const data = readFileSync(join(dir, file!));
    const lf = data.indexOf(0x0a);
    const header = JSON.parse(data.toString('utf8', 0, lf));
    header.record.status = 201;
    writeFileSync(join(dir, file!), Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), data.subarray(lf + 1)]));
    const diff = await cli('replay', dir);
    expect(diff.code).toBe(1);
    expect(diff.out).toContain('DIFF GET');
    expect(diff.out).toContain('    status: 201 -> 200\n');
    const json = await cli('replay', '--json', dir);
    const line = JSON.parse(json.out.trim());
    expect(line.differences).toEqual([{ field: 'status', stored: 201, current: 200 }]);
  });

  it('a WARC cut short by a killed run: the whole exchanges are replayed, a line says where it ends, exit 0', async () => {
    const s = await rawServer([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' }, { end: true }]);
    track(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const warc = join(dir, 'killed.warc.gz');
    const sink = createCaptureSink({ warcFile: warc, warcThread: false });
    for (const p of ['/a', '/b', '/c']) await request(`${s.origin}${p}`, { onWire: sink.onWire });
    await sink.close();
    const whole = readFileSync(warc);
    // The last gzip member (the third exchange's metadata record) loses its end.
    writeFileSync(warc, whole.subarray(0, whole.length - 30));
    const r = await cli('replay', warc);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.map((l) => l.replace(/ 200 .*$/, ''))).toEqual([`same GET ${s.origin}/a`, `same GET ${s.origin}/b`, `new  GET ${s.origin}/c`]);
    const [warning, summary] = r.err.trim().split('\n');
    expect(warning).toMatch(new RegExp(`^rawcrawl: .*killed\\.warc\\.gz is cut short inside its record 10 \\(byte \\d+ uncompressed; a run killed while writing\\?\\): the 9 whole records before it are replayed$`));
    expect(summary).toBe('replay: 3 exchanges, 2 same, 0 different, 1 without a stored record');
  });

  it('replays several paths in one run: the files of a rotated WARC, in order, and a capture directory', async () => {
    const s = await rawServer([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' }, { end: true }]);
    track(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const caps = join(dir, 'caps');
    const sink = createCaptureSink({ warcFile: join(dir, 'rot.warc.gz'), warcMaxSize: 600, warcThread: false, dir: caps });
    for (const p of ['/a', '/b', '/c']) await request(`${s.origin}${p}`, { onWire: sink.onWire });
    await sink.close();
    expect(sink.warcFiles.length).toBe(3);
    const r = await cli('replay', ...sink.warcFiles, caps);
    expect(r.code).toBe(0);
    const paths = r.out.trim().split('\n').map((l) => /GET \S+?(\/[a-c]) /.exec(l)?.[1]);
    expect(paths).toEqual(['/a', '/b', '/c', '/a', '/b', '/c']);
    expect(r.err).toBe('replay: 6 exchanges, 6 same, 0 different, 0 without a stored record\n');
  });

  it('a directory is replayed with its WARCs too, in name order; one with nothing to replay is one line, exit 2; a bad --serve port is a usage error', async () => {
    const s = await rawServer([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' }, { end: true }]);
    track(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    // A crawl's output directory: a rotated WARC and a stray file.
    const sink = createCaptureSink({ warcFile: join(dir, 'crawl.warc.gz'), warcMaxSize: 600, warcThread: false });
    for (const p of ['/a', '/b']) await request(`${s.origin}${p}`, { onWire: sink.onWire });
    await sink.close();
    writeFileSync(join(dir, 'notes.txt'), 'not a capture');
    const r = await cli('replay', dir);
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').map((l) => /GET \S+?(\/[ab]) .*\((.*)\)$/.exec(l)!.slice(1).join(' ').replace(dir, 'DIR'))).toEqual([
      '/a DIR/crawl.warc.gz#1',
      '/b DIR/crawl-00001.warc.gz#1',
    ]);
    const empty = mkdtempSync(join(tmpdir(), 'rawcrawl-empty-'));
    writeFileSync(join(empty, 'notes.txt'), 'nothing');
    const none = await cli('replay', empty);
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toBe(`rawcrawl: ERR_INVALID_OPTION ${empty} holds no capture files (.rawcap) and no WARC files (.warc, .warc.gz)\n`);
    // A run killed before it finished any capture file.
    writeFileSync(join(empty, 'x.rawcap.part'), 'half a file');
    const unfinished = await cli('replay', empty);
    expect(unfinished.code).toBe(2);
    expect(unfinished.err).toBe(`rawcrawl: ERR_INVALID_OPTION ${empty} holds no capture files (.rawcap) (only 1 unfinished *.rawcap.part) and no WARC files (.warc, .warc.gz)\n`);
    const port = await cli('replay', dir, '--serve', '70000');
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/^rawcrawl: ERR_INVALID_OPTION .*"70000" is not a port \(0 to 65535\)\n$/);
  });

  it('a cut-short capture file in the directory is named and skipped; the others are replayed; exit 1', async () => {
    const s = await rawServer([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' }, { end: true }]);
    track(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const sink = createCaptureSink({ dir });
    for (const p of ['/a', '/b', '/c']) await request(`${s.origin}${p}`, { onWire: sink.onWire });
    await sink.close();
    // Written whole, under their final names only (each went through NAME.rawcap.part).
    const files = readdirSync(dir).sort();
    expect(files.length).toBe(3);
    expect(files.every((f) => f.endsWith('.rawcap'))).toBe(true);
    // As an older run killed mid-write could have left one, and a stray .part file.
    const cut = join(dir, files[1]!);
    writeFileSync(cut, readFileSync(cut).subarray(0, 40));
    writeFileSync(join(dir, `${files[2]!}.part`), 'half a file');
    const r = await cli('replay', dir);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n').map((l) => l.replace(/ 200 .*$/, ''))).toEqual([`same GET ${s.origin}/a`, `same GET ${s.origin}/c`]);
    const [unfinished, bad, summary] = r.err.trim().split('\n');
    expect(unfinished).toBe(`rawcrawl: ${dir} holds 1 unfinished capture file (*.rawcap.part; a run killed while writing?): not replayed`);
    expect(bad).toMatch(new RegExp(`^rawcrawl: ERR_STORAGE ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a rawcrawl capture file: `));
    expect(summary).toBe('replay: 2 exchanges, 2 same, 0 different, 0 without a stored record, 1 unreadable capture files');
  });

  it('a capture file that cannot be written is ERR_STORAGE naming it, and leaves neither it nor its .part', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const target = join(dir, 'gone', 'x.rawcap');
    await expect(writeCaptureFile(target, Buffer.from('data'))).rejects.toMatchObject({ code: 'ERR_STORAGE', message: `cannot write capture file ${target}: ENOENT` });
    expect(readdirSync(dir)).toEqual([]);
    const ok = join(dir, 'y.rawcap');
    await writeCaptureFile(ok, Buffer.from('data'));
    expect(readdirSync(dir)).toEqual(['y.rawcap']);
    expect(readFileSync(ok, 'latin1')).toBe('data');
  });

  it('a parse error is stored and printed with its offset and a hex/ASCII excerpt', async () => {
    const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\nzz\r\n';
    const s = await rawServer([{ send: wire }, { hold: true }]);
    track(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const r = await cli('fetch', '--capture', dir, `${s.origin}/`);
    expect(r.code).toBe(1);
    const at = wire.indexOf('zz');
    const excerpt = '@44: 0a 0d 0a 34 0d 0a 62 6f 64 79 0d 0a [7a] 7a 0d 0a |...4..body..[z]z..|';
    expect(at).toBe(56);
    expect(r.err).toBe(`rawcrawl: ERR_INVALID_CHUNK chunk size "zz" is not hex (at byte 56: ${excerpt})\n`);
    const [stored] = loadStored(dir);
    expect(stored!.exchange.error).toMatchObject({ code: 'ERR_INVALID_CHUNK', offset: at });
    expect(stored!.exchange.error!.excerpt).toBe(excerpt);
  });

  it('an exchange with an IPv6 server keeps its address bare, as WARC-IP-Address wants it', async () => {
    const s = await rawServer([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' }, { end: true }], { host: '::1' }).catch(() => null);
    if (!s) return; // no IPv6 loopback here
    track(s);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-cap-'));
    const sink = createCaptureSink({ dir });
    await request(`${s.origin}/`, { onWire: sink.onWire });
    await sink.close();
    expect(loadStored(dir)[0]!.exchange.remoteAddress).toBe('::1');
  });
});
