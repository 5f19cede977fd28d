/** One fetched (or failed) page, as the crawler yields it and the sinks store it. */
export interface PageRecord {
  /** The normalised URL: the dedupe key. */
  url: string;
  /** Where the response came from: the Location target for a redirect, else `url`. */
  final_url: string;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  content_type: string | null;
  title: string | null;
  /**
   * Values of --select name=CSS: text (or `::attr(NAME)`) of the first match, null when nothing
   * matched; of --select-all: a list, one per match (null for a page that was not HTML).
   */
  fields: Record<string, string | string[] | null>;
  depth: number;
  /** The page the link was found on (null for start URLs). */
  referrer: string | null;
  /** Decoded body bytes. */
  bytes: number;
  /** ISO 8601 time the fetch finished. */
  fetched_at: string;
  timings: { dns: number; connect: number; tls: number; firstByte: number; total: number } | null;
  /** RawcrawlError code when the page failed after its retries, else null. */
  error: string | null;
  error_message: string | null;
  /** For a parse error: the byte offset in the response stream, and a hex/ASCII excerpt around it. */
  error_offset: number | null;
  error_excerpt: string | null;
  /** Where the parser accepted bytes a strict reading would not (bare LF, obs-fold, …). */
  leniencies: Array<{ kind: string; offset: number }>;
  /** With --capture / --warc: where the exact bytes went, phase timings and TLS facts. */
  capture?: PageCaptureInfo | null;
  /** Fetch attempts made (1 + retries). */
  attempts: number;
  /** Links found on the page (absolute, normalised) — not stored in MySQL. */
  links?: string[];
  /** The body decoded to text, with storeBody. */
  body?: string | null;
}

/** What the capture of a page adds to its record (and to its MySQL row). */
export interface PageCaptureInfo {
  warc_file: string | null;
  /** Byte offset of the response record's gzip member in warc_file. */
  warc_offset: number | null;
  capture_file: string | null;
  /** ms from the start of the exchange: dns, connect, tls, written, firstByte, headersEnd, bodyEnd, closed. */
  phases: Record<string, number>;
  tls: { protocol: string; cipher: string; fingerprint256?: string; closeNotify: boolean | null } | null;
  remote_address: string | null;
}
