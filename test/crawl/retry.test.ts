import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableError, isRetryableStatus, parseRetryAfter } from '../../src/crawl/retry.js';

describe('retry policy', () => {
  it('retries 429 and 5xx but not 501/505 or 4xx', () => {
    expect([429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 301, 404, 410, 501, 505].some(isRetryableStatus)).toBe(false);
  });
  it('retries network errors, not protocol errors', () => {
    expect(['ERR_CONNECT', 'ERR_CONNECTION_RESET', 'ERR_TIMEOUT', 'ERR_PREMATURE_CLOSE', 'ERR_DNS', 'ERR_PROXY'].every(isRetryableError)).toBe(true);
    expect(['ERR_INVALID_CHUNK', 'ERR_TLS', 'ERR_BODY_TOO_LARGE'].some(isRetryableError)).toBe(false);
  });
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(10_000 + 30_000).toUTCString(), 10_000)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeNull();
  });
  it('backs off exponentially with jitter, within [exp/2, exp], and honours a capped Retry-After', () => {
    const policy = { baseMs: 100, capMs: 1000, maxRetryAfterMs: 5000 };
    expect(backoffDelay(1, null, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, null, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, null, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, null, policy, () => 1)).toBe(1000);
    expect(backoffDelay(1, 3000, policy, () => 0)).toBe(3000);
    expect(backoffDelay(1, 99_000, policy, () => 0)).toBe(5000);
  });
});
