// MySQL sink throughput: MysqlSink (dist/sinks/mysql.js) upserting synthetic page records without
// bodies into a fresh database on the local MariaDB, which is dropped afterwards.
//   node bench/mysql-sink.mjs [records=100000] [mysql://root@127.0.0.1:3306/rawcrawl_bench]
// Prints one JSON line: { records, rows, ms, rowsPerSec, clientCpuMs, serverCpuMs }.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connectMysql, MysqlSink } from '../dist/sinks/mysql.js';

const N = Number(process.argv[2] ?? 100_000);
const url = new URL(process.argv[3] ?? 'mysql://root@127.0.0.1:3306/rawcrawl_bench');
const db = url.pathname.slice(1);
if (!/^rawcrawl_bench\w*$/.test(db)) throw new Error(`refusing to create and drop database ${db}: use rawcrawl_bench*`);
if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error('local MariaDB only');
// CPU time of the local server (mariadbd / mysqld), to tell client cost from server cost.
function serverCpuMs() {
  try {
    const pid = execFileSync('pidof', ['mariadbd', 'mysqld'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return NaN;
  }
}
const mysql = createRequire(new URL('../package.json', import.meta.url))('mysql2/promise');

const admin = await mysql.createConnection({ host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) });
await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
try {
  const sink = new MysqlSink(await connectMysql(url.href));
  const now = Date.now();
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const server0 = serverCpuMs();
  for (let i = 0; i < N; i++) {
    await sink.write({
      url: `http://127.0.0.1:18471/p/${i}.html`,
      final_url: `http://127.0.0.1:18471/p/${i}.html`,
      status: 200,
      content_type: 'text/html',
      title: `Page ${i}: crawl graph parse frontier`,
      fields: {},
      depth: i % 17,
      referrer: `http://127.0.0.1:18471/p/${(i * 7) % N}.html`,
      bytes: 20_400,
      fetched_at: new Date(now + i).toISOString(),
      timings: { dns: 0, connect: 0.4, tls: 0.4, firstByte: 1.2, total: 1.9 },
      error: null,
      error_message: null,
      attempts: 1,
      leniencies: [],
    });
  }
  await sink.close();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const serverMs = serverCpuMs() - server0;
  const [[{ n }]] = await admin.query(`SELECT COUNT(*) AS n FROM \`${db}\`.pages`);
  console.log(JSON.stringify({ records: N, rows: Number(n), ms: Math.round(ms), rowsPerSec: Math.round((N * 1000) / ms), clientCpuMs: Math.round((cpu.user + cpu.system) / 1000), serverCpuMs: Math.round(serverMs) }));
} finally {
  await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await admin.end();
}
