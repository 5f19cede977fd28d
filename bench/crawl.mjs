// Crawler benchmark (issue 3): in one run, at concurrency 8 and 32, each crawler crawls the whole
// generated site (bash bench/crawl-setup.sh) as a child process under GNU time:
// pages/s (wall), CPU ms per page (user + sys of the child and its threads), peak RSS; each
// crawler's own page count is checked. Then rawcrawl into MariaDB, the MysqlSink micro-benchmark
// and the SeenSet memory benchmark. Talks only to the 127.0.0.1 servers the setup started.
//   node bench/crawl.mjs [--rounds 1] [--conc 8,32] [--only rawcrawl,crawlee,plain,wget]
//                        [--timeout 300] [--no-mysql] [--no-seen]
// Writes bench/results/crawl/results.json and prints Markdown tables.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const RUN = path.join(BENCH, 'results', 'crawl');
const PORT = Number(process.env.CRAWL_BENCH_PORT ?? 18471);
const PAGES = Number(process.env.CRAWL_BENCH_PAGES ?? 5000) + 1; // + /index.html, linked from every page
const START = `http://127.0.0.1:${PORT}/p/0.html`;
const MYSQL = 'mysql://root@127.0.0.1:3306/rawcrawl_bench';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const rounds = Number(flag('--rounds', '1'));
const concs = flag('--conc', '8,32').split(',').map(Number);
const only = flag('--only', 'rawcrawl,crawlee,plain,wget').split(',');
const timeoutS = Number(flag('--timeout', '300'));

/** Runs argv under /usr/bin/time and `timeout -s KILL`; returns wall s, CPU s, peak RSS KiB, output. */
function measure(argv, { cwd = ROOT } = {}) {
  const timeFile = path.join(RUN, 'time.txt');
  rmSync(timeFile, { force: true });
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M %x', '-o', timeFile, 'timeout', '-s', 'KILL', String(timeoutS), ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', () => {
      const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop();
      const [wall, user, sys, rssKiB, exit] = last.split(' ').map(Number);
      resolve({ wall, cpu: user + sys, rssKiB, exit, stdout, stderr });
    });
  });
}

function rawcrawlArgs(conc, extra = []) {
  // Not -q: the end summary is how its page count is checked (progress lines are made hourly).
  return ['node', 'bin/rawcrawl', START, '--ignore-robots', '-o', '/dev/null', '--concurrency', String(conc), '--per-host', String(conc), '--progress-every', '3600s', ...extra];
}
const rawcrawlPages = (r) => Number(/rawcrawl: (\d+) pages/.exec(r.stderr)?.[1] ?? NaN);
const jsonPages = (r) => {
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()).pages;
  } catch {
    return NaN;
  }
};

const CRAWLERS = {
  rawcrawl: { label: 'rawcrawl', argv: (c) => rawcrawlArgs(c), pages: rawcrawlPages },
  'rawcrawl-inline': { group: 'rawcrawl', label: 'rawcrawl --parse-threads 0', argv: (c) => rawcrawlArgs(c, ['--parse-threads', '0']), pages: rawcrawlPages },
  crawlee: { label: 'Crawlee CheerioCrawler', argv: (c) => ['node', 'bench/crawlee-crawler.mjs', START, String(c)], pages: jsonPages },
  plain: { label: 'plain node:http + cheerio (keep-alive agent)', argv: (c) => ['node', 'bench/plain-crawler.mjs', START, String(c), 'keepalive'], pages: jsonPages },
  'plain-noagent': { group: 'plain', label: 'plain node:http + cheerio (agent: false)', argv: (c) => ['node', 'bench/plain-crawler.mjs', START, String(c), 'noagent'], pages: jsonPages },
  wget: {
    label: 'wget -r (1 connection)',
    once: true,
    // -nv: one line per file fetched ("URL:… -> …"), counted; files go to a scratch dir and are deleted.
    argv: () => ['wget', '-r', '-l', 'inf', '-nd', '--delete-after', '-e', 'robots=off', '-nv', START],
    pages: (r) => (r.stderr.match(/ URL:/g) ?? []).length,
    scratch: true,
  },
};

async function up() {
  try {
    const res = await fetch(START);
    return res.ok;
  } catch {
    return false;
  }
}

function cpuModel() {
  return os.cpus()[0]?.model ?? 'unknown';
}

mkdirSync(RUN, { recursive: true });
if (!(await up())) {
  console.error(`no server at ${START}: run bash bench/crawl-setup.sh first`);
  process.exit(1);
}
const loadBefore = os.loadavg();
const results = [];
for (let round = 1; round <= rounds; round++) {
  for (const conc of concs) {
    for (const [name, c] of Object.entries(CRAWLERS)) {
      if (!only.includes(c.group ?? name)) continue;
      if (c.once && conc !== concs[0]) continue;
      const scratch = c.scratch ? mkdtempSync(path.join(os.tmpdir(), 'crawl-bench-')) : null;
      const r = await measure(c.argv(conc), scratch ? { cwd: scratch } : {});
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      const pages = c.pages(r);
      const row = {
        round,
        crawler: name,
        label: c.label,
        concurrency: c.once ? 1 : conc,
        pages,
        complete: pages >= PAGES * 0.99,
        exit: r.exit,
        wallS: r.wall,
        pagesPerSec: pages / r.wall,
        cpuMsPerPage: (r.cpu * 1000) / pages,
        peakRssMiB: r.rssKiB / 1024,
      };
      results.push(row);
      console.error(`${c.label} c=${row.concurrency}: ${pages} pages, ${r.wall} s, ${row.pagesPerSec.toFixed(1)} pages/s, ${row.cpuMsPerPage.toFixed(2)} CPU ms/page, ${row.peakRssMiB.toFixed(0)} MiB${row.complete ? '' : ` INCOMPLETE (exit ${r.exit}) ${r.stderr.slice(-300)}`}`);
    }
  }
}

// Best round per crawler and concurrency: other work on a shared machine only ever slows a run.
const best = new Map();
for (const r of results) {
  const k = `${r.crawler}@${r.concurrency}`;
  if (r.complete && (!best.has(k) || r.pagesPerSec > best.get(k).pagesPerSec)) best.set(k, r);
}

let mysqlCrawl = null;
let mysqlSink = null;
if (!args.includes('--no-mysql')) {
  const m = await measure(['node', 'bench/mysql-crawl.mjs', START, String(Math.max(...concs)), MYSQL]);
  try {
    mysqlCrawl = JSON.parse(m.stdout.trim().split('\n').pop());
    mysqlCrawl.cpuMsPerPage = mysqlCrawl.cpuMs / mysqlCrawl.pages;
  } catch {
    console.error(`mysql crawl failed: ${m.stderr.slice(-500)}`);
  }
  const s = await measure(['node', 'bench/mysql-sink.mjs', '100000', MYSQL]);
  try {
    mysqlSink = JSON.parse(s.stdout.trim().split('\n').pop());
  } catch {
    console.error(`mysql sink benchmark failed: ${s.stderr.slice(-500)}`);
  }
}
let seen = null;
if (!args.includes('--no-seen')) {
  const s = await measure(['node', '--expose-gc', 'bench/seen-set.mjs', '10000000', '1000000']);
  try {
    seen = JSON.parse(s.stdout.trim().split('\n').pop());
    seen.peakRssMiB = s.rssKiB / 1024;
  } catch {
    console.error(`seen-set benchmark failed: ${s.stderr.slice(-500)}`);
  }
}

const machine = {
  cpu: cpuModel(),
  cpus: os.availableParallelism(),
  memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  kernel: os.release(),
  loadBefore: loadBefore.map((x) => +x.toFixed(2)),
  loadAfter: os.loadavg().map((x) => +x.toFixed(2)),
};
writeFileSync(path.join(RUN, 'results.json'), JSON.stringify({ at: new Date().toISOString(), machine, rounds, results, mysqlCrawl, mysqlSink, seen }, null, 2) + '\n');

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
console.log(`\nMachine: ${machine.cpu}, ${machine.cpus} CPUs, ${machine.memGiB} GiB, Node ${machine.node}, load ${machine.loadBefore.join('/')} → ${machine.loadAfter.join('/')}; best of ${rounds} round(s)\n`);
console.log('| crawler | conc. | pages | pages/s | CPU ms/page | peak RSS MiB |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of [...best.values()].sort((a, b) => a.concurrency - b.concurrency)) {
  console.log(`| ${r.label} | ${r.concurrency} | ${r.pages} | ${fmt(r.pagesPerSec)} | ${fmt(r.cpuMsPerPage, 2)} | ${fmt(r.peakRssMiB)} |`);
}
console.log('\n| ratio | conc. | measured | target |');
console.log('| --- | ---: | ---: | --- |');
for (const conc of concs) {
  const g = (name) => best.get(`${name}@${conc}`);
  const rc = g('rawcrawl');
  if (!rc) continue;
  if (g('crawlee')) {
    console.log(`| rawcrawl / Crawlee pages/s | ${conc} | ${fmt(rc.pagesPerSec / g('crawlee').pagesPerSec, 2)}× | ≥ 3× |`);
    console.log(`| rawcrawl / Crawlee peak RSS | ${conc} | ${fmt(rc.peakRssMiB / g('crawlee').peakRssMiB, 2)}× | < 1× |`);
  }
  if (g('plain')) console.log(`| rawcrawl / plain (keep-alive) pages/s | ${conc} | ${fmt(rc.pagesPerSec / g('plain').pagesPerSec, 2)}× | ≥ 1.5× |`);
  if (g('plain-noagent')) console.log(`| rawcrawl / plain (agent: false) pages/s | ${conc} | ${fmt(rc.pagesPerSec / g('plain-noagent').pagesPerSec, 2)}× | ≥ 1.5× |`);
  if (g('rawcrawl-inline')) console.log(`| rawcrawl parse threads / inline pages/s | ${conc} | ${fmt(rc.pagesPerSec / g('rawcrawl-inline').pagesPerSec, 2)}× | (measure) |`);
}
if (mysqlCrawl) console.log(`\nrawcrawl --mysql, c=${mysqlCrawl.concurrency}: ${mysqlCrawl.pages} pages, ${mysqlCrawl.rows} rows, ${fmt(mysqlCrawl.pagesPerSec)} pages/s, ${fmt(mysqlCrawl.cpuMsPerPage, 2)} CPU ms/page`);
if (mysqlSink) console.log(`MysqlSink, ${mysqlSink.records} records without bodies: ${mysqlSink.rowsPerSec} rows/s (client CPU ${mysqlSink.clientCpuMs} ms, server CPU ${mysqlSink.serverCpuMs} ms)`);
if (seen) {
  console.log(`SeenSet at ${seen.seenSet.urls} URLs: table ${fmt(seen.seenSet.tableBytesPerUrl, 1)} B/URL, heap+external growth ${fmt(seen.seenSet.heapGrowthPerUrl, 1)} B/URL, ${seen.seenSet.falseDupes} false dupes, ${seen.seenSet.missing} missing, ${fmt(seen.seenSet.nsPerAdd)} ns/add (incl. making the URL)`);
  console.log(`JS Set of URL strings at ${seen.jsSet.urls}: ${fmt(seen.jsSet.heapGrowthPerUrl, 1)} B/URL (${seen.jsSet.avgUrlChars}-char URLs) → ${fmt(seen.jsSet.extrapolatedBytesAt10M / 2 ** 20)} MiB at 10 M`);
}
