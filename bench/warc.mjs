// Crawl pages/s with --warc x.warc.gz, with an uncompressed x.warc, and with --warc plus --capture,
// against without, in one run (rounds alternate the order), on one
// local site served by a raw node:net server in a child process (no nginx needed), or with
// --url on a site served elsewhere (the nginx site of bench/crawl-setup.sh: --url
// http://127.0.0.1:18471/p/0.html --pages 5000).
// crawl() with createCaptureSink() on its onWire and each record annotated with where its
// response record went, as `rawcrawl <url> --warc` does.
//   npm run build && node bench/warc.mjs [--pages 2000] [--rounds 3] [--concurrency 16] [--modes plain,warc]
//     [--text words|lorem] [--coding identity|gzip] [--url URL]
// On Linux each line also gives the crawl's main thread's time on a CPU and its time runnable but
// waiting for one (/proc/PID/task/PID/schedstat), per page, and the CPU time per page of the
// threads started during the crawl (the WARC thread; parser threads with --parse-threads) and of
// the process's other threads (V8's compiler and GC helpers, libuv's pool).
import net from 'node:net';
import os from 'node:os';
import zlib from 'node:zlib';
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { crawl, createCaptureSink } from '../dist/index.js';
import { median } from './measure.mjs';

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    server: { type: 'boolean', default: false },
    modes: { type: 'string', default: 'plain,warc,warc-uncompressed,warc+capture' },
    text: { type: 'string', default: 'words' },
    coding: { type: 'string', default: 'identity' },
    url: { type: 'string', default: '' },
  },
});
if (!['words', 'lorem'].includes(args.text)) throw new Error(`--text is words or lorem, not ${args.text}`);
if (!['identity', 'gzip'].includes(args.coding)) throw new Error(`--coding is identity or gzip, not ${args.coding}`);
const PAGES = Number(args.pages);
const PAGE_BYTES = 20 * 1024;

if (args.server) {
  // Pages /p/N.html of ~20 KB with 10 links each; even pages Content-Length, odd pages chunked
  // in 4 KiB chunks. Every response is built once, then written as is on each request.
  // --text words (default): running text drawn from a small vocabulary by a seeded generator,
  // which deflate takes 130 µs per page to compress at level 1 here, as on real text (gzip -1
  // makes 26 % of it); --text lorem: one sentence repeated, which deflate compresses to 1 % in
  // 11 µs (what earlier sessions measured: it hides deflate's cost). --coding gzip: each body is
  // sent gzipped (level 6, Content-Encoding: gzip), as a server with pre-compressed files does
  // for a client that accepts gzip; rawcrawl asks for it by default.
  const VOCABULARY = 'the of and page link crawl archive server socket header body parse frontier queue host robots fetch record table index worker thread byte stream chunk cache status agent token request response'.split(' ');
  let state = 0x2545f491;
  const nextWord = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return VOCABULARY[(state >>> 8) % VOCABULARY.length];
  };
  const fillerText = (bytes) => {
    if (args.text === 'lorem') return 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes);
    let out = '';
    while (out.length < bytes) out += `${nextWord()} `;
    return out.slice(0, bytes);
  };
  const bodies = [];
  for (let i = 0; i < PAGES; i++) {
    let links = '';
    for (let k = 1; k <= 10; k++) links += `<a href="/p/${(i * 7 + k * k) % PAGES}.html">page</a> `;
    links += `<a href="/p/${(i + 1) % PAGES}.html">next</a>`;
    const filler = fillerText(PAGE_BYTES - links.length - 80);
    const html = Buffer.from(`<!doctype html><html><head><title>p${i}</title></head><body><p>${filler}</p>${links}</body></html>`);
    const body = args.coding === 'gzip' ? zlib.gzipSync(html, { level: 6 }) : html;
    const coding = args.coding === 'gzip' ? 'Content-Encoding: gzip\r\n' : '';
    if (i % 2 === 0) {
      bodies.push(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n${coding}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]));
    } else {
      const parts = [Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n${coding}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n`)];
      for (let o = 0; o < body.length; o += 4096) {
        const c = body.subarray(o, o + 4096);
        parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
      }
      parts.push(Buffer.from('0\r\n\r\n'));
      bodies.push(Buffer.concat(parts));
    }
  }
  const notFound = Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  const server = net.createServer((s) => {
    s.on('error', () => {});
    let head = '';
    s.on('data', (d) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const m = /^GET \/p\/(\d+)\.html /.exec(head);
      s.end(m ? bodies[Number(m[1])] ?? notFound : notFound);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  const child = args.url ? null : fork(fileURLToPath(import.meta.url), ['--server', '--pages', String(PAGES), '--text', args.text, '--coding', args.coding]);
  const start = args.url || `http://127.0.0.1:${await new Promise((r) => child.once('message', r))}/p/0.html`;
  // The main thread's [ns on a CPU, ns runnable but waiting for one], where Linux tells.
  const SCHEDSTAT = `/proc/${process.pid}/task/${process.pid}/schedstat`;
  const schedstat = existsSync(SCHEDSTAT) ? () => readFileSync(SCHEDSTAT, 'utf8').split(' ').map(Number) : null;
  // Every thread's ns on a CPU by thread id (a thread that ended in between is not counted).
  const threadCpu = () => {
    const out = new Map();
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
      try {
        out.set(tid, Number(readFileSync(`/proc/${process.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
      } catch {
        // ended between the listing and the read
      }
    }
    return out;
  };
  const tmp = mkdtempSync(join(os.tmpdir(), 'rawcrawl-warc-bench-'));

  async function run(mode, round) {
    // Before the sink: it starts the WARC thread.
    const threads0 = schedstat ? threadCpu() : null;
    const sink =
      mode === 'plain'
        ? null
        : createCaptureSink({
            warcFile: join(tmp, `r${round}-${mode}.${mode === 'warc-uncompressed' ? 'warc' : 'warc.gz'}`),
            ...(mode === 'warc+capture' ? { dir: join(tmp, `r${round}-cap`) } : {}),
          });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const sched0 = schedstat?.();
    let pages = 0;
    // As the CLI does with --warc: each page's record gets where its response record went.
    const annotate = sink
      ? async (rec) => {
          const page = await sink.recordFor(rec.url);
          rec.capture = page ? { warc_file: page.warcFile, warc_offset: page.warcOffset, capture_file: page.captureFile } : null;
        }
      : undefined;
    const c = crawl({ startUrls: [start], ignoreRobots: true, maxPages: PAGES, concurrency: Number(args.concurrency), perHost: Number(args.concurrency), ...(sink ? { onWire: sink.onWire, annotate } : {}) });
    for await (const rec of c) {
      if (rec.status !== 200) continue;
      if (sink && typeof rec.capture?.warc_offset !== 'number') throw new Error(`${rec.url}: no WARC offset`);
      pages++;
    }
    // Before close(): the WARC thread ends there.
    const threads1 = threads0 ? threadCpu() : null;
    await sink?.close();
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const sched = schedstat?.().map((v, i) => (v - sched0[i]) / 1000 / pages);
    let newUs = 0;
    let otherUs = 0;
    for (const [tid, ns] of threads1 ?? []) {
      if (tid === String(process.pid)) continue;
      if (threads0.has(tid)) otherUs += (ns - threads0.get(tid)) / 1000 / pages;
      else newUs += ns / 1000 / pages;
    }
    const warcBytes = sink ? sink.warcFiles.reduce((n, f) => n + statSync(f).size, 0) : 0;
    return { mode, pages, s, pps: pages / s, cpuMsPerPage: (cpu.user + cpu.system) / 1000 / pages, warcBytes, mainUs: sched?.[0], runqUs: sched?.[1], newUs, otherUs };
  }

  const modes = args.modes.split(',');
  if (!modes.includes('plain')) modes.unshift('plain');
  const results = Object.fromEntries(modes.map((m) => [m, []]));
  await run('plain', 0); // warm-up
  for (let r = 1; r <= Number(args.rounds); r++) {
    for (const m of r % 2 ? modes : [...modes].reverse()) {
      const res = await run(m, r);
      results[m].push(res);
      console.log(`round ${r} ${m.padEnd(17)} ${res.pages} pages in ${res.s.toFixed(2)} s = ${res.pps.toFixed(0)} pages/s, CPU ${res.cpuMsPerPage.toFixed(3)} ms/page${res.mainUs !== undefined ? ` (main thread ${res.mainUs.toFixed(0)} µs on a CPU, ${res.runqUs.toFixed(0)} µs waiting for one; threads started by the crawl ${res.newUs.toFixed(0)} µs, other threads ${res.otherUs.toFixed(0)} µs)` : ''}${res.warcBytes ? `, WARC ${(res.warcBytes / 1e6).toFixed(1)} MB` : ''}`);
    }
  }
  const base = median(results.plain.map((x) => x.pps));
  const baseCpu = median(results.plain.map((x) => x.cpuMsPerPage));
  const site = args.url ? args.url : `${args.text} text, ${args.coding}`;
  console.log(`\nmedian of ${args.rounds} rounds, ${PAGES} pages (${site}), concurrency ${args.concurrency}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`);
  console.log('| mode | pages/s | × plain | median of per-round × plain | CPU ms/page | × plain | main thread µs/page on a CPU / waiting for one | µs/page of threads started by the crawl / other threads |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const m of modes) {
    const pps = median(results[m].map((x) => x.pps));
    const cpu = median(results[m].map((x) => x.cpuMsPerPage));
    // Each round's crawls ran back to back: their ratio is less exposed to the machine's drift.
    const paired = median(results[m].map((x, i) => x.pps / results.plain[i].pps));
    const sched = schedstat ? `${median(results[m].map((x) => x.mainUs)).toFixed(0)} / ${median(results[m].map((x) => x.runqUs)).toFixed(0)}` : 'n/a';
    const threads = schedstat ? `${median(results[m].map((x) => x.newUs)).toFixed(0)} / ${median(results[m].map((x) => x.otherUs)).toFixed(0)}` : 'n/a';
    console.log(`| ${m} | ${pps.toFixed(0)} | ${(pps / base).toFixed(2)}× | ${paired.toFixed(2)}× | ${cpu.toFixed(3)} | ${(cpu / baseCpu).toFixed(2)}× | ${sched} | ${threads} |`);
  }
  rmSync(tmp, { recursive: true, force: true });
  child?.kill();
}
