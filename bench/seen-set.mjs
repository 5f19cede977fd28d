// Dedupe memory: bytes per URL of rawcrawl's SeenSet (64-bit fingerprints in an open-addressing
// table) at 10 million distinct URLs, against a JS Set of the URL strings at 1 million.
//   node --expose-gc bench/seen-set.mjs [urls=10000000] [setUrls=1000000]
// Prints one JSON line.
import { SeenSet } from '../dist/crawl/seen-set.js';

const N = Number(process.argv[2] ?? 10_000_000);
const M = Number(process.argv[3] ?? 1_000_000);
const gc = globalThis.gc ?? (() => {});
// Distinct, realistic URLs: 1,000 hosts, paths and a query, 60–80 characters.
const url = (i) => `https://www.host${i % 1000}.example.com/section/${(i * 2654435761) >>> 20}/article-${i}.html?ref=${i % 97}`;
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss }; // external includes arrayBuffers
};

const before = mem();
const t0 = process.hrtime.bigint();
const seen = new SeenSet();
let dupes = 0;
for (let i = 0; i < N; i++) if (!seen.add(url(i))) dupes++;
const addNs = Number(process.hrtime.bigint() - t0) / N;
// Every URL must now be found again.
let missing = 0;
for (let i = 0; i < N; i += 97) if (!seen.has(url(i))) missing++;
const after = mem();
const seenSet = {
  urls: N,
  size: seen.size,
  falseDupes: dupes,
  missing,
  tableBytes: seen.bytes,
  tableBytesPerUrl: seen.bytes / N,
  heapGrowthPerUrl: (after.heap - before.heap + after.external - before.external) / N,
  nsPerAdd: addNs,
};

// Contrast: a Set of the URL strings themselves (what a plain crawler keeps), at M URLs.
const before2 = mem();
let strings = new Set();
for (let i = 0; i < M; i++) strings.add(url(i));
const after2 = mem();
const jsSet = {
  urls: M,
  size: strings.size,
  heapGrowthPerUrl: (after2.heap - before2.heap + after2.external - before2.external) / M,
  avgUrlChars: url(M >> 1).length,
};
jsSet.extrapolatedBytesAt10M = jsSet.heapGrowthPerUrl * 10_000_000;
strings = null;
console.log(JSON.stringify({ seenSet, jsSet }));
