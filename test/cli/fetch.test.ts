import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { rawServer, response, type RawServer, type Script } from '../helpers/raw-server.js';
import { clientCert, selfSignedCert, tlsServer, type TlsServer } from '../helpers/tls-server.js';
import { createPrivateKey } from 'node:crypto';
import { proxyServer } from '../helpers/proxy-server.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
}

async function run(...args: string[]): Promise<{ code: number; out: Sink; err: Sink }> {
  return runEnv({}, ...args);
}

async function runEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: Sink; err: Sink }> {
  const out = new Sink();
  const err = new Sink();
  const io: Io = { stdout: out, stderr: err, env, isTTY: false };
  const code = await main(['node', 'rawcrawl', 'fetch', ...args], io);
  return { code, out, err };
}

const track = closeAfterEach();
async function serve(script: Script): Promise<RawServer> {
  const s = await rawServer(script);
  track(s);
  return s;
}
const BODY = Buffer.from('<p>héllo \x00 binary \xff</p>', 'latin1');
const okServer = (): Promise<RawServer> =>
  serve([{ send: response('200 OK', [['Content-Type', 'text/html'], ['X-Thing', 'a'], ['Content-Length', BODY.length]], BODY) }, { end: true }]);

/** Exactly one stderr line, `rawcrawl: CODE message`. */
function oneErrorLine(err: Sink, code: string): void {
  const lines = err.text.split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toBe('');
  expect(lines[0]).toMatch(new RegExp(`^rawcrawl: ${code} \\S`));
}

describe('rawcrawl fetch', () => {
  it('writes the body, byte for byte, to stdout', async () => {
    const s = await okServer();
    const { code, out, err } = await run(`${s.origin}/page`);
    expect(code).toBe(0);
    expect(out.bytes.equals(BODY)).toBe(true);
    expect(err.text).toBe('');
  });

  it('a URL with user:pass sends them as Basic Authorization, as curl does; --json and --dump-wire show the URL without them', async () => {
    const s = await okServer();
    const { code, out, err } = await run('--json', '--dump-wire', `http://me:pa%3Ass@127.0.0.1:${s.port}/page`);
    expect(code).toBe(0);
    expect(s.requests[0]!.toString('latin1')).toContain(`\r\nAuthorization: Basic ${Buffer.from('me:pa:ss').toString('base64')}\r\n`);
    expect((JSON.parse(out.text) as { url: string }).url).toBe(`http://127.0.0.1:${s.port}/page`);
    expect(err.text).toContain(`* open http://127.0.0.1:${s.port}/page `);
    expect(err.text).not.toMatch(/pa%3Ass|me:pa/);
  });

  it('-o FILE writes the output there; a failed request leaves no file and keeps one that was there; an unwritable path fails first', async () => {
    const s = await okServer();
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-o-'));
    const file = join(dir, 'page.html');
    const ok = await run('-o', file, '-i', `${s.origin}/`);
    expect(ok.code).toBe(0);
    expect(ok.out.text).toBe('');
    expect(readFileSync(file).subarray(-BODY.length).equals(BODY)).toBe(true);
    expect(readFileSync(file, 'latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const refused = await serve([{ end: true }]);
    const port = refused.port;
    await refused.close();
    const missing = join(dir, 'never.html');
    const failed = await run('-o', missing, `http://127.0.0.1:${port}/`);
    expect(failed.code).toBe(1);
    oneErrorLine(failed.err, 'ERR_CONNECT');
    expect(() => readFileSync(missing)).toThrow(/ENOENT/);
    writeFileSync(join(dir, 'keep.txt'), 'earlier');
    await run('-o', join(dir, 'keep.txt'), `http://127.0.0.1:${port}/`);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('earlier');
    const full = await run('-o', '/dev/full', `${s.origin}/`);
    expect(full.code).toBe(1);
    oneErrorLine(full.err, 'ERR_STORAGE');
    const before = s.connections;
    const nowhere = await run('-o', '/nonexistent-rawcrawl-dir/x', `${s.origin}/`);
    expect(nowhere.code).toBe(1);
    oneErrorLine(nowhere.err, 'ERR_STORAGE');
    expect(s.connections).toBe(before);
  });

  it('-i adds the response head', async () => {
    const s = await okServer();
    const { code, out } = await run('-i', `${s.origin}/`);
    expect(code).toBe(0);
    const head = `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Thing: a\r\nContent-Length: ${BODY.length}\r\n\r\n`;
    expect(out.bytes.equals(Buffer.concat([Buffer.from(head), BODY]))).toBe(true);
  });

  it('-i prints the trailers after the body, as curl -i does (nginx add_trailer on a chunked gzip page)', async () => {
    const s = await serve([
      { send: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n6\r\nhello\n\r\n0\r\nX-Checksum: abc\r\nx-two: 2\r\n\r\n' },
      { end: true },
    ]);
    const { code, out } = await run('-i', `${s.origin}/`);
    expect(code).toBe(0);
    expect(out.text).toBe('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\nhello\nX-Checksum: abc\r\nx-two: 2\r\n');
    // Without -i, the body alone.
    const plain = await run(`${s.origin}/`);
    expect(plain.out.text).toBe('hello\n');
  });

  it('-i and -I print each redirect\'s head before the final one, as received, as curl -iL does: a followed 301 is not hidden', async () => {
    const hop = 'HTTP/1.1 301 Moved Permanently\r\nLocation: /final\r\nSet-Cookie: s=1\r\nContent-Length: 5\r\n\r\n';
    const s = await serve((conn) => (conn === 0 ? [{ send: hop + 'moved' }, { end: true }] : [{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' }, { end: true }]));
    const i = await run('-i', `${s.origin}/start`);
    expect([i.code, i.out.text]).toEqual([0, `${hop}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`]);
    const head = await serve((conn) => (conn === 0 ? [{ send: hop }, { end: true }] : [{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n' }, { end: true }]));
    const I = await run('-I', `${head.origin}/start`);
    expect([I.code, I.out.text]).toEqual([0, `${hop}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n`]);
    // Without -i, the final body alone.
    const plain = await run(`${s.origin}/start`);
    expect(plain.out.text).toBe('ok');
  });

  it('-I sends HEAD and prints only the head', async () => {
    const s = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n' }, { hold: true }]);
    const { code, out } = await run('-I', `${s.origin}/`);
    expect(code).toBe(0);
    expect(out.text).toBe('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n');
    expect(s.requests[0]!.toString().startsWith('HEAD / HTTP/1.1\r\n')).toBe(true);
  });

  it('--json prints url, status, headers, trailers, redirects, timings and body size', async () => {
    const s = await serve([{ send: 'HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n' }, { end: true }]);
    const s2 = s; // the same server answers the second connection with the same script
    const { code, out } = await run('--json', `${s2.origin}/start`, '--max-redirects', '0');
    expect(code).toBe(0);
    const j = JSON.parse(out.text);
    expect(j).toMatchObject({ url: `${s.origin}/start`, status: 302, headers: [['Location', '/final'], ['Content-Length', '0']], trailers: [], redirects: [], bodyBytes: 0 });
    expect(Object.keys(j.timings).sort()).toEqual(['connect', 'dns', 'firstByte', 'tls', 'total']);
  });

  it('-H adds request headers (repeatable)', async () => {
    const s = await okServer();
    await run('-H', 'X-One: 1', '--header', 'Cookie:  a=b ', `${s.origin}/`);
    const head = s.requests[0]!.toString();
    expect(head).toContain('\r\nX-One: 1\r\n');
    expect(head).toContain('\r\nCookie: a=b\r\n');
  });

  it("-H 'Name:' leaves the field out, a default one included, and -H 'Name;' sends it empty, as curl", async () => {
    const s = await okServer();
    await run('-H', 'User-Agent:', '-H', 'Accept-Encoding: ', '-H', 'X-Empty;', `${s.origin}/`);
    const head = s.requests[0]!.toString();
    expect(head).not.toMatch(/user-agent|accept-encoding/i);
    expect(head).toContain('\r\nX-Empty: \r\n');
    const { code, err } = await run('-H', 'Host:', `${s.origin}/`);
    expect(code).toBe(2);
    expect(err.text).toContain('header Host cannot be left out');
  });

  it('-H with an injected line is a usage error, shown on one line, and never connects', async () => {
    const s = await okServer();
    const { code, err } = await run('-H', 'X-A: a\r\nX-Evil: 1', `${s.origin}/`);
    expect(code).toBe(2);
    oneErrorLine(err, 'ERR_INVALID_OPTION');
    expect(err.text).toContain(`argument 'X-A: a\\r\\nX-Evil: 1' is invalid. value of header X-A holds CR, LF`);
    expect(s.connections).toBe(0);
  });

  it('--dump-wire URL traces to stderr and does not swallow the URL', async () => {
    const s = await okServer();
    const { code, out, err } = await run('--dump-wire', `${s.origin}/`);
    expect(code).toBe(0);
    expect(out.bytes.equals(BODY)).toBe(true);
    expect(err.text).toMatch(/^c\d+ \+[\d.]+ms \* open http:\/\/127\.0\.0\.1:\d+\/ /);
    expect(err.text).toContain('> head @0 16 "GET / HTTP/1.1\\r\\n"');
    expect(err.text).toContain('< head @0 17 "HTTP/1.1 200 OK\\r\\n"');
    expect(err.text).toMatch(/\* close complete\n$/);
  });

  it('--dump-wire FILE writes the trace to the file', async () => {
    const s = await okServer();
    const file = join(mkdtempSync(join(tmpdir(), 'rawcrawl-')), 'wire.txt');
    for (const args of [['--dump-wire', file, `${s.origin}/`], [`--dump-wire=${file}`, `${s.origin}/`]]) {
      const { code, err } = await run(...args);
      expect(code).toBe(0);
      expect(err.text).toBe('');
      expect(readFileSync(file, 'utf8')).toMatch(/< body @\d+ \d+ "<p>h\\xe9llo \\x00 binary \\xff<\/p>"/);
    }
  });

  it('--dump-wire, --capture or --warc where nothing can be written: one ERR_STORAGE line naming it, exit 1, nothing fetched', async () => {
    const s = await okServer();
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-'));
    const file = join(dir, 'f');
    writeFileSync(file, 'a file, not a directory');
    const cases: Array<[string[], string]> = [
      [['--dump-wire', join(dir, 'none', 'wire.txt')], `rawcrawl: ERR_STORAGE cannot write --dump-wire file ${join(dir, 'none', 'wire.txt')}: ENOENT\n`],
      [['--capture', join(file, 'caps')], `rawcrawl: ERR_STORAGE cannot create capture directory ${join(file, 'caps')}: ENOTDIR\n`],
      // mkdir answers ENOENT there although /proc exists: Node's recursive mkdir spun on it forever.
      [['--capture', '/proc/rawcrawl-caps'], 'rawcrawl: ERR_STORAGE cannot create capture directory /proc/rawcrawl-caps: ENOENT\n'],
      [['--warc', join(dir, 'none', 'x.warc.gz')], `rawcrawl: ERR_STORAGE cannot create WARC file ${join(dir, 'none', 'x.warc.gz')}: ENOENT\n`],
    ];
    for (const [args, line] of cases) {
      const { code, out, err } = await run(...args, `${s.origin}/`);
      expect([code, out.text, err.text]).toEqual([1, '', line]);
    }
    expect(s.requests.length).toBe(0);
  });

  it('a stdout that cannot be written (a full disk) is one ERR_STORAGE line, exit 1, not a crash', async () => {
    const s = await okServer();
    const full = new Writable({
      write(_chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
        cb(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      },
    });
    const err = new Sink();
    const code = await main(['node', 'rawcrawl', 'fetch', `${s.origin}/`], { stdout: full, stderr: err, env: {}, isTTY: false });
    expect([code, err.text]).toEqual([1, 'rawcrawl: ERR_STORAGE cannot write stdout: ENOSPC\n']);
  });

  it('--timeout fails a server that never answers: one line, exit 1', async () => {
    const s = await serve([{ hold: true }]);
    const t0 = Date.now();
    const { code, err, out } = await run('--timeout', '300ms', `${s.origin}/`);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(code).toBe(1);
    expect(out.text).toBe('');
    oneErrorLine(err, 'ERR_TIMEOUT');
    expect(err.text).toMatch(/ \(no byte of the response came\)\n$/);
  });

  it('a timeout says how much of the response came, as curl does: a slow body is not a server that never answered', async () => {
    // nginx with limit_rate: the head at once, the body a little at a time.
    const s = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' }, { drip: 'x'.repeat(100), everyMs: 50 }]);
    const slow = await run('--timeout', '300ms', `${s.origin}/`);
    oneErrorLine(slow.err, 'ERR_TIMEOUT');
    const m = / \((\d+) bytes of the response came, the head complete\)\n$/.exec(slow.err.text);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(40);
    const half = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Le' }, { hold: true }]);
    const cut = await run('--timeout', '300ms', `${half.origin}/`);
    expect(cut.err.text).toMatch(/ \(27 bytes of the response came, the head not complete\)\n$/);
  });

  it('--idle-timeout bounds the wait for the next byte; --timeout alone, when longer than the 15 s default, is not cut short by it', async () => {
    const s = await serve([{ delayMs: 600 }, { send: 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate' }, { end: true }]);
    const idle = await run('--idle-timeout', '200ms', `${s.origin}/`);
    expect(idle.code).toBe(1);
    oneErrorLine(idle.err, 'ERR_TIMEOUT');
    expect(idle.err.text).toContain('no byte received or sent for 200 ms');
    const patient = await run('--idle-timeout', '2s', '--timeout', '5s', `${s.origin}/`);
    expect([patient.code, patient.out.text]).toEqual([0, 'late']);
  });

  it('--max-body limits the body', async () => {
    const s = await okServer();
    const { code, err } = await run('--max-body', '10', `${s.origin}/`);
    expect(code).toBe(1);
    oneErrorLine(err, 'ERR_BODY_TOO_LARGE');
  });

  it('--max-header-size raises the 64 KiB limit on the response head (nginx with many add_header lines sends more)', async () => {
    const big = `HTTP/1.1 200 OK\r\n${Array.from({ length: 70 }, (_, i) => `X-H-${i}: ${'v'.repeat(1000)}\r\n`).join('')}Content-Length: 2\r\n\r\nok`;
    const s = await serve([{ send: big }, { end: true }]);
    const over = await run(`${s.origin}/`);
    expect(over.code).toBe(1);
    oneErrorLine(over.err, 'ERR_HEADERS_TOO_LARGE');
    const raised = await run('--max-header-size', '128k', `${s.origin}/`);
    expect([raised.code, raised.out.text, raised.err.text]).toEqual([0, 'ok', '']);
    const zero = await run('--max-header-size', '0', `${s.origin}/`);
    expect(zero.code).toBe(2);
  });

  it('a protocol error names the code and the byte offset', async () => {
    const s = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n' }, { end: true }]);
    const { code, err } = await run(`${s.origin}/`);
    expect(code).toBe(1);
    oneErrorLine(err, 'ERR_INVALID_CONTENT_LENGTH');
    // The offset (the start of the field line at fault), then the bytes around it in hex and
    // ASCII, the offending one in brackets.
    expect(err.text).toMatch(/\(at byte 17: @5: 31 2e 31 20 32 30 30 20 4f 4b 0d 0a \[43\] 6f 6e 74 65 6e 74 2d 4c 65 6e 67 74 \|1\.1 200 OK\.\.\[C\]ontent-Lengt\|\)\n$/);
  });

  it('an error on a redirect hop names the URL it came from: its byte offset is in that response, not the first', async () => {
    const bad = await serve([{ send: 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n' }, { end: true }]);
    const start = await serve([{ send: `HTTP/1.1 302 Found\r\nLocation: ${bad.origin}/next\r\nContent-Length: 0\r\n\r\n` }, { end: true }]);
    const { code, err } = await run(`${start.origin}/first`);
    expect(code).toBe(1);
    oneErrorLine(err, 'ERR_INVALID_CONTENT_LENGTH');
    expect(err.text).toMatch(new RegExp(`\\(at byte 17: [^\n]*\\) \\(redirected to ${bad.origin}/next\\)\n$`));
    // The URL asked for is not named again; credentials never are.
    const direct = await run(`http://me:secret@127.0.0.1:${bad.port}/next`);
    expect(direct.err.text).not.toContain('redirected');
    expect(direct.err.text).not.toContain('secret');
    // A too-long chain names its last hop already.
    const loop = await serve([{ send: 'HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n' }, { end: true }]);
    const looped = await run('--max-redirects', '1', `${loop.origin}/`);
    oneErrorLine(looped.err, 'ERR_TOO_MANY_REDIRECTS');
    expect(looped.err.text).not.toContain('redirected to');
  });

  it('https:// to a plain HTTP server: one ERR_TLS line in words, not OpenSSL\'s internals', async () => {
    // It answers at once, as nginx answers bytes that are no request: plain text where TLS was due.
    const s = await rawServer([{ send: 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n' }, { end: true }], { waitRequest: false });
    const { code, err } = await run(`https://127.0.0.1:${new URL(s.origin).port}/`);
    await s.close();
    expect(code).toBe(1);
    oneErrorLine(err, 'ERR_TLS');
    expect(err.text).toMatch(/^rawcrawl: ERR_TLS TLS handshake failed: ERR_SSL_[A-Z_]+: [a-z ]+\n$/);
  });

  it.each([['ftp://example.com/'], ['notaurl'], ['http://127.0.0.1:99999/']])('an invalid URL (%s) is ERR_INVALID_URL, a usage error: exit 2', async (url) => {
    const { code, err, out } = await run(url);
    expect(code).toBe(2);
    expect(out.text).toBe('');
    oneErrorLine(err, 'ERR_INVALID_URL');
  });

  it.each([
    [['--no-such-flag', 'http://127.0.0.1:1/']],
    [['--timeout', 'soon', 'http://127.0.0.1:1/']],
    [['--max-body', 'lots', 'http://127.0.0.1:1/']],
    [['-H', 'no colon here', 'http://127.0.0.1:1/']],
    [['-H', ';', 'http://127.0.0.1:1/']],
    [['-H', 'Bad Name;', 'http://127.0.0.1:1/']],
    // The rules request() applies, applied to the flag: never a request that then fails (exit 1).
    [['-H', 'Bad Name: x', 'http://127.0.0.1:1/']],
    [['-H', 'Content-Length: 5', 'http://127.0.0.1:1/']],
    [['--timeout', '0', 'http://127.0.0.1:1/']],
    [['--connect-timeout', '0s', 'http://127.0.0.1:1/']],
    [['--ca', '/nonexistent/ca.pem', 'https://127.0.0.1:1/']],
    // A flag that would do nothing without the one it qualifies.
    [['--dump-wire-full', 'http://127.0.0.1:1/']],
    [[]],
  ])('bad usage %j exits 2 with one error line', async (args) => {
    const { code, err, out } = await run(...args);
    expect(code).toBe(2);
    expect(out.text).toBe('');
    oneErrorLine(err, 'ERR_INVALID_OPTION');
  });
});

describe('rawcrawl fetch over TLS', () => {
  let tls: TlsServer;
  beforeAll(async () => {
    tls = await tlsServer('tls body');
  });
  afterAll(async () => {
    await tls.close();
  });

  it('fails on a self-signed certificate by default', async () => {
    const { code, err } = await run(`https://localhost:${tls.port}/`);
    expect(code).toBe(1);
    oneErrorLine(err, 'ERR_TLS');
  });

  it('--insecure skips verification', async () => {
    const { code, out } = await run('--insecure', `https://localhost:${tls.port}/`);
    expect(code).toBe(0);
    expect(out.text).toBe('tls body');
  });

  it('--ca FILE trusts the certificate', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rawcrawl-')), 'ca.pem');
    writeFileSync(file, tls.cert);
    const { code, out } = await run('--ca', file, `https://localhost:${tls.port}/`);
    expect(code).toBe(0);
    expect(out.text).toBe('tls body');
  });

  it('--json has the TLS facts of the final exchange (null over plain HTTP), as the trace\'s tls line', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rawcrawl-')), 'ca.pem');
    writeFileSync(file, tls.cert);
    const ok = JSON.parse((await run('--json', '--ca', file, '--no-tls-resume', `https://localhost:${tls.port}/`)).out.text);
    expect(ok.tls).toMatchObject({ protocol: expect.stringMatching(/^TLSv1\.[23]$/), cipher: expect.any(String), authorized: true, resumed: false });
    expect(ok.tls.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const insecure = JSON.parse((await run('--json', '--insecure', `https://localhost:${tls.port}/`)).out.text);
    expect(insecure.tls).toMatchObject({ authorized: false, authorizationError: expect.any(String) });
    const s = await okServer();
    expect(JSON.parse((await run('--json', `${s.origin}/`)).out.text).tls).toBeNull();
  });

  it('--ca with a missing file is ERR_INVALID_OPTION, a usage error', async () => {
    const { code, err } = await run('--ca', '/nonexistent/ca.pem', `https://localhost:${tls.port}/`);
    expect(code).toBe(2);
    oneErrorLine(err, 'ERR_INVALID_OPTION');
  });
});

describe('rawcrawl fetch through a proxy', () => {
  it('a bad --proxy is a usage error whose line never shows the password', async () => {
    for (const bad of ['ftp://me:s3cret@proxy.example:1', 'http://me:s3c%zzret@proxy.example:1', 'http://me:s3cret@proxy.example:1/path']) {
      const { code, err } = await run('--proxy', bad, 'http://a.example/');
      expect(code, bad).toBe(2);
      oneErrorLine(err, 'ERR_INVALID_OPTION');
      expect(err.text, bad).not.toContain('s3c');
      expect(err.text, bad).toContain('proxy.example');
    }
  });

  it('--proxy URL: https through CONNECT with the credentials, TLS checked against the target', async () => {
    const proxy = await proxyServer({ credentials: 'me:secret' });
    const target = await tlsServer('via proxy');
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'rawcrawl-')), 'ca.pem');
      writeFileSync(file, target.cert);
      const { code, out, err } = await run('--proxy', `http://me:secret@127.0.0.1:${proxy.port}`, '--ca', file, '--dump-wire', `https://localhost:${target.port}/p`);
      expect(code).toBe(0);
      expect(out.text).toBe('via proxy');
      expect(proxy.seen.map((s) => `${s.method} ${s.target}`)).toEqual([`CONNECT localhost:${target.port}`]);
      expect(err.text).toMatch(/\* tunnel 200\n/);
      // The trace names the proxy, never its credentials.
      expect(err.text).toContain(`proxy=http://127.0.0.1:${proxy.port}`);
      expect(err.text).not.toContain('secret');
    } finally {
      await target.close();
      await proxy.close();
    }
  });

  it('an https:// proxy: its certificate checked (--proxy-ca; --proxy-insecure), apart from the target\'s (--ca)', async () => {
    const proxy = await proxyServer({ tls: await selfSignedCert() });
    const target = await okServer();
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'rawcrawl-')), 'proxy-ca.pem');
      writeFileSync(file, (await selfSignedCert()).cert);
      const url = `http://127.0.0.1:${target.port}/page`;
      const ok = await run('--proxy', proxy.href, '--proxy-ca', file, '--dump-wire', url);
      expect(ok.code).toBe(0);
      expect(ok.out.bytes.equals(BODY)).toBe(true);
      expect(ok.err.text).toMatch(/\* tls proxy TLSv1\.\d \S+ authorized=true/);
      expect(proxy.seen.map((s) => `${s.method} ${s.target}`)).toEqual([`GET ${url}`]);
      // The target's --ca is not the proxy's: its certificate is not trusted then.
      const untrusted = await run('--proxy', proxy.href, '--ca', file, url);
      expect(untrusted.code).toBe(1);
      oneErrorLine(untrusted.err, 'ERR_TLS');
      expect(untrusted.err.text).toContain(`proxy ${proxy.href}: TLS handshake failed`);
      const insecure = await run('--proxy', proxy.href, '--proxy-insecure', url);
      expect(insecure.code).toBe(0);
      expect(proxy.seen).toHaveLength(2);
      const missing = await run('--proxy', proxy.href, '--proxy-ca', '/nonexistent/ca.pem', url);
      expect(missing.code).toBe(2);
      oneErrorLine(missing.err, 'ERR_INVALID_OPTION');
      expect(missing.err.text).toContain('cannot read --proxy-ca /nonexistent/ca.pem: ENOENT');
    } finally {
      await proxy.close();
    }
  });

  it('reads http_proxy / https_proxy / no_proxy from the environment; --noproxy and --proxy \'\' override it', async () => {
    const target = await okServer();
    const proxy = await proxyServer({ hosts: { 'site.test': '127.0.0.1' } });
    try {
      const url = `http://site.test:${target.port}/page`;
      const viaEnv = await runEnv({ http_proxy: proxy.href }, url);
      expect(viaEnv.code).toBe(0);
      expect(viaEnv.out.bytes.equals(BODY)).toBe(true);
      expect(proxy.seen.map((s) => `${s.method} ${s.target}`)).toEqual([`GET ${url}`]);
      // Direct: site.test resolves nowhere but at the proxy.
      for (const args of [['--noproxy', 'site.test'], ['--proxy', '']]) {
        const direct = await runEnv({ http_proxy: proxy.href }, ...args, url);
        expect(direct.code, args.join(' ')).toBe(1);
        oneErrorLine(direct.err, 'ERR_DNS');
      }
      const excluded = await runEnv({ http_proxy: proxy.href, no_proxy: '.test' }, url);
      oneErrorLine(excluded.err, 'ERR_DNS');
      expect(proxy.seen).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('a bad --proxy or proxy variable is a usage error (exit 2, as for a crawl): one line each', async () => {
    const bad = await run('--proxy', 'socks6://127.0.0.1:1080', 'http://127.0.0.1:1/');
    expect(bad.code).toBe(2);
    oneErrorLine(bad.err, 'ERR_INVALID_OPTION');
    expect(bad.err.text).toMatch(/only http:\/\/, https:\/\/, socks5:\/\/, socks5h:\/\/, socks4:\/\/ and socks4a:\/\/ proxies are supported, not socks6/);
    const env = await runEnv({ https_proxy: 'ftp://x' }, 'https://127.0.0.1:1/');
    expect(env.code).toBe(2);
    oneErrorLine(env.err, 'ERR_INVALID_OPTION');
    expect(env.err.text).toMatch(/https_proxy in the environment/);
  });
});

describe('rawcrawl fetch --resolve', () => {
  it('connects to the given address for host:port, keeping the name in Host; a bad entry is a usage error', async () => {
    const s = await okServer();
    const { code, out, err } = await run('--resolve', `site.test:${s.port}:127.0.0.1`, '--dump-wire', `http://site.test:${s.port}/x`);
    expect(code).toBe(0);
    expect(out.bytes.equals(BODY)).toBe(true);
    expect(s.requests[0]!.toString('latin1')).toContain(`\r\nHost: site.test:${s.port}\r\n`);
    expect(err.text).toMatch(/\* dns site\.test -> 127\.0\.0\.1 family=4 0\.000ms pinned\n/);
    const bad = await run('--resolve', 'site.test:127.0.0.1', 'http://site.test/');
    expect(bad.code).toBe(2);
    oneErrorLine(bad.err, 'ERR_INVALID_OPTION');
  });
});

describe('rawcrawl fetch with a client certificate', () => {
  it('--cert (key in the same file), --cert with --key, an encrypted --key with --pass; a bad pair is one line before connecting', async () => {
    const alice = await clientCert('alice');
    const s = await tlsServer('members only', { clientCa: [alice.cert] });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-mtls-'));
      const f = (name: string, text: string): string => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const ca = f('ca.pem', s.cert);
      const both = f('both.pem', `${alice.cert.trimEnd()}\n${alice.key}`);
      const cert = f('cert.pem', alice.cert);
      const key = f('key.pem', alice.key);
      const encrypted = f('enc.pem', createPrivateKey(alice.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'sesame' }) as string);
      const url = `https://localhost:${s.port}/`;
      for (const args of [['--cert', both], ['--cert', cert, '--key', key], ['--cert', cert, '--key', encrypted, '--pass', 'sesame']]) {
        const { code, out } = await run('--ca', ca, ...args, url);
        expect(code, args.join(' ')).toBe(0);
        expect(out.text).toBe('members only');
      }
      expect(s.clients).toEqual(['alice', 'alice', 'alice']);
      const other = await clientCert('other');
      for (const [args, message] of [
        [['--cert', cert, '--key', f('other.pem', other.key)], /cannot be used: .*key values mismatch/i],
        [['--cert', cert, '--key', encrypted, '--pass', 'wrong'], /cannot be used/],
        [['--key', key], /--key needs --cert/],
        [['--cert', join(dir, 'missing.pem')], /cannot read --cert .*ENOENT/],
      ] as const) {
        const { code, err } = await run('--ca', ca, ...args, url);
        expect(code, args.join(' ')).toBe(2);
        oneErrorLine(err, 'ERR_INVALID_OPTION');
        expect(err.text).toMatch(message);
      }
      expect(s.clients).toHaveLength(3);
    } finally {
      await s.close();
    }
  });
});

describe('rawcrawl fetch --warc', () => {
  it('a second fetch to the same --warc FILE keeps the first and writes FILE-00001, saying so', async () => {
    // Every connection gets the same steps: the two fetches differ by their URL.
    const s = await serve([{ send: response('200 OK', [['Content-Length', 5]], 'hello') }, { end: true }]);
    const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-fetch-warc-'));
    const file = join(dir, 'one.warc.gz');
    const a = await run('--warc', file, `${s.origin}/a`);
    expect([a.code, a.out.text, a.err.text]).toEqual([0, 'hello', '']);
    const kept = readFileSync(file);
    const b = await run('--warc', file, `${s.origin}/b`);
    const next = join(dir, 'one-00001.warc.gz');
    expect([b.code, b.out.text, b.err.text]).toEqual([0, 'hello', `rawcrawl: ${file} exists: writing ${next} (a WARC file is never overwritten)\n`]);
    expect(readFileSync(file).equals(kept)).toBe(true);
    expect(gunzipSync(kept).toString('latin1')).toContain(`WARC-Target-URI: ${s.origin}/a\r\n`);
    expect(gunzipSync(readFileSync(next)).toString('latin1')).toContain(`WARC-Target-URI: ${s.origin}/b\r\n`);
  });
});

describe('bin/rawcrawl', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  const spawn = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [join(ROOT, 'bin/rawcrawl'), ...args], { cwd: ROOT, timeout: 20_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });

  it('fetches a URL and exits 0; fails with one line and exit 1', async () => {
    const s = await serve([{ send: response('200 OK', [['Content-Length', 5]], 'hello') }, { end: true }]);
    expect(await spawn(['fetch', `${s.origin}/`])).toEqual({ code: 0, stdout: 'hello', stderr: '' });
    const bad = await spawn(['fetch', 'http://127.0.0.1:1/']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^rawcrawl: ERR_CONNECT .*\n$/);
  });
});
