import { describe, expect, it } from 'vitest';
import { parseDuration, parseTimeout } from '../../src/cli/values.js';

describe('duration flags', () => {
  it('read milliseconds, seconds, minutes and hours', () => {
    const cases: Array<[string, number]> = [
      ['500', 500],
      ['500ms', 500],
      ['1.5s', 1500],
      ['2m', 120_000],
      ['1h', 3_600_000],
      ['0.5H', 1_800_000],
      [' 30 s ', 30_000],
      ['0', 0],
    ];
    for (const [text, ms] of cases) expect(parseDuration(text), text).toBe(ms);
  });

  it('name what is wrong with a bad one; a time limit must be above 0', () => {
    expect(() => parseDuration('2d')).toThrow('"2d" is not a duration (examples: 500, 500ms, 30s, 2m, 1h)');
    expect(() => parseDuration('-1s')).toThrow(/is not a duration/);
    expect(() => parseTimeout('0')).toThrow('"0" is not a time limit: it must be above 0 (examples: 500, 30s, 2m)');
    expect(parseTimeout('2h')).toBe(7_200_000);
  });
});

describe('the idle limit the CLI sets', () => {
  it('is --idle-timeout, else a --timeout longer than 15 s, else left to request()', async () => {
    const { idleTimeoutFrom } = await import('../../src/cli/values.js');
    expect(idleTimeoutFrom(500, 60_000)).toBe(500);
    expect(idleTimeoutFrom(undefined, 60_000)).toBe(60_000);
    expect(idleTimeoutFrom(undefined, 10_000)).toBeUndefined();
    expect(idleTimeoutFrom(undefined, undefined)).toBeUndefined();
  });
});
