import { Command, CommanderError } from 'commander';
import { crawlCommand } from './crawl.js';
import { fetchCommand } from './fetch.js';
import { importCommand } from './import.js';
import { initDbCommand } from './init-db.js';
import { replayCommand } from './replay.js';
import { statusCommand } from './status.js';
import { EXIT, processIo, type Io } from './io.js';

/** Flags whose value is optional: given a URL or another flag next, they take no value. */
const OPTIONAL_VALUE_FLAGS = new Set(['--dump-wire']);

/**
 * `--dump-wire https://x/` must not swallow the URL as a file name: an optional-value flag
 * followed by a URL, another flag or nothing is rewritten to `--dump-wire=-` (stderr).
 */
export function normalizeArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (OPTIONAL_VALUE_FLAGS.has(a) && (next === undefined || next.startsWith('-') || /^[a-z][a-z0-9+.-]*:\/\//i.test(next))) {
      out.push(`${a}=-`);
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Commander quotes a bad argument as it was given: control characters in it (an -H value with
 * CR LF, say) are shown escaped, so that the error stays one line.
 */
function oneLine(message: string): string {
  return message.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Runs the CLI with argv (node, script, ...args) and returns the exit status. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  // stderr holds progress and diagnostics only: once it cannot be written (its terminal gone,
  // EIO, after `setsid` or `disown` and a logout) a write error must not crash the command, with
  // records still held and files open; it goes on without them. (No listener: an exception.)
  if (io.stderr.listenerCount('error') === 0) io.stderr.on('error', () => {});
  let exitCode: number = EXIT.OK;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const configure = (cmd: Command): Command =>
    cmd.exitOverride().configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander puts its suggestion on a line of its own: kept on the error's line. It also
      // quotes a rejected argument: a URL's user name and password (--proxy) are left out of it.
      outputError: (s, write) => write(`rawcrawl: ERR_INVALID_OPTION ${oneLine(s.replace(/^error: /, '').replace(/\n$/, '').replace(/\n(\(Did you mean [^\n]*\?\))$/, ' $1').replace(/\/\/[^/\s'"]*@/g, '//…@'))}\n`),
    });
  const program = configure(new Command('rawcrawl').description('a web crawler that speaks HTTP/1.1 itself').version('0.1.0'));
  program.addCommand(configure(crawlCommand(io, setExit)), { isDefault: true });
  program.addCommand(configure(fetchCommand(io, setExit)));
  program.addCommand(configure(initDbCommand(io, setExit)));
  program.addCommand(configure(importCommand(io, setExit)));
  program.addCommand(configure(replayCommand(io, setExit)));
  program.addCommand(configure(statusCommand(io, setExit)));
  try {
    await program.parseAsync(normalizeArgv(argv));
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    throw err;
  }
  return exitCode;
}

/** Entry point of bin/rawcrawl. */
export async function run(argv: string[]): Promise<void> {
  const code = await main(argv);
  process.exitCode = code;
}
