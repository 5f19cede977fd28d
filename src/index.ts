export * from './client/index.js';
export { crawl, type Crawl, type CrawlStats } from './crawl/crawler.js';
export { CRAWL_DEFAULTS, type CrawlOptions } from './crawl/options.js';
export type { PageRecord, PageCaptureInfo } from './crawl/record.js';
export { normalizeUrl } from './crawl/normalize-url.js';
export type { Sink } from './sinks/sink.js';
export { JsonlSink } from './sinks/jsonl.js';
export * from './capture/index.js';
export * from './warc/index.js';
