import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temporary file of a test run (the tests' mkdtemp dirs, WARC and capture files, the CLI
 * and wget they start) goes under one directory made here, removed when the run ends: a run
 * leaves nothing in the system's temporary directory. The test processes, and what they spawn,
 * inherit it through TMPDIR, which os.tmpdir() reads.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'rawcrawl-test-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(dir, { recursive: true, force: true });
  };
}
