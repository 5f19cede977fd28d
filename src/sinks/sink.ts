import type { PageRecord } from '../crawl/record.js';

/** Where page records go. write() may wait (backpressure); close() flushes everything held. */
export interface Sink {
  write(record: PageRecord): Promise<void>;
  close(): Promise<void>;
  /** Records written so far (accepted by the store, not just buffered). */
  readonly written: number;
  /** Set when the sink gave up on its store; records were saved elsewhere (the message says where). */
  readonly error?: Error | null;
  /**
   * Stop waiting for a store that is away (the crawl was told to stop now): records held for it
   * are saved elsewhere at once, as when the sink gives up on its own.
   */
  abandon?(reason: string): void;
}

/** The record as stored: without the in-memory link list; `body` only when it was asked for. */
export function storedFields(record: PageRecord): Omit<PageRecord, 'links'> {
  const { links: _links, ...rest } = record;
  void _links;
  if (rest.body === undefined) delete rest.body;
  return rest;
}
