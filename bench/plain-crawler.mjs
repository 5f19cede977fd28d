// The "plain" peer: node:http + cheerio, the crawler one writes in an afternoon. N async workers
// share a FIFO queue; a Set of URL strings dedupes (fragment dropped, same host only); links from
// a[href] and area[href] with cheerio's default load() (parse5).
//   node bench/plain-crawler.mjs START_URL CONCURRENCY [keepalive|noagent]
// Agent: "keepalive" (default) is http.Agent({ keepAlive: true, maxSockets: N }) — what Node 20's
// global agent does; "noagent" is agent:false, one connection per request as rawcrawl does.
// Prints one JSON line: { pages, errors, bytes }.
import http from 'node:http';
import { load } from 'cheerio';

const [start, concArg, agentKind = 'keepalive'] = process.argv.slice(2);
const concurrency = Number(concArg ?? 8);
const origin = new URL(start).origin;
const agent = agentKind === 'noagent' ? false : new http.Agent({ keepAlive: true, maxSockets: concurrency });

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] ?? '', body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function normalize(href, base) {
  try {
    const u = new URL(href, base);
    u.hash = '';
    return u.origin === origin ? u.href : null;
  } catch {
    return null;
  }
}

const seen = new Set();
const queue = [];
let head = 0;
let active = 0;
let pages = 0;
let errors = 0;
let bytes = 0;
let wake = [];

function push(url) {
  if (url === null || seen.has(url)) return;
  seen.add(url);
  queue.push(url);
  const w = wake;
  wake = [];
  for (const f of w) f();
}

async function worker() {
  for (;;) {
    if (head >= queue.length) {
      if (active === 0) {
        const w = wake;
        wake = [];
        for (const f of w) f();
        return;
      }
      await new Promise((r) => wake.push(r));
      continue;
    }
    const url = queue[head++];
    active++;
    try {
      const res = await get(url);
      pages++;
      bytes += res.body.length;
      if (res.status === 200 && res.type.startsWith('text/html')) {
        const $ = load(res.body.toString('utf8'));
        $('a[href], area[href]').each((_, el) => push(normalize($(el).attr('href'), url)));
      }
    } catch {
      errors++;
    } finally {
      active--;
    }
  }
}

push(normalize(start, start));
await Promise.all(Array.from({ length: concurrency }, worker));
if (agent) agent.destroy();
console.log(JSON.stringify({ pages, errors, bytes }));
