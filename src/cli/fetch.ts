import { access, open, unlink } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { parseRequestUrl, request } from '../client/request.js';
import { withoutUserinfo } from '../client/userinfo.js';
import type { HttpResponse } from '../client/response.js';
import type { RequestOptions } from '../client/options.js';
import type { HeaderPairs } from '../http/request-writer.js';
import type { CaptureSink } from '../capture/sink.js';
import { RawcrawlError } from '../errors.js';
import { chainListeners, rawOnlyListener, type WireEvent, type WireListener } from '../wire/events.js';
import { wireTraceWriter } from '../wire/trace-writer.js';
import { closeOutputFile, EXIT, openOutputFile, type Io } from './io.js';
import { addConnectionOptions, connectionFromFlags, type ConnectionFlags } from './connection-flags.js';
import { captureFromFlags, warcRenamedLine } from './capture-flags.js';
import { collectHeader, idleTimeoutFrom, parseCount, parseHeaderSize, parseSize, parseTimeout } from './values.js';

interface FetchFlags extends ConnectionFlags {
  include?: boolean;
  head?: boolean;
  dumpWire?: string | boolean;
  dumpWireFull?: boolean;
  json?: boolean;
  timeout?: number;
  connectTimeout?: number;
  idleTimeout?: number;
  maxBody?: number;
  maxHeaderSize?: number;
  maxRedirects?: number;
  header?: HeaderPairs;
  output?: string;
  decompress?: boolean;
  capture?: string;
  warc?: string;
  warcMaxSize?: number;
}

export function fetchCommand(io: Io, setExit: (code: number) => void): Command {
  const command = new Command('fetch')
    .description('fetch one URL with the raw-socket client and print the body')
    .argument('<url>', 'http:// or https:// URL')
    .option('-o, --output <file>', 'write the output to FILE instead of stdout (not created when the request fails)')
    .option('-i, --include', 'print the response head before the body (each redirect\'s head first; the trailers after it)')
    .option('-I, --head', 'send HEAD instead of GET (prints the head)')
    .addOption(new Option('--dump-wire [file]', 'trace every byte sent and received (stderr, or FILE)'))
    .option('--dump-wire-full', 'show whole bodies in the wire trace (default: first 512 bytes)')
    .option('--json', 'print url, status, headers, trailers, redirects, timings, body size and TLS facts as JSON')
    .option('--timeout <duration>', 'limit on the whole request (500, 30s, 2m)', parseTimeout)
    .option('--connect-timeout <duration>', 'limit on DNS + TCP + TLS', parseTimeout)
    .option('--idle-timeout <duration>', 'limit on the wait for the next byte (default 15s, or --timeout when longer)', parseTimeout)
    .option('--max-body <size>', 'limit on the decoded body (1048576, 512k, 16M)', parseSize)
    .option('--max-header-size <size>', 'limit on the response head, and on the trailers (default 64k)', parseHeaderSize)
    .option('--max-redirects <n>', 'redirects to follow (0: none)', parseCount);
  return addConnectionOptions(command)
    .option('-H, --header <line>', '"Name: value" request header (repeatable)', collectHeader)
    .option('--no-decompress', 'do not ask for or decode gzip/deflate/br')
    .option('--capture <dir>', 'store each exchange (exact bytes, reads, timings, TLS) as a file in DIR (docs/capture.md)')
    .option('--warc <file>', 'write request/response records to a WARC/1.1 file (.warc.gz: gzip per record)')
    .option('--warc-max-size <size>', 'start a new WARC file at this size (1G, 512M)', parseSize)
    .action(async (url: string, flags: FetchFlags) => {
      setExit(await runFetch(url, flags, io));
    });
}

async function runFetch(url: string, flags: FetchFlags, io: Io): Promise<number> {
  /** The --dump-wire FILE, when the trace goes to one (else stderr). */
  let traceFile: WriteStream | null = null;
  /** The -o FILE, when the output goes to one (else stdout); `written`: the response came. */
  let outFile: WriteStream | null = null;
  let written = false;
  let outputExisted = true;
  let sink: CaptureSink | null = null;
  let code: number = EXIT.OK;
  // Each redirect's head is kept only for -i / -I, which print them.
  const progress = responseProgress(Boolean(flags.include || flags.head));
  try {
    const options: RequestOptions = { method: flags.head ? 'HEAD' : 'GET' };
    if (flags.timeout !== undefined) options.timeoutMs = flags.timeout;
    if (flags.connectTimeout !== undefined) options.connectTimeoutMs = flags.connectTimeout;
    // --timeout 60s waits for a slow server (an upstream behind nginx, say) as curl -m does: the
    // 15 s idle limit alone would end it first.
    const idle = idleTimeoutFrom(flags.idleTimeout, flags.timeout);
    if (idle !== undefined) options.idleTimeoutMs = idle;
    if (flags.maxBody !== undefined) options.maxBodyBytes = flags.maxBody;
    if (flags.maxHeaderSize !== undefined) options.maxHeaderBytes = flags.maxHeaderSize;
    if (flags.maxRedirects !== undefined) options.maxRedirects = flags.maxRedirects;
    if (flags.decompress === false) options.decompress = false;
    if (flags.header) options.headers = flags.header;
    try {
      // A URL request() would refuse is a usage error, as a crawl's start URL is.
      parseRequestUrl(url);
      Object.assign(options, connectionFromFlags(flags, io.env));
    } catch (err) {
      // A URL that is not one, or a file named by a flag that cannot be read or used (--ca,
      // --cert, --key): a usage error.
      io.stderr.write(errorLine(err) + '\n');
      return EXIT.USAGE;
    }
    if (flags.dumpWire === undefined || flags.dumpWire === false) {
      if (flags.dumpWireFull) {
        io.stderr.write(errorLine(new RawcrawlError('ERR_INVALID_OPTION', '--dump-wire-full needs --dump-wire')) + '\n');
        return EXIT.USAGE;
      }
    } else {
      if (typeof flags.dumpWire === 'string' && flags.dumpWire !== '-') traceFile = await openOutputFile(flags.dumpWire, '--dump-wire file');
      options.onWire = wireTraceWriter(traceFile ?? io.stderr, { full: Boolean(flags.dumpWireFull) });
    }
    options.onWire = chainListeners([options.onWire, progress.listener]);
    sink = captureFromFlags(flags);
    const renamed = warcRenamedLine(flags, sink);
    if (renamed) io.stderr.write(renamed + '\n');
    if (sink) {
      options.onWire = chainListeners([options.onWire, sink.onWire]);
    }
    // Checked before the request (a path that cannot be written fails before anything is
    // fetched) without truncating a file that is there: that waits for the response.
    const output = flags.output !== undefined && flags.output !== '-' ? flags.output : null;
    if (output !== null) outputExisted = await touchOutput(output);
    const res = await request(url, options);
    if (output !== null) outFile = await openOutputFile(output, '-o file');
    written = true;
    const out = outFile ?? io.stdout;
    try {
      if (flags.json) {
        await writeAll(out, JSON.stringify(describe(res, progress.tls()), null, 2) + '\n');
      } else {
        if (flags.include || flags.head) {
          // As curl -iL: each redirect's head, as it came, before the final one.
          for (const hop of progress.heads.slice(0, res.redirects.length)) await writeAll(out, hop);
          await writeAll(out, formatHead(res));
        }
        if (!flags.head) await writeAll(out, res.body);
        // As curl -i: the trailers after the body, a line each.
        if (flags.include && res.rawTrailers.length > 0) await writeAll(out, formatFields(res.rawTrailers));
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // `rawcrawl fetch URL | head`: the reader has what it wanted.
      if (e.code !== 'EPIPE' || outFile) throw new RawcrawlError('ERR_STORAGE', `cannot write ${outFile ? `-o file ${flags.output}` : 'stdout'}: ${e.code ?? e.message}`, { cause: err });
    }
  } catch (err) {
    const came = err instanceof RawcrawlError && err.code === 'ERR_TIMEOUT' ? progress.note() : '';
    io.stderr.write(errorLine(err) + redirectedTo(err, url) + came + '\n');
    // A flag refused (--warc naming a directory, --warc-max-size without --warc) is a usage error.
    code = err instanceof RawcrawlError && err.code === 'ERR_INVALID_OPTION' ? EXIT.USAGE : EXIT.FAILED;
  }
  try {
    // A failed exchange is stored too: that is when its bytes matter most.
    await sink?.close();
  } catch (err) {
    if (code === EXIT.OK) io.stderr.write(errorLine(err) + '\n');
    code = EXIT.FAILED;
  } finally {
    if (outFile) {
      try {
        await closeOutputFile(outFile, '-o file');
      } catch (err) {
        // A write that failed was reported already.
        if (code === EXIT.OK) io.stderr.write(errorLine(err) + '\n');
        code = EXIT.FAILED;
      }
    }
    // Nothing came: no empty file is left to look like a download (one that was there is kept).
    if (!written && !outputExisted) await unlink(flags.output!).catch(() => {});
    if (traceFile) {
      try {
        await closeOutputFile(traceFile, '--dump-wire file');
      } catch (err) {
        io.stderr.write(errorLine(err) + '\n');
        code = EXIT.FAILED;
      }
    }
  }
  return code;
}

/**
 * Creates -o FILE if it is missing, without truncating one that is there; ERR_STORAGE naming it
 * if it cannot be. Returns whether it existed.
 */
async function touchOutput(file: string): Promise<boolean> {
  let existed = true;
  try {
    await access(file);
  } catch {
    existed = false;
  }
  try {
    await (await open(file, 'a')).close();
  } catch (err) {
    throw new RawcrawlError('ERR_STORAGE', `cannot write -o file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return existed;
}

/** Writes to a stream and waits for it; a write error (ENOSPC, EPIPE) rejects, not crashes. */
function writeAll(out: Writable, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    out.once('error', onError);
    out.write(data, (err) => {
      // On an error the listener stays: the stream emits the same error afterwards.
      if (err) return reject(err);
      out.off('error', onError);
      resolve();
    });
  });
}

export function errorLine(err: unknown): string {
  if (err instanceof RawcrawlError) {
    const where = err.offset === undefined ? '' : ` (at byte ${err.offset}${err.excerpt ? `: ${err.excerpt}` : ''})`;
    return oneLine(`rawcrawl: ${err.code} ${err.message}${where}`);
  }
  return oneLine(`rawcrawl: ERR_INTERNAL ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * What fetch prints from the wire events besides the response: how much of the last exchange's
 * response came, ` (N bytes of the response came, the head complete)`, for a timeout, as curl
 * says it (a slow body is not a server that never answered); the final exchange's TLS facts
 * (--json); with keepHeads, each exchange's response head as received (-i shows the redirects'). A raw-only
 * listener: it costs the request no labelled segments.
 */
function responseProgress(keepHeads: boolean): {
  listener: WireListener;
  note(): string;
  tls(): Record<string, unknown> | null;
  /** The response heads of the exchanges so far, as received (1xx included), one per exchange. */
  heads: Buffer[];
} {
  let bytes = 0;
  let head = false;
  let tls: Extract<WireEvent, { type: 'tls' }> | null = null;
  /** The current exchange's bytes until its head is whole. */
  let early: Buffer[] = [];
  const heads: Buffer[] = [];
  const listener = rawOnlyListener((ev) => {
    if (ev.type === 'open') {
      bytes = 0;
      head = false;
      tls = null;
      early = [];
    } else if (ev.type === 'read') {
      bytes += ev.size;
      if (keepHeads && !head) early.push(Buffer.from(ev.data));
    } else if (ev.type === 'head-end') {
      head = true;
      if (keepHeads) heads.push(Buffer.concat(early).subarray(0, ev.offset));
      early = [];
    }
    // The target's handshake, not an https:// proxy's.
    else if (ev.type === 'tls' && !ev.proxy) tls = ev;
  });
  const note = (): string =>
    bytes === 0 ? ' (no byte of the response came)' : ` (${bytes} bytes of the response came, the head ${head ? 'complete' : 'not complete'})`;
  /** The final exchange's TLS facts, as the trace's tls line has them; null over plain HTTP. */
  const facts = (): Record<string, unknown> | null => {
    if (tls === null) return null;
    const { type: _type, conn: _conn, t: _t, ...rest } = tls;
    return rest;
  };
  return { listener, note, tls: facts, heads };
}

/**
 * ` (redirected to URL)` when the request failed on a redirect hop: its message and byte offset
 * are of that hop's exchange, not of the URL asked for. ERR_TOO_MANY_REDIRECTS names its last
 * hop itself.
 */
function redirectedTo(err: unknown, asked: string): string {
  if (!(err instanceof RawcrawlError) || err.url === undefined || err.code === 'ERR_TOO_MANY_REDIRECTS') return '';
  const plain = (href: string): string => {
    const u = new URL(withoutUserinfo(href));
    u.hash = '';
    return u.href;
  };
  try {
    return plain(err.url) === plain(asked) ? '' : oneLine(` (redirected to ${plain(err.url)})`);
  } catch {
    return '';
  }
}

/** An error line is one line, whatever a message from below (OpenSSL's, say) holds. */
const oneLine = (line: string): string => line.replace(/\s*[\r\n]+\s*/g, ' ').trimEnd();

function formatHead(res: HttpResponse): string {
  return `HTTP/${res.httpVersion} ${res.status}${res.statusText ? ` ${res.statusText}` : ''}\r\n${formatFields(res.rawHeaders)}\r\n`;
}

function formatFields(fields: HttpResponse['rawHeaders']): string {
  let s = '';
  for (const [n, v] of fields) s += `${n}: ${v}\r\n`;
  return s;
}

function describe(res: HttpResponse, tls: Record<string, unknown> | null): Record<string, unknown> {
  return {
    url: res.url,
    status: res.status,
    statusText: res.statusText,
    httpVersion: res.httpVersion,
    headers: res.rawHeaders,
    trailers: res.rawTrailers,
    redirects: res.redirects,
    timings: res.timings,
    bodyBytes: res.body.length,
    encoding: res.body.length > 0 ? res.encoding : null,
    remoteAddress: res.remoteAddress,
    tls,
    leniencies: res.leniencies,
  };
}
