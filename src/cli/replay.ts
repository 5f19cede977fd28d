import { Command } from 'commander';
import { isDirectory, iterateStored, storedFiles, unfinishedCaptures, type StoredExchange } from '../capture/load.js';
import { CAPTURE_EXTENSION, PARTIAL_SUFFIX } from '../capture/capture-file.js';
import type { WarcTruncation } from '../warc/reader.js';
import { RawcrawlError } from '../errors.js';
import { diffRecords, type FieldDifference } from '../capture/record-diff.js';
import { replayResponse, type ResponseRecord } from '../capture/replay-response.js';
import { startReplayServer } from '../capture/replay-server.js';
import { EXIT, StdoutWatch, type Io } from './io.js';
import { errorLine } from './fetch.js';
import { parsePort, parseSize } from './values.js';

interface ReplayFlags {
  serve?: number;
  speed?: string;
  json?: boolean;
  maxBody?: number;
  decompress?: boolean;
}

export function replayCommand(io: Io, setExit: (code: number) => void): Command {
  return new Command('replay')
    .description('re-run stored responses (capture dir, capture file or WARC) through the current parser; or serve them')
    .argument('<paths...>', '--capture directories, .rawcap files or .warc/.warc.gz files (a rotated WARC: all its files, in order)')
    .option('--serve <port>', 'answer HTTP on 127.0.0.1:PORT with the stored bytes, split and timed as captured (0: any port)', parsePort)
    .option('--speed <factor>', 'with --serve: multiply the captured delays (0: no delays)', '1')
    .option('--json', 'one JSON line per exchange: stored record, current record, differences')
    .option('--max-body <size>', 'maxBodyBytes for the re-run (default as request())', parseSize)
    .option('--no-decompress', 'do not decode Content-Encoding in the re-run')
    .action(async (paths: string[], flags: ReplayFlags) => {
      setExit(await runReplay(paths, flags, io));
    });
}

function summary(r: ResponseRecord): string {
  if (r.error && r.status === null) return `error ${r.error.code}${r.error.offset !== undefined ? ` at byte ${r.error.offset}` : ''}`;
  const body = r.body ? `, body ${r.body.bytes} B` : '';
  const err = r.error ? `, error ${r.error.code}${r.error.offset !== undefined ? ` at byte ${r.error.offset}` : ''}` : '';
  const len = r.leniencies.length > 0 ? `, lenient: ${r.leniencies.map((l) => `${l.kind}@${l.offset}`).join(' ')}` : '';
  return `${r.status} ${r.framing}, payload ${r.payload.bytes} B${body}${err}${len}`;
}

const show = (v: unknown): string => JSON.stringify(v) ?? 'null';

/** The warning for a WARC that ends inside a record: what was whole is replayed. */
function truncatedLine(t: WarcTruncation): string {
  return `rawcrawl: ${t.file} is cut short inside its record ${t.records + 1} (byte ${t.offset} uncompressed; a run killed while writing?): the ${t.records} whole records before it are replayed`;
}

/** The stored exchanges of every path, one path after another. */
async function* storedIn(paths: string[], io: Io, onBadFile: (err: RawcrawlError) => void): AsyncGenerator<StoredExchange> {
  const onTruncated = (t: WarcTruncation): void => {
    io.stderr.write(truncatedLine(t) + '\n');
  };
  for (const path of paths) {
    const unfinished = isDirectory(path) ? unfinishedCaptures(path) : 0;
    if (unfinished > 0) {
      io.stderr.write(`rawcrawl: ${path} holds ${unfinished} unfinished capture file${unfinished === 1 ? '' : 's'} (*${CAPTURE_EXTENSION}${PARTIAL_SUFFIX}; a run killed while writing?): not replayed\n`);
    }
    yield* iterateStored(path, { onTruncated, onBadFile });
  }
}

/** A usage error (a path with nothing to replay) is exit 2, anything else 1. */
const exitFor = (err: unknown): number => (err instanceof RawcrawlError && err.code === 'ERR_INVALID_OPTION' ? EXIT.USAGE : EXIT.FAILED);

async function runReplay(paths: string[], flags: ReplayFlags, io: Io): Promise<number> {
  // `rawcrawl replay … | head`: when the reader of stdout goes away, stop replaying quietly.
  const out = new StdoutWatch(io.stdout);
  try {
    // A directory with nothing to replay is most likely the wrong one: say so, not "0 exchanges".
    for (const path of paths) {
      if (isDirectory(path) && storedFiles(path).length === 0) {
        const unfinished = unfinishedCaptures(path);
        const only = unfinished > 0 ? ` (only ${unfinished} unfinished *${CAPTURE_EXTENSION}${PARTIAL_SUFFIX})` : '';
        throw new RawcrawlError('ERR_INVALID_OPTION', `${path} holds no capture files (${CAPTURE_EXTENSION})${only} and no WARC files (.warc, .warc.gz)`);
      }
    }
  } catch (err) {
    io.stderr.write(errorLine(err) + '\n');
    return exitFor(err);
  }
  if (flags.serve !== undefined) {
    const stored: StoredExchange[] = [];
    try {
      // What cannot be read is named on stderr; the rest is served.
      for await (const s of storedIn(paths, io, (err) => io.stderr.write(errorLine(err) + '\n'))) stored.push(s);
    } catch (err) {
      io.stderr.write(errorLine(err) + '\n');
      return exitFor(err);
    }
    // Its stdout is only the listing: a reader gone (`--serve 0 | head -1`) does not stop it.
    return serve(stored, flags, io);
  }

  const counts = { all: 0, same: 0, differ: 0, fresh: 0 };
  let unreadable = 0;
  // A capture file that cannot be read (an older run's, cut short) is named and skipped.
  const onBadFile = (err: RawcrawlError): void => {
    unreadable++;
    io.stderr.write(errorLine(err) + '\n');
  };
  const report = (): void => {
    io.stderr.write(`replay: ${counts.all} exchanges, ${counts.same} same, ${counts.differ} different, ${counts.fresh} without a stored record${unreadable > 0 ? `, ${unreadable} unreadable capture files` : ''}\n`);
  };
  try {
    for await (const s of storedIn(paths, io, onBadFile)) {
      // A capture directory is replayed with no I/O wait in between: asked before each exchange.
      if (out.done) break;
      await replayOne(s, flags, io, counts);
    }
  } catch (err) {
    // What was replayed before the bad bytes stays on stdout; the summary says how far it got.
    report();
    io.stderr.write(errorLine(err) + '\n');
    return exitFor(err);
  }
  report();
  if (out.error) {
    io.stderr.write(errorLine(new RawcrawlError('ERR_STORAGE', `cannot write stdout: ${out.error.code ?? out.error.message}`, { cause: out.error })) + '\n');
    return EXIT.FAILED;
  }
  // The reader has what it wanted.
  if (out.readerGone) return EXIT.OK;
  return counts.differ > 0 || unreadable > 0 ? EXIT.FAILED : EXIT.OK;
}

/** Re-runs one stored exchange through the current parser and prints how it compares. */
async function replayOne(s: StoredExchange, flags: ReplayFlags, io: Io, counts: { all: number; same: number; differ: number; fresh: number }): Promise<void> {
  const ex = s.exchange;
  const current = await replayResponse(
    { response: ex.response, reads: ex.reads, peerEof: ex.peerEof, method: ex.method || 'GET' },
    { ...(flags.maxBody !== undefined ? { maxBodyBytes: flags.maxBody } : {}), ...(flags.decompress === false ? { decompress: false } : {}) },
  );
  const diffs: FieldDifference[] = s.record ? diffRecords(s.record, current) : [];
  counts.all++;
  if (!s.record) counts.fresh++;
  else if (diffs.length === 0) counts.same++;
  else counts.differ++;
  if (flags.json) {
    io.stdout.write(JSON.stringify({ source: s.source, url: ex.url, stored: s.record, current, differences: diffs }) + '\n');
    return;
  }
  const tag = !s.record ? 'new ' : diffs.length === 0 ? 'same' : 'DIFF';
  // Nothing came back (refused, reset before a byte, timed out): the exchange's own error says why.
  const what = ex.response.length === 0 && ex.error ? `no response: ${ex.error.code} ${ex.error.message}` : summary(current);
  io.stdout.write(`${tag} ${ex.method || 'GET'} ${ex.url} ${what} (${s.source})\n`);
  for (const d of diffs) io.stdout.write(`    ${d.field}: ${show(d.stored)} -> ${show(d.current)}\n`);
}

async function serve(stored: StoredExchange[], flags: ReplayFlags, io: Io): Promise<number> {
  const speed = Number(flags.speed ?? '1');
  if (!Number.isFinite(speed) || speed < 0) {
    io.stderr.write(`rawcrawl: ERR_INVALID_OPTION --speed must be a number >= 0, got ${JSON.stringify(flags.speed)}\n`);
    return EXIT.USAGE;
  }
  let server;
  try {
    server = await startReplayServer(stored.map((s) => s.exchange), { port: flags.serve!, speed });
  } catch (err) {
    // A port in use (EADDRINUSE) or not allowed (EACCES): the --serve argument, a usage error.
    const usage = new RawcrawlError('ERR_INVALID_OPTION', `cannot listen on 127.0.0.1:${flags.serve}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    io.stderr.write(errorLine(usage) + '\n');
    return exitFor(usage);
  }
  io.stdout.write(`replay: serving ${stored.length} exchanges on ${server.origin}\n`);
  for (const s of stored) io.stdout.write(`  ${s.exchange.method || 'GET'} ${s.exchange.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  io.stderr.write(`replay: served ${server.served} connections\n`);
  return EXIT.OK;
}
