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
