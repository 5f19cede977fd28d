import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { Canceller, listenAbort } from '../../src/net/cancel.js';
import { abortError } from '../../src/net/connect.js';
import { RawcrawlError } from '../../src/errors.js';

describe('Canceller', () => {
  it('calls each listener once, in order, and not after removal', () => {
    const c = new Canceller();
    const calls: string[] = [];
    const a = (): void => void calls.push('a');
    const b = (): void => void calls.push('b');
    c.addEventListener('abort', a);
    c.addEventListener('abort', b);
    c.removeEventListener('abort', a);
    c.cancel(new RawcrawlError('ERR_TIMEOUT', 'late'));
    c.cancel(new RawcrawlError('ERR_ABORTED', 'again'));
    expect(calls).toEqual(['b']);
    expect(c.aborted).toBe(true);
    expect(abortError(c, 'x')).toMatchObject({ code: 'ERR_TIMEOUT', message: 'late' });
  });

  it('gives ERR_ABORTED for a reason that is not a RawcrawlError, as for an AbortSignal', () => {
    const c = new Canceller();
    c.cancel('stop');
    expect(abortError(c, 'aborted while connecting')).toMatchObject({ code: 'ERR_ABORTED', message: 'aborted while connecting' });
    const ac = new AbortController();
    ac.abort();
    expect(abortError(ac.signal, 'gone')).toMatchObject({ code: 'ERR_ABORTED', message: 'gone' });
  });
});

describe('listenAbort', () => {
  it('puts one listener on a shared AbortSignal, runs every caller\'s once, and leaves none when all stop', () => {
    const ac = new AbortController();
    const calls: string[] = [];
    const f = (): void => void calls.push('f');
    const stops = Array.from({ length: 50 }, () => listenAbort(ac.signal, f));
    const g = listenAbort(ac.signal, () => calls.push('g'));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    for (const stop of stops.slice(0, 49)) stop();
    g();
    g(); // twice: no effect
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    stops[49]!();
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    // Listening again after all stopped, then aborting: each listener once.
    listenAbort(ac.signal, f);
    listenAbort(ac.signal, f);
    ac.abort();
    ac.abort();
    expect(calls).toEqual(['f', 'f']);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('on a Canceller adds the listener itself', () => {
    const c = new Canceller();
    const calls: number[] = [];
    const stop = listenAbort(c, () => calls.push(1));
    listenAbort(c, () => calls.push(2));
    stop();
    c.cancel(new RawcrawlError('ERR_TIMEOUT', 'x'));
    expect(calls).toEqual([2]);
  });
});
