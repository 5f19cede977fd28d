import { MAX_SITEMAPS } from '../crawl/sitemaps.js';
import type { CrawlStats } from '../crawl/stats.js';
import type { Io } from './io.js';

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function fmtElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function statusLine(stats: CrawlStats, now = Date.now()): string {
  const elapsed = now - stats.startedAt;
  const rate = elapsed > 0 ? (stats.fetched * 1000) / elapsed : 0;
  return `${fmtElapsed(elapsed)} done ${stats.fetched} queued ${stats.queued} in-flight ${stats.inFlight} ${rate.toFixed(1)} pages/s errors ${stats.errors} ${fmtBytes(stats.bytes)}`;
}

/** The end-of-crawl summary: status histogram, bytes, errors by code, pages/s. */
export function summary(stats: CrawlStats, stored: number, now = Date.now()): string {
  const elapsed = Math.max(1, now - stats.startedAt);
  const lines = [
    `rawcrawl: ${stats.fetched} pages in ${(elapsed / 1000).toFixed(1)} s (${((stats.fetched * 1000) / elapsed).toFixed(1)} pages/s), ${fmtBytes(stats.bytes)}, ${stored} stored, ${stats.retried} retries, ${stats.robotsDisallowed} disallowed by robots.txt`,
  ];
  /** "1 link", "2 links". */
  const n = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
  if (stats.urlsTooLong > 0) lines.push(`  ${n(stats.urlsTooLong, 'link')} longer than --max-url-length not followed`);
  if (stats.redirectsTooMany > 0) lines.push(`  ${n(stats.redirectsTooMany, 'redirect')} not followed, past --max-redirects in a row`);
  if (stats.abandoned > 0) lines.push(`  ${n(stats.abandoned, 'page')} in flight when the crawl was aborted: not recorded`);
  if (stats.queueFull > 0) lines.push(`  ${n(stats.queueFull, 'link')} not queued: the queue held --max-queue URLs (--crawl-id keeps it in MySQL, unbounded)`);
  const failedSitemaps = Object.entries(stats.sitemapsFailed);
  const notRead = failedSitemaps.length + stats.sitemapsOverLimit;
  if (stats.sitemapsRead > 0 || notRead > 0) {
    lines.push(`  sitemaps: ${stats.sitemapsRead} read, ${n(stats.sitemapUrls, "new page URL")} in scope queued${notRead > 0 ? `, ${notRead} not read` : ''}`);
    // The first few by name: an index of thousands that all fail should not flood the terminal.
    for (const [url, reason] of failedSitemaps.slice(0, 5)) lines.push(`  sitemap ${url} not read: ${reason}`);
    if (failedSitemaps.length > 5) lines.push(`  … and ${failedSitemaps.length - 5} more sitemaps not read`);
    if (stats.sitemapsOverLimit > 0) lines.push(`  ${n(stats.sitemapsOverLimit, 'sitemap')} named past the ${MAX_SITEMAPS} a crawl reads: not read`);
  }
  for (const [origin, reason] of Object.entries(stats.robotsUnavailable)) {
    lines.push(`  robots.txt of ${origin} unavailable (${reason}): its pages are disallowed (RFC 9309); --ignore-robots crawls them`);
  }
  const statuses = Object.entries(stats.statuses).sort(([a], [b]) => a.localeCompare(b));
  if (statuses.length > 0) lines.push(`  status: ${statuses.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const codes = Object.entries(stats.errorCodes).sort(([, a], [, b]) => b - a);
  if (codes.length > 0) lines.push(`  errors: ${codes.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return lines.join('\n') + '\n';
}

/** A live line on a terminal, a plain line every `everyMs` otherwise. */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private live = false;

  constructor(
    private readonly io: Io,
    private readonly stats: CrawlStats,
    private readonly everyMs: number,
  ) {}

  start(): void {
    const tty = this.io.isTTY;
    this.timer = setInterval(
      () => {
        if (tty) {
          this.io.stderr.write(`\r\x1b[K${statusLine(this.stats)}`);
          this.live = true;
        } else {
          this.io.stderr.write(`rawcrawl: ${statusLine(this.stats)}\n`);
        }
      },
      tty ? 250 : this.everyMs,
    );
    this.timer.unref();
  }

  /** Ends the live line so the next output starts clean. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.live) this.io.stderr.write('\r\x1b[K');
    this.live = false;
  }

  /** A one-off line that does not garble the live line. */
  say(line: string): void {
    if (this.live) this.io.stderr.write('\r\x1b[K');
    this.io.stderr.write(line + '\n');
  }
}
