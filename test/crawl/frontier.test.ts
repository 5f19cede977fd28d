import { describe, expect, it } from 'vitest';
import { Frontier } from '../../src/crawl/frontier.js';

const entry = (url: string, depth = 0, notBefore = 0) => ({ url, depth, referrer: null, redirects: 0, attempts: 0, notBefore });

describe('Frontier', () => {
  it('hands out breadth-first across hosts', () => {
    const f = new Frontier(10, 0);
    f.push('a', entry('a1', 1));
    f.push('b', entry('b0', 0));
    f.push('a', entry('a2', 1));
    const order = [];
    for (let i = 0; i < 3; i++) {
      const r = f.take(0);
      if (r && 'entry' in r) order.push(r.entry.url);
    }
    expect(order).toEqual(['b0', 'a1', 'a2']);
    expect(f.take(0)).toBeNull();
  });

  it('takes only entries that pass a filter, from anywhere in a host\'s queue, when asked', () => {
    const f = new Frontier(10, 0);
    f.push('h', entry('new1'));
    f.push('h', { ...entry('retry'), attempts: 1 });
    f.push('h', entry('new2'));
    f.push('g', entry('new3'));
    const retry = f.take(0, (e) => e.attempts > 0);
    expect(retry && 'entry' in retry && retry.entry.url).toBe('retry');
    expect(f.size).toBe(3);
    // Nothing else passes: nothing to take (not a wait).
    expect(f.take(0, (e) => e.attempts > 0)).toBeNull();
    const order = [];
    for (let r = f.take(0); r && 'entry' in r; r = f.take(0)) order.push(r.entry.url);
    expect(order).toEqual(['new1', 'new2', 'new3']);
  });

  it('keeps per-host in-flight and delay limits', () => {
    const f = new Frontier(1, 100);
    f.push('h', entry('1'));
    f.push('h', entry('2'));
    const first = f.take(1000);
    expect(first && 'entry' in first && first.entry.url).toBe('1');
    expect(f.take(1000)).toEqual({ waitMs: -1 }); // one in flight already
    f.release('h');
    expect(f.take(1050)).toEqual({ waitMs: 50 });
    const second = f.take(1100);
    expect(second && 'entry' in second && second.entry.url).toBe('2');
  });

  it('raises the delay when robots asks for more, counted from the last start', () => {
    const f = new Frontier(5, 10);
    f.push('h', entry('1'));
    f.push('h', entry('2'));
    f.take(0);
    f.setDelay('h', 500);
    expect(f.take(100)).toEqual({ waitMs: 400 });
  });

  it('holds a retry until its time', () => {
    const f = new Frontier(5, 0);
    f.push('h', entry('retry', 0, 5000));
    expect(f.take(1000)).toEqual({ waitMs: 4000 });
    const r = f.take(5000);
    expect(r && 'entry' in r && r.entry.url).toBe('retry');
  });
});
