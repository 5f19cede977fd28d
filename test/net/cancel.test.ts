import { describe, expect, it } from 'vitest';
import { Canceller } from '../../src/net/cancel.js';
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
