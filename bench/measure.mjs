// What the bench scripts share: a request-rate measurement (client.mjs, https-gzip.mjs), the
// median and formatting.
import { performance } from 'node:perf_hooks';

/** `concurrency` loops of sequential requests, for `seconds` (at most `max` requests). */
export async function measureRate(run, url, concurrency, seconds, max, minBytes) {
  let done = 0;
  let errors = 0;
  let firstError = null;
  let started = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline && started < max) {
      started++;
      try {
        const n = await run(url);
        if (n < minBytes) throw new Error(`short body: ${n} bytes`);
        done++;
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // CPU time of this process per request: less sensitive than req/s to what else the 2 cores run.
  const cpuUs = (cpu.user + cpu.system) / Math.max(1, done);
  return { rate: done / elapsed, cpuUs, done, errors, firstError, elapsed };
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
export const pad = (s, n) => String(s).padEnd(n);
export const lpad = (s, n) => String(s).padStart(n);
