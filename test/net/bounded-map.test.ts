import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/net/bounded-map.js';

describe('BoundedMap', () => {
  it('keeps the most recently stored entries, at most max', () => {
    const c = new BoundedMap<string>(2);
    c.set('a', '1');
    c.set('b', '2');
    c.set('a', '3'); // stored again: now the newest
    c.set('c', '4');
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe('3');
    expect(c.get('c')).toBe('4');
    c.delete('a');
    expect(c.get('a')).toBeUndefined();
  });
});
