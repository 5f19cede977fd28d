import { describe, expect, it } from 'vitest';
import { tlsSessionKey } from '../../src/net/tls-sessions.js';

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
