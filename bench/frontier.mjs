// The persistent MySQL frontier (issue 4, section "Benchmark"), in one run on one site:
//   (a) in-memory frontier + MySQL page sink      rawcrawl URL --mysql DB
//   (b) one process with --crawl-id               rawcrawl URL --mysql DB --crawl-id NAME
//   (c) two processes sharing one --crawl-id
//   (d) three processes sharing one --crawl-id
// each process at -c 8 --per-host 32 --ignore-robots -q; every mode N rounds (interleaved), the
// median reported. Pages are counted in the database (pages rows; frontier done rows). Around every
// run: the server's counters (Com_*, fsyncs, Innodb_row_lock_*, Innodb_deadlocks), mariadbd's CPU
// time, and 10 Hz samples of INNODB_TRX for transactions of this database in LOCK WAIT.
// Then the frontier's cost per page through the library API: one in-process crawl with a
// MysqlFrontier over a pool that times every round trip (kind, count, ms) and reads `.queries`.
//   node bench/frontier.mjs [--rounds 3] [--timeout 180] [--pages 5000] [--port 18491]
//                           [--only a,b,c,d,lib] [--db rawcrawl_bench4] [--out FILE.json]
//                           [--before DIR]
// --before DIR (a copy of an earlier dist/, with schema.sql beside it and node_modules linked):
// also runs (b) and (d) with that build, as modes b0 and d0, interleaved in the same rounds.
// Generates its site in bench/results/frontier/ and serves it with its own nginx on --port
// (stopped at the end); creates database --db for each run and drops it afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const RUN = path.join(BENCH, 'results', 'frontier');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROUNDS = Number(opt('rounds', 3));
const TIMEOUT_S = Number(opt('timeout', 180));
const PAGES = Number(opt('pages', 5000));
const PORT = Number(opt('port', 18491));
const ONLY = new Set(opt('only', 'a,b,c,d,lib').split(','));
const DB = opt('db', 'rawcrawl_bench4');
const BEFORE = opt('before', null);
const OUT = opt('out', path.join(RUN, 'results.json'));
const CONC = 8;
const PER_HOST = 32;
if (!/^rawcrawl_bench\w*$/.test(DB)) throw new Error(`refusing to create and drop database ${DB}: use rawcrawl_bench*`);
const URI = `mysql://root@127.0.0.1:3306/${DB}`;
const START = `http://127.0.0.1:${PORT}/p/0.html`;

const mysql = createRequire(path.join(ROOT, 'package.json'))('mysql2/promise');
const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', p)).href);

// --- the site: generated once, served by an nginx of our own ------------------------------------

/** Runs a function of bench/nginx.sh (the nginx start/stop that setup.sh and crawl-setup.sh use). */
function nginxSh(fn, ...args) {
  const r = spawnSync('bash', ['-c', `source "$0"; ${fn} "$@"`, path.join(BENCH, 'nginx.sh'), ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench/nginx.sh ${fn} failed`);
}

const NGINX_CONF = path.join(RUN, 'nginx.conf');

function startSite() {
  const www = path.join(RUN, 'www');
  if (readFileSyncOr(path.join(www, '.stamp')) !== `${PAGES}:${PORT}`) {
    rmSync(www, { recursive: true, force: true });
    const g = spawnSync(process.execPath, [path.join(BENCH, 'crawl-site.mjs'), www, String(PORT), String(PAGES)], { stdio: 'inherit' });
    if (g.status !== 0) throw new Error('site generation failed');
    writeFileSync(path.join(www, '.stamp'), `${PAGES}:${PORT}`);
  }
  nginxSh(
    'start_nginx',
    RUN,
    NGINX_CONF,
    String(PORT),
    'bench/frontier.mjs',
    '  keepalive_timeout 65;\n  keepalive_requests 1000000;\n  open_file_cache max=10000 inactive=60s;',
    'text/html html; text/plain txt;',
  );
}

function stopSite() {
  nginxSh('stop_nginx', RUN, NGINX_CONF);
}

function readFileSyncOr(file, dflt = '') {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return dflt;
  }
}

// --- the server: a fresh database, counters, mariadbd CPU, lock-wait sampling -------------------

const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', multipleStatements: false });
const { schemaStatements } = await dist('sinks/mysql.js');

async function freshDb() {
  await admin.query(`DROP DATABASE IF EXISTS \`${DB}\``);
  await admin.query(`CREATE DATABASE \`${DB}\` CHARACTER SET utf8mb4`);
  // Applied here, once: the processes of a shared run then start on equal terms.
  for (const sql of schemaStatements()) await admin.query(sql.replace(/CREATE TABLE IF NOT EXISTS (\w+)/, `CREATE TABLE IF NOT EXISTS \`${DB}\`.$1`));
}

const COUNTERS = ['Com_select', 'Com_insert', 'Com_update', 'Com_commit', 'Com_begin', 'Questions', 'Innodb_data_fsyncs',
  'Innodb_row_lock_waits', 'Innodb_row_lock_time', 'Innodb_row_lock_current_waits', 'Innodb_deadlocks'];
async function counters() {
  const [rows] = await admin.query(`SHOW GLOBAL STATUS WHERE Variable_name IN (${COUNTERS.map(() => '?').join(', ')})`, COUNTERS);
  return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
}
const diff = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

const [[{ pidFile }]] = await admin.query('SELECT @@pid_file AS pidFile');
const mariadbPid = readFileSyncOr(pidFile);
const CLK_TCK = 100;
function mariadbCpuMs() {
  // /proc/PID/stat fields 14, 15: utime, stime in clock ticks.
  const stat = readFileSyncOr(`/proc/${mariadbPid}/stat`);
  if (!stat) return NaN;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** Samples this database's transactions 10 times a second: how many, how many in LOCK WAIT. */
function lockSampler() {
  const s = { samples: 0, withWait: 0, maxWaiting: 0, maxActive: 0, waitingQueries: new Map() };
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const [rows] = await admin.query(
        `SELECT t.trx_state AS state, t.trx_query AS q FROM information_schema.INNODB_TRX t
         JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.DB = ?`,
        [DB],
      );
      s.samples++;
      const waiting = rows.filter((r) => r.state === 'LOCK WAIT');
      if (waiting.length > 0) s.withWait++;
      for (const w of waiting) {
        const k = String(w.q ?? '').replace(/\s+/g, ' ').slice(0, 60);
        s.waitingQueries.set(k, (s.waitingQueries.get(k) ?? 0) + 1);
      }
      s.maxWaiting = Math.max(s.maxWaiting, waiting.length);
      s.maxActive = Math.max(s.maxActive, rows.length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    stop = true;
    await done;
    return { ...s, waitingQueries: Object.fromEntries(s.waitingQueries) };
  };
}

async function innodbStatus() {
  const [[row]] = await admin.query('SHOW ENGINE INNODB STATUS');
  const text = String(row.Status);
  const deadlock = /LATEST DETECTED DEADLOCK\n-+\n(.*)\n/.exec(text)?.[1] ?? null;
  const waits = (text.match(/TRX HAS BEEN WAITING/g) ?? []).length;
  return { latestDeadlock: deadlock, trxWaitingNow: waits };
}

async function countRows() {
  const [[p]] = await admin.query(`SELECT COUNT(*) AS n, TIMESTAMPDIFF(MICROSECOND, MIN(fetched_at), MAX(fetched_at)) / 1e6 AS spanS FROM \`${DB}\`.pages`);
  const [states] = await admin.query(`SELECT state, COUNT(*) AS n FROM \`${DB}\`.frontier GROUP BY state`);
  return { rows: Number(p.n), spanS: Number(p.spanS), frontier: Object.fromEntries(states.map((r) => [r.state, Number(r.n)])) };
}

// --- one measurement: N rawcrawl processes -------------------------------------------------------

function runProcess(extra, tag, distDir) {
  // The checkout's own build through bin/rawcrawl; another build through the same two-line stub.
  const cli = distDir === null ? ['bin/rawcrawl']
    : ['-e', 'import(process.argv[1]).then((m) => m.run(process.argv))', pathToFileURL(path.join(distDir, 'cli', 'main.js')).href];
  const timeFile = path.join(os.tmpdir(), `frontier-bench-${process.pid}-${tag}`);
  const child = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, 'timeout', '-s', 'KILL', String(TIMEOUT_S),
    process.execPath, ...cli, START, '--mysql', URI, '--concurrency', String(CONC), '--per-host', String(PER_HOST), '--ignore-robots', '-q', ...extra],
  { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  return new Promise((resolve) => child.on('exit', (code) => {
    const [wall, user, sys, rss] = readFileSyncOr(timeFile, 'NaN NaN NaN NaN').split('\n').pop().split(' ').map(Number);
    rmSync(timeFile, { force: true });
    resolve({ exit: code, wallS: wall, cpuMs: Math.round((user + sys) * 1000), peakRssMiB: Math.round(rss / 1024), stderr: err.trim().slice(-500) });
  }));
}

async function measure(mode, round) {
  const procs = { a: 1, b: 1, c: 2, d: 3, b0: 1, d0: 3 }[mode];
  const distDir = mode.endsWith('0') ? BEFORE : null;
  await freshDb();
  const load = os.loadavg()[0];
  const before = await counters();
  const dbCpu0 = mariadbCpuMs();
  const stopSampler = lockSampler();
  const t0 = process.hrtime.bigint();
  const extra = mode === 'a' ? [] : ['--crawl-id', 'bench4'];
  const children = await Promise.all(Array.from({ length: procs }, (_, i) => runProcess(extra, `${mode}${round}${i}`, distDir)));
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const locks = await stopSampler();
  const dbCpuMs = mariadbCpuMs() - dbCpu0;
  const after = await counters();
  const status = procs === 3 ? await innodbStatus() : null;
  const counted = await countRows();
  const d = diff(before, after);
  const pages = counted.rows;
  const r = {
    mode, round, procs, load1: load, wallS, pages, pagesPerSec: pages / wallS, spanPagesPerSec: pages / counted.spanS,
    frontier: counted.frontier, exits: children.map((c) => c.exit),
    cpuMsPerPage: children.reduce((s, c) => s + c.cpuMs, 0) / pages,
    dbCpuMsPerPage: dbCpuMs / pages,
    perPage: { questions: d.Questions / pages, commits: d.Com_commit / pages, fsyncs: d.Innodb_data_fsyncs / pages },
    rowLock: { waits: d.Innodb_row_lock_waits, timeMs: d.Innodb_row_lock_time, deadlocks: d.Innodb_deadlocks },
    lockSamples: locks, innodbStatus: status,
    stderr: children.map((c) => c.stderr).filter(Boolean),
  };
  console.error(`  ${mode} round ${round}: ${pages} pages in ${wallS.toFixed(2)} s = ${r.pagesPerSec.toFixed(0)} pages/s (load ${load.toFixed(1)}; row lock waits ${d.Innodb_row_lock_waits}, ${d.Innodb_row_lock_time} ms; LOCK WAIT samples ${locks.withWait}/${locks.samples})`);
  return r;
}

// --- the frontier's cost per page through the library API ----------------------------------------

const kindOf = (sql) => {
  if (sql === 'BEGIN' || sql === 'COMMIT' || sql === 'ROLLBACK') return sql.toLowerCase();
  if (/SKIP LOCKED/.test(sql)) return /lease_expires </.test(sql) ? 'claim: lock expired' : 'claim: select queued';
  if (/^SELECT url_hash FROM frontier WHERE crawl_id = \? AND state = 'claimed'/.test(sql)) return 'claim: find expired';
  if (/^UPDATE frontier SET state = 'claimed'/.test(sql)) return 'claim: mark claimed';
  if (/FROM crawls .*FOR UPDATE|UPDATE crawls/.test(sql)) return 'max-pages counter';
  if (/^INSERT IGNORE INTO frontier/.test(sql)) return 'flush: insert links';
  if (/^SELECT url_hash FROM frontier/.test(sql)) return 'flush: known links';
  if (/^SET SESSION TRANSACTION/.test(sql)) return 'set isolation';
  if (/^INSERT INTO pages/.test(sql)) return 'flush: upsert pages';
  if (/^UPDATE frontier SET state = \?/.test(sql)) return 'flush: mark done';
  if (/GET_LOCK|RELEASE_LOCK/.test(sql)) return 'host slot lock';
  if (/crawl_hosts/.test(sql)) return 'host row';
  if (/lease_expires = NOW\(3\) \+/.test(sql) && /^UPDATE frontier SET lease_expires/.test(sql)) return 'lease renew';
  if (/GROUP BY state/.test(sql)) return 'empty check';
  return 'other';
};

function timedPool(pool, stats) {
  const timed = async (sql, fn) => {
    const k = kindOf(String(sql).trim());
    const t = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      const s = (stats[k] ??= { n: 0, ms: 0 });
      s.n++;
      s.ms += Number(process.hrtime.bigint() - t) / 1e6;
    }
  };
  const wrapConn = (conn) => new Proxy(conn, {
    get(t, k) {
      if (k === 'query') return (sql, params) => timed(sql, () => t.query(sql, params));
      if (k === 'beginTransaction') return () => timed('BEGIN', () => t.beginTransaction());
      if (k === 'commit') return () => timed('COMMIT', () => t.commit());
      if (k === 'rollback') return () => timed('ROLLBACK', () => t.rollback());
      const v = Reflect.get(t, k);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
  return new Proxy(pool, {
    get(t, k) {
      if (k === 'query') return (sql, params) => timed(sql, () => t.query(sql, params));
      if (k === 'getConnection') return async () => wrapConn(await t.getConnection());
      const v = Reflect.get(t, k);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

async function libraryRun(round) {
  const { crawl } = await dist('crawl/crawler.js');
  const { connectMysql } = await dist('sinks/mysql.js');
  const { joinCrawl, MysqlFrontier } = await dist('sinks/mysql-frontier.js');
  await freshDb();
  const pool = await connectMysql(URI);
  const joined = await joinCrawl(pool, 'bench4-lib', {
    startUrls: [START], allowHosts: [], include: [], exclude: [], storeOnly: [], maxDepth: null, maxPages: null, perHost: PER_HOST, delayMs: 0,
  });
  const stats = {};
  const calls = { take: { n: 0, ms: 0, maxMs: 0 }, complete: { n: 0, ms: 0, maxMs: 0 } };
  let frontier;
  const before = await counters();
  const dbCpu0 = mariadbCpuMs();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const run = crawl({
    startUrls: [START], concurrency: CONC, perHost: PER_HOST, ignoreRobots: true,
    backend: (ctx) => {
      frontier = new MysqlFrontier(timedPool(pool, stats), joined, ctx);
      for (const m of ['take', 'complete']) {
        const orig = frontier[m].bind(frontier);
        frontier[m] = async (...a) => {
          const t = process.hrtime.bigint();
          try {
            return await orig(...a);
          } finally {
            const ms = Number(process.hrtime.bigint() - t) / 1e6;
            calls[m].n++;
            calls[m].ms += ms;
            calls[m].maxMs = Math.max(calls[m].maxMs, ms);
          }
        };
      }
      return frontier;
    },
  });
  let records = 0;
  for await (const _ of run) records++;
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const dbCpuMs = mariadbCpuMs() - dbCpu0;
  const d = diff(before, await counters());
  const counted = await countRows();
  const pages = counted.rows;
  const roundTrips = Object.values(stats).reduce((s, x) => s + x.n, 0);
  const dbMs = Object.values(stats).reduce((s, x) => s + x.ms, 0);
  const r = {
    round, records, pages, wallS, pagesPerSec: pages / wallS, frontier: counted.frontier,
    queriesPerPage: frontier.queries / pages, roundTripsPerPage: roundTrips / pages, dbMsPerPage: dbMs / pages,
    cpuMsPerPage: (cpu.user + cpu.system) / 1000 / pages, dbCpuMsPerPage: dbCpuMs / pages,
    fsyncsPerPage: d.Innodb_data_fsyncs / pages,
    takeMsPerPage: calls.take.ms / pages, takeCalls: calls.take.n, takeMaxMs: calls.take.maxMs,
    completeMsPerPage: calls.complete.ms / pages, completeMaxMs: calls.complete.maxMs,
    byKind: Object.fromEntries(Object.entries(stats).sort((x, y) => y[1].ms - x[1].ms).map(([k, v]) => [k, { perPage: v.n / pages, msPerPage: v.ms / pages, msEach: v.ms / v.n }])),
  };
  console.error(`  lib round ${round}: ${pages} pages, ${r.pagesPerSec.toFixed(0)} pages/s, ${r.queriesPerPage.toFixed(3)} queries/page (.queries), ${r.roundTripsPerPage.toFixed(3)} round trips/page, ${r.dbMsPerPage.toFixed(2)} ms DB/page`);
  return r;
}

// --- the run ----------------------------------------------------------------------------------------

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

startSite();
const machine = { cpus: os.cpus().length, node: process.version, kernel: os.release(), loadBefore: os.loadavg().map((x) => +x.toFixed(2)) };
console.error(`frontier bench: ${START}, ${ROUNDS} rounds, load ${machine.loadBefore.join(' ')}`);
const results = [];
const lib = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of ['a', 'b', 'c', 'd']) if (ONLY.has(mode)) results.push(await measure(mode, round));
    if (BEFORE) for (const mode of ['b0', 'd0']) results.push(await measure(mode, round));
    if (ONLY.has('lib')) lib.push(await libraryRun(round));
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS \`${DB}\``).catch(() => {});
  await admin.end();
  stopSite();
}
machine.loadAfter = os.loadavg().map((x) => +x.toFixed(2));

const summary = {};
for (const mode of ['a', 'b', 'c', 'd', 'b0', 'd0']) {
  const rs = results.filter((r) => r.mode === mode);
  if (rs.length === 0) continue;
  summary[mode] = {
    pagesPerSec: median(rs.map((r) => r.pagesPerSec)), spanPagesPerSec: median(rs.map((r) => r.spanPagesPerSec)),
    all: rs.map((r) => Math.round(r.pagesPerSec)), pages: rs.map((r) => r.pages),
    cpuMsPerPage: median(rs.map((r) => r.cpuMsPerPage)), dbCpuMsPerPage: median(rs.map((r) => r.dbCpuMsPerPage)),
    questionsPerPage: median(rs.map((r) => r.perPage.questions)), fsyncsPerPage: median(rs.map((r) => r.perPage.fsyncs)),
    rowLockWaits: rs.map((r) => r.rowLock.waits), rowLockTimeMs: rs.map((r) => r.rowLock.timeMs), deadlocks: rs.map((r) => r.rowLock.deadlocks),
    lockWaitSamples: rs.map((r) => `${r.lockSamples.withWait}/${r.lockSamples.samples}`),
  };
}
const ratio = (x, y) => (summary[x] && summary[y] ? summary[x].pagesPerSec / summary[y].pagesPerSec : NaN);
const ratios = { 'b/a': ratio('b', 'a'), 'c/a': ratio('c', 'a'), 'd/a': ratio('d', 'a'), 'c/b': ratio('c', 'b'), 'd/b': ratio('d', 'b'), 'b0/a': ratio('b0', 'a'), 'd0/a': ratio('d0', 'a') };
const libSummary = lib.length === 0 ? null : {
  pagesPerSec: median(lib.map((r) => r.pagesPerSec)), queriesPerPage: median(lib.map((r) => r.queriesPerPage)),
  roundTripsPerPage: median(lib.map((r) => r.roundTripsPerPage)), dbMsPerPage: median(lib.map((r) => r.dbMsPerPage)),
  dbCpuMsPerPage: median(lib.map((r) => r.dbCpuMsPerPage)), fsyncsPerPage: median(lib.map((r) => r.fsyncsPerPage)),
  takeMsPerPage: median(lib.map((r) => r.takeMsPerPage)), completeMsPerPage: median(lib.map((r) => r.completeMsPerPage)),
};
const out = { at: new Date().toISOString(), machine, start: START, conc: CONC, perHost: PER_HOST, rounds: ROUNDS, summary, ratios, lib: libSummary, results, libRuns: lib };
mkdirSync(path.dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(out, null, 2));
console.log(JSON.stringify({ summary, ratios, lib: libSummary, machine }, null, 2));
