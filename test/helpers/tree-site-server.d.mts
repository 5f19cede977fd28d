import type { IncomingMessage, ServerResponse } from 'node:http';

export function treeHandler(
  pages: number,
  delayMs: number,
  hits: Array<{ path: string; at: number }>,
  completed: string[],
  robots?: string,
): (req: IncomingMessage, res: ServerResponse) => void;
