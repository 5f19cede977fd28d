import type { Writable } from 'node:stream';
import type { WireListener } from './events.js';
import { WireFormatter, type WireFormatOptions } from './format.js';

export interface WireTraceOptions extends WireFormatOptions {
  /** Only connections whose `open` URL passes this test are traced. */
  match?: (url: string) => boolean;
}

/** A WireListener that writes the readable trace to a stream (a file, stderr). */
export function wireTraceWriter(out: Writable, options: WireTraceOptions = {}): WireListener {
  const formatter = new WireFormatter(options);
  const match = options.match;
  const traced = new Set<number>();
  return (ev) => {
    if (match) {
      if (ev.type === 'open') {
        if (!match(ev.url)) return;
        traced.add(ev.conn);
      } else if (!traced.has(ev.conn)) {
        return;
      }
      if (ev.type === 'close') traced.delete(ev.conn);
    }
    out.write(formatter.format(ev).join('\n') + '\n');
  };
}
