import { rmSync } from 'node:fs';
import { createCaptureSink, type CaptureSink } from '../capture/sink.js';
import { RawcrawlError } from '../errors.js';

export interface CaptureFlags {
  capture?: string;
  warc?: string;
  warcMaxSize?: number;
}

/** --capture DIR, --warc FILE, --warc-max-size SIZE → a capture sink, or null when none is asked for. */
export function captureFromFlags(flags: CaptureFlags): CaptureSink | null {
  if (flags.warcMaxSize !== undefined && !flags.warc) throw new RawcrawlError('ERR_INVALID_OPTION', '--warc-max-size needs --warc');
  if (!flags.capture && !flags.warc) return null;
  return createCaptureSink({
    ...(flags.capture ? { dir: flags.capture } : {}),
    ...(flags.warc ? { warcFile: flags.warc } : {}),
    ...(flags.warcMaxSize !== undefined ? { warcMaxSize: flags.warcMaxSize } : {}),
  });
}

/**
 * The line to show when --warc FILE was taken and the WARC went to the next free name of its
 * rotation (a WARC file is never overwritten), else null.
 */
export function warcRenamedLine(flags: CaptureFlags, sink: CaptureSink | null): string | null {
  const first = sink?.warcFiles[0];
  if (!flags.warc || first === undefined || first === flags.warc) return null;
  return `rawcrawl: ${flags.warc} exists: writing ${first} (a WARC file is never overwritten)`;
}

/** Closes a sink that a run which never started leaves behind, and removes its WARC files when they hold no exchange. */
export async function discardUnused(sink: CaptureSink): Promise<void> {
  await sink.close().catch(() => {});
  if (sink.exchanges === 0) for (const file of sink.warcFiles) rmSync(file, { force: true });
}
