import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { crawl } from '../../src/crawl/crawler.js';
import type { PageRecord } from '../../src/crawl/record.js';
import { treeSite, type TreeSite } from '../helpers/tree-site.js';

let site: TreeSite | null = null;
afterEach(async () => {
  await site?.close();
  site = null;
});

const base = { ignoreRobots: true, parseThreads: 0, backoff: { baseMs: 5, capMs: 20 } } as const;

/** A gate annotate() waits on: open() lets every waiting page through. */
function gate(): { wait(): Promise<void>; open(): void; waiting: number } {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  const g = {
    waiting: 0,
    async wait(): Promise<void> {
      g.waiting++;
      await opened;
    },
    open: () => release(),
  };
  return g;
}

describe('annotate (where --warc put a page) runs off the fetch slot', () => {
  it('fetching goes on while pages wait for their annotation, up to a bound of waiting pages', async () => {
    site = await treeSite(200, 0);
    const g = gate();
    const records: PageRecord[] = [];
    // Many start URLs: a page's links are queued only once it is finished (annotated).
    const starts = Array.from({ length: 40 }, (_, i) => `${site!.origin}/p/${i}`);
    // Two fetch slots, two requests at a time to the host. A page waiting for its annotation
    // holds neither: its request is over.
    const c = crawl({ ...base, startUrls: starts, concurrency: 2, perHost: 2, annotate: () => g.wait() });
    const consumed = (async () => {
      for await (const r of c) records.push(r);
    })();
    // With the gate shut no page is finished, yet the two slots keep fetching until the bound
    // of waiting pages (4 per slot; each slot stops once it is passed): 10 pages.
    const deadline = Date.now() + 5000;
    while (g.waiting < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 150));
    expect(g.waiting).toBe(10);
    expect(site.completed.length).toBe(10);
    expect(records.length).toBe(0);
    g.open();
    await consumed;
    // Nothing lost: every page was fetched once, annotated and recorded.
    expect(records.length).toBe(200);
    expect(new Set(records.map((r) => r.url)).size).toBe(200);
    expect(g.waiting).toBe(200);
  });

  it('the per-host limit counts requests: pages waiting for their annotation do not hold it', async () => {
    // A server that counts the requests open at once.
    let open = 0;
    let most = 0;
    let served = 0;
    const server = http.createServer((req, res) => {
      open++;
      most = Math.max(most, open);
      setTimeout(() => {
        served++;
        open--;
        res.writeHead(200, { 'content-type': 'text/html', connection: 'close' });
        res.end('<html><title>t</title></html>');
      }, 15);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      let annotating = 0;
      let mostAnnotating = 0;
      // Each page's archive write takes 60 ms, four times its fetch.
      const annotate = async (): Promise<void> => {
        annotating++;
        mostAnnotating = Math.max(mostAnnotating, annotating);
        await new Promise((r) => setTimeout(r, 60));
        annotating--;
      };
      const starts = Array.from({ length: 24 }, (_, i) => `${origin}/p/${i}`);
      let n = 0;
      for await (const _ of crawl({ ...base, startUrls: starts, concurrency: 4, perHost: 2, annotate })) n++;
      expect(n).toBe(24);
      expect(served).toBe(24);
      // Never more than 2 requests at once to the host, while more pages than that waited for
      // their writes (holding the host's slots until then would cap them at 2).
      expect(most).toBe(2);
      expect(mostAnnotating).toBeGreaterThan(2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('the crawl does not end while a page waiting for its annotation has links still to queue', async () => {
    site = await treeSite(31, 0);
    const records: PageRecord[] = [];
    // The start page (the only way into the rest of the tree) is annotated slowly.
    const annotate = async (r: PageRecord): Promise<void> => {
      if (r.url.endsWith('/p/0')) await new Promise((res) => setTimeout(res, 200));
      r.capture = { warc_file: 'x.warc.gz', warc_offset: 0, capture_file: null, phases: {}, tls: null, remote_address: null };
    };
    for await (const r of crawl({ ...base, startUrls: [`${site.origin}/p/0`], concurrency: 4, perHost: 4, annotate })) records.push(r);
    expect(records.length).toBe(31);
    expect(records.every((r) => r.capture?.warc_file === 'x.warc.gz')).toBe(true);
  });

  it('an annotation that fails fails the crawl with its error', async () => {
    site = await treeSite(50, 0);
    const annotate = async (r: PageRecord): Promise<void> => {
      if (r.url.endsWith('/p/3')) throw new Error('archive write failed');
    };
    const run = async (): Promise<number> => {
      let n = 0;
      for await (const _ of crawl({ ...base, startUrls: [`${site!.origin}/p/0`], concurrency: 2, perHost: 2, annotate })) n++;
      return n;
    };
    await expect(run()).rejects.toThrow('archive write failed');
  });
});
