import { Command } from 'commander';
import { loadStored, type StoredExchange } from '../capture/load.js';
import { diffRecords, type FieldDifference } from '../capture/record-diff.js';
import { replayResponse, type ResponseRecord } from '../capture/replay-response.js';
import { startReplayServer } from '../capture/replay-server.js';
import { EXIT, type Io } from './io.js';
import { errorLine } from './fetch.js';
import { parseCount, parseSize } from './values.js';

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
    .argument('<path>', 'a --capture directory, one .rawcap file, or a .warc/.warc.gz file')
    .option('--serve <port>', 'answer HTTP on 127.0.0.1:PORT with the stored bytes, split and timed as captured (0: any port)', parseCount)
    .option('--speed <factor>', 'with --serve: multiply the captured delays (0: no delays)', '1')
    .option('--json', 'one JSON line per exchange: stored record, current record, differences')
    .option('--max-body <size>', 'maxBodyBytes for the re-run (default as request())', parseSize)
    .option('--no-decompress', 'do not decode Content-Encoding in the re-run')
    .action(async (path: string, flags: ReplayFlags) => {
      setExit(await runReplay(path, flags, io));
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

async function runReplay(path: string, flags: ReplayFlags, io: Io): Promise<number> {
  let stored: StoredExchange[];
  try {
    stored = loadStored(path);
  } catch (err) {
    io.stderr.write(errorLine(err) + '\n');
    return EXIT.FAILED;
  }
  if (flags.serve !== undefined) return serve(stored, flags, io);

  let same = 0;
  let differ = 0;
  let fresh = 0;
  for (const s of stored) {
    const ex = s.exchange;
    const current = await replayResponse(
      { response: ex.response, reads: ex.reads, peerEof: ex.peerEof, method: ex.method || 'GET' },
      { ...(flags.maxBody !== undefined ? { maxBodyBytes: flags.maxBody } : {}), ...(flags.decompress === false ? { decompress: false } : {}) },
    );
    const diffs: FieldDifference[] = s.record ? diffRecords(s.record, current) : [];
    if (!s.record) fresh++;
    else if (diffs.length === 0) same++;
    else differ++;
    if (flags.json) {
      io.stdout.write(JSON.stringify({ source: s.source, url: ex.url, stored: s.record, current, differences: diffs }) + '\n');
      continue;
    }
    const tag = !s.record ? 'new ' : diffs.length === 0 ? 'same' : 'DIFF';
    io.stdout.write(`${tag} ${ex.method || 'GET'} ${ex.url} ${summary(current)} (${s.source})\n`);
    for (const d of diffs) io.stdout.write(`    ${d.field}: ${show(d.stored)} -> ${show(d.current)}\n`);
  }
  io.stderr.write(`replay: ${stored.length} exchanges, ${same} same, ${differ} different, ${fresh} without a stored record\n`);
  return differ > 0 ? EXIT.FAILED : EXIT.OK;
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
    io.stderr.write(`rawcrawl: ERR_INVALID_OPTION cannot listen on 127.0.0.1:${flags.serve}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return EXIT.FAILED;
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
