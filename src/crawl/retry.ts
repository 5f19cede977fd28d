/**
 * Errors worth another attempt: the network or the server may do better next time. ERR_PROXY
 * too: a proxy's 502, 503 or 504 to CONNECT is the upstream or the proxy being busy (a 407 is
 * tried again in vain, a few times, as the crawl cannot tell it apart by code).
 */
const RETRYABLE_CODES = new Set(['ERR_DNS', 'ERR_CONNECT', 'ERR_CONNECTION_RESET', 'ERR_TIMEOUT', 'ERR_PREMATURE_CLOSE', 'ERR_PROXY']);

/** Statuses worth another attempt (RFC 9110 §15.6, RFC 6585 §4). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

export function isRetryableError(code: string): boolean {
  return RETRYABLE_CODES.has(code);
}

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Longest Retry-After honoured; longer values are cut to this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000, maxRetryAfterMs: 60_000 };

/** RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds → ms from now, or null. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

/**
 * Delay before attempt number `attempt` (1 = first retry): exponential with full jitter,
 * or the server's Retry-After (capped) when it asked for longer.
 */
export function backoffDelay(attempt: number, retryAfterMs: number | null, policy: BackoffPolicy = DEFAULT_BACKOFF, random = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  if (retryAfterMs === null) return Math.round(jittered);
  return Math.round(Math.max(jittered, Math.min(retryAfterMs, policy.maxRetryAfterMs)));
}
