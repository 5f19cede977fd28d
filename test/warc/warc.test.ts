import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { WARCParser, type WARCRecord } from 'warcio';
import { request } from '../../src/client/request.js';
import { createCaptureSink } from '../../src/capture/sink.js';
import { alreadyCompressed } from '../../src/warc/writer.js';
import { rawServers, response } from '../helpers/raw-server.js';

const serve = rawServers();

/** RFC 4648 base32, written here again so the test does not trust src/. */
function sha1b32(data: Uint8Array): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const d = createHash('sha1').update(data).digest();
  let out = '';
  let bits = 0;
  let v = 0;
  for (const b of d) {
    v = (v << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += A[(v >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `sha1:${out}`;
}

interface Read {
  offset: number;
  type: string;
  record: WARCRecord;
  /** The HTTP payload as stored (after the head, chunk framing kept). */
  raw: Buffer;
  /** warcio's content: de-chunked and content-decoded. */
  content: Buffer;
  block: Buffer;
}

/** Reads a WARC with warcio (the independent reader) and keeps every record's bytes. */
async function readWithWarcio(file: string): Promise<Read[]> {
  const out: Read[] = [];
  for (const [isContent] of [[false], [true]] as const) {
    const parser = new WARCParser(createReadStream(file));
    let i = 0;
    for await (const record of parser) {
      const offset = parser.offset;
      const type = record.warcType ?? '';
      const data = Buffer.from(await record.readFully(isContent));
      if (!isContent) out.push({ offset, type, record, raw: data, content: Buffer.alloc(0), block: Buffer.alloc(0) });
      else out[i]!.content = data;
      i++;
    }
  }
  return out;
}

const HTML = Buffer.from('<!doctype html><title>t</title><p>h\xe9llo \x00 binary \xff</p>', 'latin1');
const CHUNKED = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n';
const GZ = gzipSync(Buffer.from('compressed '.repeat(100)));

/**
 * Each record's own gzip member in a .warc.gz, and its first deflate block's BTYPE (RFC 1951
 * §3.2.3: bits 1-2 of the byte just after the 10-byte gzip header; 00 stored, 01 fixed Huffman,
 * 10 dynamic Huffman).
 */
function gzipMembers(file: string, recs: Read[]): Array<{ member: Buffer; btype: number }> {
  const bytes = readFileSync(file);
  const ends = [...recs.slice(1).map((r) => r.offset), bytes.length];
  return recs.map((r, i) => {
    const member = bytes.subarray(r.offset, ends[i]);
    return { member, btype: (member[10]! >> 1) & 3 };
  });
}

describe('WARC output read back with warcio', () => {
  it('holds warcinfo, then request/response/metadata per exchange, with exact bytes, digests and seekable offsets', async () => {
    const cl = await serve([{ send: response('200 OK', [['Content-Type', 'text/html'], ['Content-Length', HTML.length]], HTML) }, { hold: true }]);
    const ch = await serve([{ split: CHUNKED, sizes: [9] }, { hold: true }]);
    const gz = await serve([{ send: response('200 OK', [['Content-Encoding', 'gzip'], ['Content-Length', GZ.length]], GZ) }, { hold: true }]);
    const final = await serve([{ send: response('200 OK', [['Content-Length', 4]], 'done') }, { hold: true }]);
    const redir = await serve([{ send: response('301 Moved', [['Location', `${final.origin}/final`], ['Content-Length', 0]]) }, { hold: true }]);
    const cut = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this' }, { end: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-'));
    const file = join(dir, 'out.warc.gz');
    const sink = createCaptureSink({ warcFile: file });
    const urls = [`${cl.origin}/cl`, `${ch.origin}/ch`, `${gz.origin}/gz`, `${redir.origin}/from`];
    for (const u of urls) await request(u, { onWire: sink.onWire });
    await expect(request(`${cut.origin}/cut`, { onWire: sink.onWire })).rejects.toMatchObject({ code: 'ERR_PREMATURE_CLOSE' });
    await expect(request('http://127.0.0.1:1/refused', { onWire: sink.onWire })).rejects.toMatchObject({ code: 'ERR_CONNECT' });
    await sink.close();
    expect(sink.warcFiles).toEqual([file]);
    expect(sink.exchanges).toBe(7);

    const recs = await readWithWarcio(file);
    expect(recs.map((r) => r.type)).toEqual([
      'warcinfo',
      ...Array(6).fill(['request', 'response', 'metadata']).flat(),
      'metadata',
    ]);
    const bytes = readFileSync(file);
    const responses = recs.filter((r) => r.type === 'response');
    const sent = [cl, ch, gz, redir, final, cut].map((s) => s.sent[0]!);
    const targets = [...urls.slice(0, 3), `${redir.origin}/from`, `${final.origin}/final`, `${cut.origin}/cut`];
    for (const [i, r] of responses.entries()) {
      const wire = sent[i]!;
      const headEnd = wire.indexOf('\r\n\r\n') + 4;
      expect(r.record.warcTargetURI).toBe(targets[i]);
      expect(r.record.warcHeader('WARC-IP-Address')).toBe('127.0.0.1');
      expect(r.record.warcHeader('Content-Type')).toBe('application/http;msgtype=response');
      expect(r.record.warcDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(r.record.warcHeader('WARC-Record-ID')).toMatch(/^<urn:uuid:[0-9a-f-]{36}>$/);
      // The payload warcio reads is byte for byte what the server sent after the head.
      expect(r.raw.equals(wire.subarray(headEnd))).toBe(true);
      expect(r.record.warcHeader('WARC-Block-Digest')).toBe(sha1b32(wire));
      // The request record it answers.
      const req = recs.find((x) => x.record.warcHeader('WARC-Record-ID') === r.record.warcHeader('WARC-Concurrent-To'))!;
      expect(req.type).toBe('request');
      expect(req.raw.length).toBeGreaterThanOrEqual(0);
      // Each record is its own gzip member: the bytes from its offset gunzip to just that record.
      const nextOffset = recs[recs.indexOf(r) + 1]!.offset;
      const member = gunzipSync(bytes.subarray(r.offset, nextOffset)).toString('latin1');
      expect(member.startsWith('WARC/1.1\r\nWARC-Type: response\r\n')).toBe(true);
      expect(member.split('WARC/1.1\r\n')).toHaveLength(2);
      expect(await sink.recordFor(targets[i]!)).toMatchObject({ warcFile: file, warcOffset: r.offset });
    }
    // Payload digests: of the de-chunked body, before content decoding.
    expect(responses[0]!.record.warcPayloadDigest).toBe(sha1b32(HTML));
    expect(responses[0]!.content.equals(HTML)).toBe(true);
    expect(responses[1]!.record.warcPayloadDigest).toBe(sha1b32(Buffer.from('hello world')));
    // (warcio's de-chunker leaves trailer fields in its content: compare the body part.)
    expect(responses[1]!.content.toString().startsWith('hello world')).toBe(true);
    expect(responses[2]!.record.warcPayloadDigest).toBe(sha1b32(GZ));
    expect(responses[2]!.content.toString()).toBe('compressed '.repeat(100));
    expect(responses[3]!.record.httpHeaders?.statusCode).toBe(301);
    // The cut-short response: the bytes that did arrive, marked truncated by disconnect.
    expect(responses[5]!.record.warcHeader('WARC-Truncated')).toBe('disconnect');
    expect(responses[5]!.raw.toString()).toBe('only this');
    // The refused connection: one metadata record with the error, no request or response.
    const last = recs.at(-1)!;
    expect(last.record.warcTargetURI).toBe('http://127.0.0.1:1/refused');
    const facts = JSON.parse(last.raw.toString());
    expect(facts.error.code).toBe('ERR_CONNECT');
    // The page points at that record: its WARC location is where to look for what happened.
    expect(await sink.recordFor('http://127.0.0.1:1/refused')).toMatchObject({ warcFile: file, warcOffset: last.offset, error: { code: 'ERR_CONNECT' } });
    // Metadata records carry the read boundaries and timings.
    const meta = JSON.parse(recs[3]!.raw.toString());
    expect(meta.reads.reduce((n: number, x: { size: number }) => n + x.size, 0)).toBe(sent[0]!.length);
    expect(meta.timings.bodyEnd).toBeGreaterThan(0);
  });

  it('a body cut at maxBodyBytes (truncateBody) is a response record marked WARC-Truncated: length', async () => {
    const s = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n' }, { from: async function* () { for (;;) yield 'x'.repeat(4096); } }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-'));
    const file = join(dir, 'cut.warc.gz');
    const sink = createCaptureSink({ warcFile: file });
    const res = await request(`${s.origin}/big`, { maxBodyBytes: 10_000, truncateBody: true, onWire: sink.onWire });
    expect(res.truncated).toBe(true);
    await sink.close();
    const response = (await readWithWarcio(file)).find((r) => r.type === 'response')!;
    expect(response.record.warcHeader('WARC-Truncated')).toBe('length');
    // Every byte that arrived is kept, at least the 10,000 the body was cut at.
    expect(response.raw.length).toBeGreaterThanOrEqual(10_000);
    expect(response.raw.equals(Buffer.from('x'.repeat(response.raw.length)))).toBe(true);
  });

  it('a page refused for its size but read whole in one go is stored whole: no WARC-Truncated', async () => {
    const body = 'y'.repeat(3000);
    const s = await serve([{ send: `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}` }, { end: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-'));
    const file = join(dir, 'whole.warc.gz');
    const sink = createCaptureSink({ warcFile: file });
    await expect(request(`${s.origin}/p`, { maxBodyBytes: 1000, onWire: sink.onWire })).rejects.toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
    await sink.close();
    const response = (await readWithWarcio(file)).find((r) => r.type === 'response')!;
    expect(response.record.warcHeader('WARC-Truncated')).toBeNull();
    expect(response.raw.toString('latin1')).toBe(body);
  });

  it('keeps each exchange\'s records together when 30 exchanges complete at once', async () => {
    const s = await serve([{ split: CHUNKED, sizes: [11] }, { hold: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-'));
    const file = join(dir, 'many.warc.gz');
    const sink = createCaptureSink({ warcFile: file });
    const urls = Array.from({ length: 30 }, (_, i) => `${s.origin}/c${i}`);
    await Promise.all(urls.map((u) => request(u, { onWire: sink.onWire })));
    const where = await Promise.all(urls.map((u) => sink.recordFor(u)));
    await sink.close();
    const recs = await readWithWarcio(file);
    expect(recs.map((r) => r.type)).toEqual(['warcinfo', ...Array(30).fill(['request', 'response', 'metadata']).flat()]);
    for (let i = 1; i < recs.length; i += 3) {
      const [req, res, meta] = [recs[i]!, recs[i + 1]!, recs[i + 2]!];
      expect(res.record.warcHeader('WARC-Concurrent-To')).toBe(req.record.warcHeader('WARC-Record-ID'));
      expect(meta.record.warcHeader('WARC-Concurrent-To')).toBe(res.record.warcHeader('WARC-Record-ID'));
      expect(req.record.warcTargetURI).toBe(res.record.warcTargetURI);
      expect(res.raw.equals(Buffer.from(CHUNKED.slice(CHUNKED.indexOf('\r\n\r\n') + 4), 'latin1'))).toBe(true);
      const k = urls.indexOf(res.record.warcTargetURI!);
      expect(where[k]).toMatchObject({ warcFile: file, warcOffset: res.offset });
    }
  });

  it('deflates only response records; request and metadata records are stored gzip members', async () => {
    const page = Buffer.from(`<!doctype html><p>${'a page of ordinary text, '.repeat(800)}</p>`);
    const s = await serve([{ send: response('200 OK', [['Content-Type', 'text/html'], ['Content-Length', page.length]], page) }, { hold: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-'));
    const file = join(dir, 'kinds.warc.gz');
    const sink = createCaptureSink({ warcFile: file });
    for (let i = 0; i < 3; i++) await request(`${s.origin}/k${i}`, { onWire: sink.onWire });
    await sink.close();
    const recs = await readWithWarcio(file);
    const members = gzipMembers(file, recs);
    for (const [i, r] of recs.entries()) {
      const { member, btype } = members[i]!;
      const plain = gunzipSync(member);
      if (r.type === 'response') {
        expect(btype).not.toBe(0);
        expect(member.length).toBeLessThan(plain.length / 4);
        expect(r.raw.equals(page)).toBe(true);
      } else {
        expect(btype).toBe(0);
        expect(member.length).toBeGreaterThan(plain.length);
      }
    }
    expect(recs.filter((r) => r.type === 'response')).toHaveLength(3);
  });

  it('stores the response record of a payload compressed already (content-coded, image, video, archive) instead of deflating it again', async () => {
    const text = Buffer.from(`<!doctype html><p>${'a page of ordinary text, '.repeat(800)}</p>`);
    const gz = gzipSync(text);
    const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), createHash('sha512').update('x').digest(), Buffer.alloc(3000, 7)]);
    const bodies: Record<string, Buffer> = {
      '/gz': response('200 OK', [['Content-Type', 'text/html'], ['Content-Encoding', 'gzip'], ['Content-Length', gz.length]], gz),
      '/png': response('200 OK', [['Content-Type', 'image/png'], ['Content-Length', png.length]], png),
      '/text': response('200 OK', [['Content-Type', 'text/html'], ['Content-Encoding', 'identity'], ['Content-Length', text.length]], text),
    };
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-'));
    const file = join(dir, 'coded.warc.gz');
    const sink = createCaptureSink({ warcFile: file });
    for (const [path, wire] of Object.entries(bodies)) {
      const s = await serve([{ send: wire }, { hold: true }]);
      await request(`${s.origin}${path}`, { onWire: sink.onWire, decompress: false });
    }
    await sink.close();
    const recs = await readWithWarcio(file);
    const members = gzipMembers(file, recs);
    const btypes: Record<string, number> = {};
    for (const [i, r] of recs.entries()) {
      if (r.type !== 'response') continue;
      const path = new URL(r.record.warcTargetURI!).pathname;
      btypes[path] = members[i]!.btype;
      // Stored or deflated, the record holds the payload exactly as it came.
      expect(r.raw.equals(bodies[path]!.subarray(bodies[path]!.indexOf('\r\n\r\n') + 4))).toBe(true);
    }
    expect(btypes).toEqual({ '/gz': 0, '/png': 0, '/text': expect.any(Number) });
    expect(btypes['/text']).not.toBe(0);
  });

  it.each([
    [[['Content-Encoding', 'gzip']], true],
    [[['content-encoding', ' BR ']], true],
    [[['Content-Encoding', 'identity']], false],
    [[['Content-Encoding', '']], false],
    [[['Content-Encoding', 'identity, Identity']], false],
    [[['Content-Encoding', 'identity, gzip']], true],
    [[['Content-Type', 'image/png']], true],
    [[['Content-Type', 'IMAGE/JPEG; foo=bar']], true],
    [[['Content-Type', 'video/mp4']], true],
    [[['Content-Type', 'application/zip']], true],
    [[['Content-Type', 'font/woff2']], true],
    [[['Content-Type', 'image/svg+xml']], false],
    [[['Content-Type', 'image/bmp']], false],
    [[['Content-Type', 'text/html; charset=utf-8']], false],
    [[['Content-Type', 'application/zipper']], false],
    [[], false],
  ] as Array<[Array<[string, string]>, boolean]>)('alreadyCompressed(%j) is %s', (headers, expected) => {
    expect(alreadyCompressed({ headers })).toBe(expected);
  });

  it('rotates at --warc-max-size: each file starts with warcinfo and keeps an exchange whole', async () => {
    const s = await serve([{ send: response('200 OK', [['Content-Length', 1000]], 'x'.repeat(1000)) }, { hold: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-warc-'));
    const file = join(dir, 'crawl.warc.gz');
    const sink = createCaptureSink({ warcFile: file, warcMaxSize: 600 });
    for (let i = 0; i < 4; i++) {
      await request(`${s.origin}/p${i}`, { onWire: sink.onWire });
      // Rotation is decided from the bytes already written: let each exchange land first.
      await sink.recordFor(`${s.origin}/p${i}`);
    }
    await sink.close();
    expect(sink.warcFiles).toEqual([file, join(dir, 'crawl-00001.warc.gz'), join(dir, 'crawl-00002.warc.gz'), join(dir, 'crawl-00003.warc.gz')]);
    for (const [i, f] of sink.warcFiles.entries()) {
      const recs = await readWithWarcio(f);
      expect(recs.map((r) => r.type)).toEqual(['warcinfo', 'request', 'response', 'metadata']);
      expect(recs[0]!.record.warcHeader('WARC-Filename')).toBe(f.slice(dir.length + 1));
      expect(recs[2]!.record.warcTargetURI).toBe(`${s.origin}/p${i}`);
      expect(await sink.recordFor(`${s.origin}/p${i}`)).toMatchObject({ warcFile: f, warcOffset: recs[2]!.offset });
    }
  });
});

// wget is a test dependency (Debian's wget; .ci/run installs it when missing): no skipping.
execFileSync('wget', ['--version'], { stdio: 'ignore' });

function wget(url: string, dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('wget', ['-q', `--warc-file=${join(dir, 'wget')}`, '--no-warc-keep-log', '-O', '/dev/null', url], (err) =>
      err && !existsSync(join(dir, 'wget.warc.gz')) ? reject(err) : resolve(join(dir, 'wget.warc.gz')),
    );
  });
}

describe('field by field against wget --warc-file for the same server', () => {
  it.each([
    ['Content-Length', response('200 OK', [['Content-Type', 'text/html'], ['Content-Length', HTML.length]], HTML)],
    ['chunked', Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n', 'latin1')],
    ['chunked with a trailer', Buffer.from(CHUNKED, 'latin1')],
  ])('%s response', async (kind, wire) => {
    const s = await serve([{ send: wire }, { end: true }]);
    const url = `${s.origin}/page`;
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-wget-'));
    const ours = join(dir, 'ours.warc.gz');
    const sink = createCaptureSink({ warcFile: ours });
    await request(url, { onWire: sink.onWire });
    await sink.close();
    const theirs = await wget(url, dir);

    const a = await readWithWarcio(ours);
    const b = await readWithWarcio(theirs);
    expect(a[0]!.type).toBe('warcinfo');
    expect(b[0]!.type).toBe('warcinfo');
    for (const type of ['request', 'response']) {
      const x = a.find((r) => r.type === type)!.record;
      const y = b.find((r) => r.type === type)!.record;
      expect(x.warcTargetURI).toBe(y.warcTargetURI);
      expect(x.warcHeader('WARC-IP-Address')).toBe(y.warcHeader('WARC-IP-Address'));
      expect(x.warcHeader('Content-Type')).toBe(y.warcHeader('Content-Type'));
      expect(x.warcHeader('WARC-Warcinfo-ID')).toBe(a[0]!.record.warcHeader('WARC-Record-ID'));
      expect(y.warcHeader('WARC-Warcinfo-ID')).toBe(b[0]!.record.warcHeader('WARC-Record-ID'));
      expect(x.warcDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(y.warcDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    const ra = a.find((r) => r.type === 'response')!;
    const rb = b.find((r) => r.type === 'response')!;
    const body = wire.subarray(wire.indexOf('\r\n\r\n') + 4);
    expect(ra.raw.equals(body)).toBe(true);
    if (kind === 'chunked with a trailer') {
      // wget 1.21 drops the CRLF that ends a trailer section: its block is a prefix of the wire.
      expect(body.subarray(0, rb.raw.length).equals(rb.raw)).toBe(true);
    } else {
      // Same bytes from the same server: identical block and block digest.
      expect(ra.raw.equals(rb.raw)).toBe(true);
      expect(ra.record.warcHeader('WARC-Block-Digest')).toBe(rb.record.warcHeader('WARC-Block-Digest'));
      expect(ra.record.warcHeader('Content-Length')).toBe(rb.record.warcHeader('Content-Length'));
    }
    // Both link the response to its request.
    expect(a.find((r) => r.record.warcHeader('WARC-Record-ID') === ra.record.warcHeader('WARC-Concurrent-To'))!.type).toBe('request');
    expect(b.find((r) => r.record.warcHeader('WARC-Record-ID') === rb.record.warcHeader('WARC-Concurrent-To'))!.type).toBe('request');
    // The one documented difference: wget hashes the chunked message body as is, rawcrawl the
    // de-chunked payload (the RFC 2616 entity-body the WARC spec names, as warcio does).
    if (kind === 'chunked') {
      expect(rb.record.warcPayloadDigest).toBe(sha1b32(body));
      expect(ra.record.warcPayloadDigest).toBe(sha1b32(Buffer.from('hello world')));
    } else if (kind === 'Content-Length') {
      expect(ra.record.warcPayloadDigest).toBe(rb.record.warcPayloadDigest);
    }
    // Versions differ by design: wget writes WARC/1.0, rawcrawl WARC/1.1.
    expect(readFileSync(theirs).length).toBeGreaterThan(0);
    expect(gunzipSync(readFileSync(ours)).toString('latin1').startsWith('WARC/1.1\r\n')).toBe(true);
    expect(gunzipSync(readFileSync(theirs)).toString('latin1').startsWith('WARC/1.0\r\n')).toBe(true);
  });
});
