import { describe, expect, it } from 'vitest';
import { TlsSessionCache, tlsSessionKey } from '../../src/net/tls-sessions.js';

const entry = (s: string) => ({ session: Buffer.from(s) });

describe('TlsSessionCache', () => {
  it('keeps the most recently stored sessions, at most max', () => {
    const c = new TlsSessionCache(2);
    c.set('a', entry('1'));
    c.set('b', entry('2'));
    c.set('a', entry('3')); // stored again: now the newest
    c.set('c', entry('4'));
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')?.session.toString()).toBe('3');
    expect(c.get('c')?.session.toString()).toBe('4');
    c.delete('a');
    expect(c.get('a')).toBeUndefined();
  });
});

describe('tlsSessionKey', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const base = tlsSessionKey('example.test', 443, 'example.test', undefined, true);

  it.each([
    ['another host', tlsSessionKey('other.test', 443, 'example.test', undefined, true)],
    ['another port', tlsSessionKey('example.test', 8443, 'example.test', undefined, true)],
    ['another server name', tlsSessionKey('example.test', 443, 'www.example.test', undefined, true)],
    ['no server name', tlsSessionKey('example.test', 443, undefined, undefined, true)],
    ['a CA list', tlsSessionKey('example.test', 443, 'example.test', PEM, true)],
    ['no verification', tlsSessionKey('example.test', 443, 'example.test', undefined, false)],
  ])('differs with %s', (_, key) => {
    expect(key).not.toBe(base);
  });

  it('is the same for the same CA given as a string, a Buffer or a list of one', () => {
    const k = tlsSessionKey('example.test', 443, 'example.test', PEM, true);
    expect(tlsSessionKey('example.test', 443, 'example.test', Buffer.from(PEM), true)).toBe(k);
    expect(tlsSessionKey('example.test', 443, 'example.test', [PEM], true)).toBe(k);
    expect(tlsSessionKey('example.test', 443, 'example.test', [PEM, PEM], true)).not.toBe(k);
  });
});
