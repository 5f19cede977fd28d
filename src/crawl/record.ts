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
  /** Values of --select name=CSS: text of the first match, null when nothing matched. */
  fields: Record<string, string | null>;
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
  /** Fetch attempts made (1 + retries). */
  attempts: number;
  /** Links found on the page (absolute, normalised) — not stored in MySQL. */
  links?: string[];
  /** The body decoded to text, with storeBody. */
  body?: string | null;
}
