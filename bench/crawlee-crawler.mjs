// The Crawlee peer: CheerioCrawler (@crawlee/cheerio), storage in memory and not persisted.
//   node bench/crawlee-crawler.mjs START_URL CONCURRENCY
// Autoscaling is pinned: minConcurrency = maxConcurrency = desiredConcurrency = N, so the pool
// starts at N and its system-status checks (CPU, memory, event loop) cannot scale it below N;
// no request-rate limit. Session pool and cookie persistence are off (one local host, no
// blocking to dodge), retries as by default, robots.txt not fetched (Crawlee's default).
// Prints one JSON line: { pages, errors, bytes }.
import { CheerioCrawler, Configuration, log, LogLevel } from '@crawlee/cheerio';

const [start, concArg] = process.argv.slice(2);
const n = Number(concArg ?? 8);
log.setLevel(LogLevel.ERROR);

let pages = 0;
let errors = 0;
let bytes = 0;
const config = new Configuration({ persistStorage: false, purgeOnStart: true });
const crawler = new CheerioCrawler(
  {
    minConcurrency: n,
    maxConcurrency: n,
    autoscaledPoolOptions: { desiredConcurrency: n, loggingIntervalSecs: null },
    maxRequestsPerMinute: Infinity,
    useSessionPool: false,
    persistCookiesPerSession: false,
    statusMessageLoggingInterval: 3600,
    async requestHandler({ body, enqueueLinks }) {
      pages++;
      bytes += body.length;
      // Default strategy 'same-hostname'; selector 'a' by default — match a[href], area[href].
      await enqueueLinks({ selector: 'a[href], area[href]' });
    },
    failedRequestHandler() {
      errors++;
    },
  },
  config,
);
await crawler.run([start]);
console.log(JSON.stringify({ pages, errors, bytes }));
