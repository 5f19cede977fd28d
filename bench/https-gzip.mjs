// rawcrawl request() against node:https / node:http and undici@7 on two everyday cases the main
// client benchmark leaves out, against the same local nginx (bash bench/setup.sh first):
//   https   the 20 KB page over TLS, a new connection per request, each client resuming TLS
//           sessions as it does by default (request()'s tls.sessionCache, a shared https.Agent,
//           undici's connector);
//   gzip    the page served gzipped (gzip_static) to clients that ask for gzip and decode it:
//           request() by default, the peers with one gunzipSync of the collected body.
//   node bench/https-gzip.mjs [--seconds 2] [--rounds 4] [--only rawcrawl,node,undici]
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Agent, request as undiciRequest } from 'undici';
import { request as rawcrawlRequest } from '../dist/index.js';
import { fmt, lpad, measureRate, median, pad } from './measure.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '4' },
    only: { type: 'string', default: '' },
  },
});
const TLS_URL = `https://localhost:${process.env.BENCH_TLS_PORT ?? '18482'}/page.html`;
const GZIP_URL = `http://127.0.0.1:${process.env.BENCH_GZIP_PORT ?? '18483'}/page.html`;
const PAGE_BYTES = 20480;
const ca = fs.readFileSync(fileURLToPath(new URL('./results/tls/cert.pem', import.meta.url)));

/** The body of a node:http(s) response, collected. */
function collect(res) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

function nodeGet(mod, url, options) {
  return new Promise((resolve, reject) => {
    const req = mod.get(url, options, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      collect(res).then((b) => resolve(res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(b) : b), reject);
    });
    req.on('error', reject);
  });
}

async function undiciGet(url, dispatcher, headers) {
  const { statusCode, headers: h, body } = await undiciRequest(url, { dispatcher, headers });
  if (statusCode !== 200) throw new Error(`status ${statusCode}`);
  const b = Buffer.from(await body.arrayBuffer());
  return h['content-encoding'] === 'gzip' ? zlib.gunzipSync(b) : b;
}

// One agent per peer and case, shared by all requests, as a caller would keep one.
const httpsAgent = new https.Agent({ keepAlive: false, ca });
const undiciTls = new Agent({ pipelining: 1, connect: { ca } });
const undiciPlain = new Agent({ pipelining: 1 });

const CASES = [
  {
    name: 'https',
    url: TLS_URL,
    clients: [
      { key: 'rawcrawl', name: 'rawcrawl request()', run: (u) => rawcrawlRequest(u, { tls: { ca } }).then((r) => r.body.length) },
      { key: 'node', name: 'node:https (shared Agent, keepAlive: false)', run: (u) => nodeGet(https, u, { agent: httpsAgent, headers: { Connection: 'close' } }).then((b) => b.length) },
      { key: 'undici', name: 'undici@7 request (Connection: close)', run: (u) => undiciGet(u, undiciTls, { connection: 'close' }).then((b) => b.length) },
    ],
  },
  {
    name: 'gzip',
    url: GZIP_URL,
    clients: [
      { key: 'rawcrawl', name: 'rawcrawl request()', run: (u) => rawcrawlRequest(u).then((r) => r.body.length) },
      { key: 'node', name: 'node:http (agent: false) + gunzipSync', run: (u) => nodeGet(http, u, { agent: false, headers: { Connection: 'close', 'Accept-Encoding': 'gzip' } }).then((b) => b.length) },
      { key: 'undici', name: 'undici@7 request + gunzipSync', run: (u) => undiciGet(u, undiciPlain, { connection: 'close', 'accept-encoding': 'gzip' }).then((b) => b.length) },
    ],
  },
];

const only = args.only ? new Set(args.only.split(',')) : null;
const rates = new Map();
for (const c of CASES) {
  const clients = c.clients.filter((x) => !only || only.has(x.key));
  for (const x of clients) {
    const n = await x.run(c.url);
    if (n !== PAGE_BYTES) throw new Error(`${c.name} ${x.name}: ${n} bytes, not ${PAGE_BYTES}`);
  }
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const concurrency of [8, 64]) {
      const order = clients.map((_, i) => clients[(i + round - 1) % clients.length]);
      for (const x of order) {
        await measureRate(x.run, c.url, concurrency, 0.5, Infinity, PAGE_BYTES);
        const r = await measureRate(x.run, c.url, concurrency, Number(args.seconds), Infinity, PAGE_BYTES);
        if (r.errors > 0) console.log(`  ${c.name} ${x.name} c${concurrency}: ${r.errors} errors, first: ${r.firstError?.message}`);
        const id = `${c.name}/${x.key}/${concurrency}`;
        (rates.get(id) ?? rates.set(id, []).get(id)).push(r);
        console.log(`round ${round} ${pad(c.name, 5)} c${lpad(concurrency, 2)} ${pad(x.name, 44)} ${lpad(fmt(r.rate), 7)} req/s ${lpad(fmt(r.cpuUs), 5)} µs CPU/req`);
      }
    }
  }
}

console.log('\n| case | client | c8 req/s | c64 req/s | c8 µs CPU/req | c64 µs CPU/req | request() ÷ this, c8 | c64 |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const c of CASES) {
  for (const x of c.clients.filter((y) => !only || only.has(y.key))) {
    const get = (k, conc, f) => median((rates.get(`${c.name}/${k}/${conc}`) ?? []).map(f));
    const rate = (k, conc) => get(k, conc, (r) => r.rate);
    const ratio = (conc) => (rates.has(`${c.name}/rawcrawl/${conc}`) ? fmt(rate('rawcrawl', conc) / rate(x.key, conc), 2) : '–');
    console.log(`| ${c.name} | ${x.name} | ${fmt(rate(x.key, 8))} | ${fmt(rate(x.key, 64))} | ${fmt(get(x.key, 8, (r) => r.cpuUs))} | ${fmt(get(x.key, 64, (r) => r.cpuUs))} | ${ratio(8)} | ${ratio(64)} |`);
  }
}
await Promise.all([undiciTls.close(), undiciPlain.close()]);
httpsAgent.destroy();
