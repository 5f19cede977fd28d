// rawcrawl storing into MariaDB: crawls the benchmark site with --mysql into a fresh database
// (created here, dropped afterwards) and counts the rows.
//   node bench/mysql-crawl.mjs START_URL CONCURRENCY mysql://root@127.0.0.1:3306/rawcrawl_bench
// Prints one JSON line: { concurrency, pages, rows, wallS, pagesPerSec, cpuMs, peakRssMiB }.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [start, concArg, uri] = process.argv.slice(2);
const url = new URL(uri);
const db = url.pathname.slice(1);
if (!/^rawcrawl_bench\w*$/.test(db)) throw new Error(`refusing to create and drop database ${db}: use rawcrawl_bench*`);
if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error('local MariaDB only');
const mysql = createRequire(path.join(ROOT, 'package.json'))('mysql2/promise');

const admin = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) });
await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
try {
  const timeFile = path.join(os.tmpdir(), `mysql-crawl-time-${process.pid}`);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, 'timeout', '-s', 'KILL', '300',
    'node', 'bin/rawcrawl', start, '--ignore-robots', '--mysql', uri, '--concurrency', concArg, '--per-host', concArg, '--progress-every', '3600s'], { cwd: ROOT, encoding: 'utf8' });
  const [wall, user, sys, rss] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  rmSync(timeFile, { force: true });
  const pages = Number(/rawcrawl: (\d+) pages/.exec(r.stderr)?.[1] ?? NaN);
  const [[{ n }]] = await admin.query(`SELECT COUNT(*) AS n FROM \`${db}\`.pages`);
  console.log(JSON.stringify({ concurrency: Number(concArg), pages, rows: Number(n), wallS: wall, pagesPerSec: pages / wall, cpuMs: Math.round((user + sys) * 1000), peakRssMiB: rss / 1024, exit: r.status }));
} finally {
  await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await admin.end();
}
