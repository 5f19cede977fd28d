// rawcrawl request() against node:http, undici@7 and a bare node:net loop, in one run, against
// the same local nginx (bash bench/setup.sh first). Every client opens a new connection per
// request and sends Connection: close, as request() does.
//   node bench/client.mjs [--seconds 5] [--warmup 1] [--settle 4] [--rounds 4] [--max 200000] [--only a,b] [--slice MS] [--isolate]
// --settle S: before its first measurement in a process, each client runs S seconds unmeasured
// (half at c8, half at c64), so that V8 has optimised its code: request() runs more JavaScript
// than the bare loop, and V8 was still compiling it 13,000 requests into a run (callgrind,
// BENCHMARKS.md, fifteenth session), past the 1 s warm-up of round 1.
// --slice MS: within each round, the clients take turns in slices of MS ms (order reversed every
// turn) until each has had --seconds, instead of one --seconds stretch each. On a VM whose speed
// drifts by tens of percent within a minute, the clients then see the same machine; a client's
// figure is its requests over its slices' time, and its CPU over its requests.
// --isolate: every measurement (a client at a concurrency in a round, and each 64 MiB body run)
// in a fresh child process of its own, which runs nothing but that client: a program uses one
// HTTP client, and in one process the clients change each other's figures (V8's caches for
// Node's shared socket and stream code, the heap, the GC's timing).
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Agent, request as undiciRequest } from 'undici';
import { request as rawcrawlRequest } from '../dist/index.js';
import { fmt, lpad, measureRate, median, pad } from './measure.mjs';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: process.env.BENCH_PORT ?? '18470' },
    'chunked-port': { type: 'string', default: process.env.BENCH_CHUNKED_PORT ?? '18481' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    settle: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '4' },
    max: { type: 'string', default: '200000' },
    'body-seconds': { type: 'string', default: '5' },
    'body-max': { type: 'string', default: '100' },
    only: { type: 'string', default: '' },
    slice: { type: 'string', default: '0' },
    isolate: { type: 'boolean', default: false },
    // Internal: the child process of --isolate measures one client (--child KEY) once.
    child: { type: 'string', default: '' },
    'child-concurrency': { type: 'string', default: '0' },
    'child-body': { type: 'boolean', default: false },
  },
});
const HOST = args.host;
const PORT = Number(args.port);
const CHUNKED_PORT = Number(args['chunked-port']);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const SETTLE = Number(args.settle);
const ROUNDS = Number(args.rounds);
const MAX = Number(args.max);
const PAGE = '/page.html';
const PAGE_BYTES = 20480;
const BIG_BYTES = 64 * 1024 * 1024;
const only = args.only ? new Set(args.only.split(',')) : null;
const SLICE_MS = Number(args.slice);
const ISOLATE = args.isolate;
if (ISOLATE && SLICE_MS > 0) throw new Error('--isolate and --slice do not go together: --slice has the clients take turns in one process');

// ---- one request per client, each on a new connection, each returning the body length ----

function rawcrawl(url, maxBodyBytes) {
  return rawcrawlRequest(url, maxBodyBytes ? { maxBodyBytes } : {}).then((r) => {
    if (r.status !== 200) throw new Error(`status ${r.status}`);
    return r.body.length;
  });
}

function nodeHttp(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { Connection: 'close' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        chunks.push(c);
        size += c.length;
      });
      res.on('end', () => resolve(Buffer.concat(chunks, size).length));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

// One Agent (unlimited connections, no pipelining); `connection: close` makes undici close each
// connection after its response (its `reset`), so every request opens a new one. Counted below.
let undiciConnects = 0;
const undiciAgent = new Agent({ pipelining: 1 });
undiciAgent.on('connect', () => undiciConnects++);
async function undici(url) {
  const { statusCode, body } = await undiciRequest(url, { dispatcher: undiciAgent, headers: { connection: 'close' } });
  if (statusCode !== 200) throw new Error(`status ${statusCode}`);
  const chunks = [];
  let size = 0;
  for await (const c of body) {
    chunks.push(c);
    size += c.length;
  }
  return Buffer.concat(chunks, size).length;
}

// The ceiling for one-request-per-connection: write one fixed request, count bytes until close.
// No parsing, no framing check, no body buffer.
function bareNet(url) {
  const u = new URL(url);
  const req = Buffer.from(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`, 'latin1');
  return new Promise((resolve, reject) => {
    let size = 0;
    const s = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true }, () => s.write(req));
    s.on('data', (c) => {
      size += c.length;
    });
    s.on('end', () => resolve(size));
    s.on('error', reject);
  });
}

const CLIENTS = [
  { name: 'rawcrawl request()', key: 'rawcrawl', run: rawcrawl },
  { name: 'node:http (agent: false)', key: 'http', run: nodeHttp },
  { name: 'undici@7 request (Connection: close)', key: 'undici', run: undici },
  { name: 'bare node:net loop', key: 'bare', run: bareNet },
].filter((c) => !only || only.has(c.key));

const BODY_CLIENTS = [
  { name: 'rawcrawl request()', key: 'rawcrawl', run: (u) => rawcrawl(u, 2 * BIG_BYTES) },
  { name: 'node:http (agent: false)', key: 'http', run: nodeHttp },
  { name: 'undici@7 request (Connection: close)', key: 'undici', run: undici },
  { name: 'bare node:net loop (chunked framing not parsed)', key: 'bare', run: bareNet },
].filter((c) => !only || only.has(c.key));

// ---- measurement ----

async function measureBody(run, url, seconds, max) {
  let bytes = 0;
  let count = 0;
  let best = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 && count < max) {
    const t = performance.now();
    const n = await run(url);
    const dt = (performance.now() - t) / 1000;
    best = Math.max(best, n / 1e6 / dt);
    bytes += n;
    count++;
  }
  return { mbps: bytes / 1e6 / ((performance.now() - t0) / 1000), best, count };
}


/** --slice: the clients in turns of SLICE_MS until each has had SECONDS; measureRate's result per client. */
async function measureSliced(clients, url, concurrency) {
  if (WARMUP > 0) for (const c of clients) await measureRate(c.run, url, concurrency, WARMUP, MAX, PAGE_BYTES);
  const sums = new Map(clients.map((c) => [c.key, { done: 0, errors: 0, firstError: null, elapsed: 0, cpuUs: 0, connects: 0 }]));
  const turns = Math.max(1, Math.round((SECONDS * 1000) / SLICE_MS));
  for (let turn = 0; turn < turns; turn++) {
    for (const c of turn % 2 === 0 ? clients : [...clients].reverse()) {
      const s = sums.get(c.key);
      undiciConnects = 0;
      const r = await measureRate(c.run, url, concurrency, SLICE_MS / 1000, MAX, PAGE_BYTES);
      s.done += r.done;
      s.errors += r.errors;
      s.firstError ??= r.firstError;
      s.elapsed += r.elapsed;
      s.cpuUs += r.cpuUs * Math.max(1, r.done);
      s.connects += undiciConnects;
    }
  }
  const out = new Map();
  for (const [key, s] of sums) {
    if (key === 'undici') undiciConnects = s.connects;
    out.set(key, { rate: s.done / s.elapsed, cpuUs: s.cpuUs / Math.max(1, s.done), done: s.done, errors: s.errors, firstError: s.firstError, elapsed: s.elapsed });
  }
  return out;
}

/** --settle: the client runs unmeasured until V8 has optimised its code. */
async function settle(c) {
  const pageUrl = `http://${HOST}:${PORT}${PAGE}`;
  if (SETTLE > 0) for (const concurrency of [8, 64]) await measureRate(c.run, pageUrl, concurrency, SETTLE / 2, MAX, PAGE_BYTES);
}

/** One client's request rate at `concurrency`, after the warm-up. */
async function rateRun(c, concurrency) {
  const pageUrl = `http://${HOST}:${PORT}${PAGE}`;
  if (WARMUP > 0) await measureRate(c.run, pageUrl, concurrency, WARMUP, MAX, PAGE_BYTES);
  undiciConnects = 0;
  return measureRate(c.run, pageUrl, concurrency, SECONDS, MAX, PAGE_BYTES);
}

/** One client's 64 MiB chunked body throughput, after a check of the body's size and a warm-up. */
async function bodyRun(c) {
  const bigUrl = `http://${HOST}:${CHUNKED_PORT}/64m`;
  const n = await c.run(bigUrl);
  if (n < BIG_BYTES) throw new Error(`${c.name}: got ${n} bytes of the 64 MiB body`);
  await measureBody(c.run, bigUrl, 1, 3);
  return measureBody(c.run, bigUrl, Number(args['body-seconds']), Number(args['body-max']));
}

/** --isolate: runs one measurement in a fresh child process (this script with --child) and returns its result. */
function inChild(key, extraArgs) {
  const argv = ['--child', key, '--seconds', String(SECONDS), '--warmup', String(WARMUP), '--settle', String(SETTLE), '--max', String(MAX), '--host', HOST, '--port', String(PORT), '--chunked-port', String(CHUNKED_PORT), '--body-seconds', args['body-seconds'], '--body-max', args['body-max'], ...extraArgs];
  const child = fork(fileURLToPath(import.meta.url), argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result = null;
    child.once('message', (m) => {
      result = m;
    });
    child.once('error', reject);
    child.once('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`${key}: child exited with code ${code} and ${result ? 'a' : 'no'} result`))));
  });
}

/** The child of --isolate: one client's measurement, sent to the parent. */
async function childMain() {
  const key = args.child;
  if (args['child-body']) {
    process.send(await bodyRun(BODY_CLIENTS.find((b) => b.key === key)));
  } else {
    const c = CLIENTS.find((x) => x.key === key);
    await settle(c);
    const r = await rateRun(c, Number(args['child-concurrency']));
    process.send({ ...r, firstError: r.firstError ? { code: r.firstError.code, message: r.firstError.message } : null, connects: undiciConnects });
  }
  await undiciAgent.close();
  process.disconnect();
}

function startChunkedServer() {
  const child = fork(fileURLToPath(new URL('./chunked-server.mjs', import.meta.url)), [String(CHUNKED_PORT)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`chunked server exited (${code})`)));
  });
}

async function main() {
  const pageUrl = `http://${HOST}:${PORT}${PAGE}`;
  console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${os.platform()} ${os.release()}`);
  console.log(`page ${pageUrl}: ${SECONDS} s per measurement after ${WARMUP} s warm-up, at most ${MAX} requests, ${ROUNDS} rounds (median shown)${SLICE_MS > 0 ? `, clients taking turns in ${SLICE_MS} ms slices` : ''}${ISOLATE ? ', each measurement in a fresh process of its own' : ''}; each client first settles for ${SETTLE} s unmeasured\n`);

  // Correctness first: every client gets the whole page.
  for (const c of CLIENTS) {
    const n = await c.run(pageUrl);
    if (n < PAGE_BYTES) throw new Error(`${c.name}: got ${n} bytes of the page`);
  }
  // (--isolate: each child settles its own client.)
  if (!ISOLATE) for (const c of CLIENTS) await settle(c);

  const rates = new Map(); // `${key}@${c}` -> rates[]
  const cpus = new Map(); // `${key}@${c}` -> client CPU µs per request[]
  const extra = new Map();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const concurrency of [8, 64]) {
      // Each round starts with the next client: which client follows which changes the numbers
      // (the kernel's and nginx's state after the one before), so every order gets its turn.
      const order = CLIENTS.map((_, i) => CLIENTS[(i + round - 1) % CLIENTS.length]);
      const sliced = SLICE_MS > 0 ? await measureSliced(order, pageUrl, concurrency) : null;
      for (const c of order) {
        const id = `${c.key}@${concurrency}`;
        let r;
        if (sliced) r = sliced.get(c.key);
        else if (ISOLATE) {
          r = await inChild(c.key, ['--child-concurrency', String(concurrency)]);
          if (c.key === 'undici') undiciConnects = r.connects;
        } else r = await rateRun(c, concurrency);
        if (c.key === 'undici') extra.set(id, `${fmt(undiciConnects / Math.max(1, r.done + r.errors), 2)} connections per request`);
        if (r.errors > 0) console.log(`  ${c.name} c${concurrency}: ${r.errors} errors, first: ${r.firstError?.code ?? ''} ${r.firstError?.message}`);
        (rates.get(id) ?? rates.set(id, []).get(id)).push(r.rate);
        (cpus.get(id) ?? cpus.set(id, []).get(id)).push(r.cpuUs);
        console.log(`round ${round} c${lpad(concurrency, 2)} ${pad(c.name, 38)} ${lpad(fmt(r.rate), 8)} req/s  ${lpad(fmt(r.cpuUs), 4)} µs CPU/req  (${r.done} in ${fmt(r.elapsed, 2)} s)`);
      }
    }
  }

  // Body throughput: one 64 MiB chunked response at a time.
  const server = await startChunkedServer();
  const body = new Map();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const c of BODY_CLIENTS) {
        const r = ISOLATE ? await inChild(c.key, ['--child-body']) : await bodyRun(c);
        (body.get(c.key) ?? body.set(c.key, []).get(c.key)).push(r.mbps);
        console.log(`round ${round} 64 MiB chunked ${pad(c.name, 48)} ${lpad(fmt(r.mbps), 6)} MB/s  (${r.count} bodies, best ${fmt(r.best)})`);
      }
    }
  } finally {
    server.kill();
  }
  await undiciAgent.close();

  // ---- summary ----
  const m = (key, c) => median(rates.get(`${key}@${c}`) ?? [NaN]);
  const cpu = (key, c) => median(cpus.get(`${key}@${c}`) ?? [NaN]);
  console.log('\n| client | c8 req/s | c64 req/s | c8 µs CPU/req | c64 µs CPU/req | 64 MiB chunked MB/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const c of CLIENTS) {
    const b = body.get(c.key);
    const note = extra.get(`${c.key}@64`);
    console.log(`| ${c.name}${note ? ` (${note})` : ''} | ${fmt(m(c.key, 8))} | ${fmt(m(c.key, 64))} | ${fmt(cpu(c.key, 8))} | ${fmt(cpu(c.key, 64))} | ${b ? fmt(median(b)) : '–'} |`);
  }
  const has = (k) => CLIENTS.some((c) => c.key === k);
  if (has('rawcrawl')) {
    console.log('\n| ratio | c8 | c64 | target |');
    console.log('|---|---:|---:|---:|');
    const ratio = (a, b, target) => {
      const r8 = m(a, 8) / m(b, 8);
      const r64 = m(a, 64) / m(b, 64);
      const ok = (r) => (r >= target ? 'met' : 'missed');
      return `${fmt(r8, 2)} (${ok(r8)}) | ${fmt(r64, 2)} (${ok(r64)}) | ≥ ${fmt(target, 2)}`;
    };
    if (has('http')) console.log(`| request() ÷ node:http, req/s | ${ratio('rawcrawl', 'http', 1.3)} |`);
    if (has('bare')) console.log(`| request() ÷ bare node:net loop, req/s | ${ratio('rawcrawl', 'bare', 0.85)} |`);
    if (has('undici')) console.log(`| request() ÷ undici@7, req/s | ${ratio('rawcrawl', 'undici', 1)} |`);
    if (has('http')) {
      const c8 = cpu('http', 8) / cpu('rawcrawl', 8);
      const c64 = cpu('http', 64) / cpu('rawcrawl', 64);
      console.log(`| node:http CPU/req ÷ request() CPU/req (same direction as req/s) | ${fmt(c8, 2)} | ${fmt(c64, 2)} | (≥ 1.30) |`);
    }
    if (has('bare')) {
      const c8 = cpu('bare', 8) / cpu('rawcrawl', 8);
      const c64 = cpu('bare', 64) / cpu('rawcrawl', 64);
      console.log(`| bare CPU/req ÷ request() CPU/req | ${fmt(c8, 2)} | ${fmt(c64, 2)} | (≥ 0.85) |`);
    }
    if (body.has('http')) {
      const r = median(body.get('rawcrawl')) / median(body.get('http'));
      console.log(`\nchunked 64 MiB MB/s, request() ÷ node:http: ${fmt(r, 2)} (target ≥ 1.00: ${r >= 1 ? 'met' : 'missed'})`);
    }
    if (body.has('bare')) console.log(`chunked 64 MiB MB/s, request() ÷ bare loop: ${fmt(median(body.get('rawcrawl')) / median(body.get('bare')), 2)}`);
  }
}

(args.child ? childMain() : main()).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
