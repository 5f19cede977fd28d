import { describe, expect, it } from 'vitest';
import { request } from '../../src/client/request.js';
import { parseResolve, parseResolveEntry, type ResolveMap } from '../../src/client/resolve.js';
import type { WireEvent } from '../../src/wire/events.js';
import { WireFormatter } from '../../src/wire/format.js';
import { failure } from '../helpers/failure.js';
import { rawServers, response } from '../helpers/raw-server.js';
import { tlsServer } from '../helpers/tls-server.js';

const serve = rawServers();

describe('resolve (curl --resolve)', () => {
  it('connects to the given address while Host, SNI and the certificate check use the name', async () => {
    const target = await tlsServer('pinned');
    const plain = await serve([{ send: response('200 OK', [['Content-Length', 2]], 'ok') }, { end: true }]);
    try {
      const events: WireEvent[] = [];
      // Without the map this name resolves nowhere.
      const res = await request(`https://www.example.invalid:${target.port}/`, {
        resolve: { [`www.example.invalid:${target.port}`]: '127.0.0.1' },
        tls: { ca: target.cert, servername: 'localhost' },
        onWire: (e) => events.push(e),
      });
      expect(res.text()).toBe('pinned');
      expect(target.requests[0]!.toString('latin1')).toContain(`\r\nHost: www.example.invalid:${target.port}\r\n`);
      expect(new WireFormatter().format(events.find((e) => e.type === 'dns')!)[0]).toMatch(/\* dns www\.example\.invalid -> 127\.0\.0\.1 family=4 0\.000ms pinned$/);
      // host:* applies to any port; a key for another port does not apply.
      expect((await request(`http://WWW.Example.invalid:${plain.port}/`, { resolve: { 'www.example.invalid:*': ['127.0.0.1'] } })).text()).toBe('ok');
      expect((await failure(request(`http://www.example.invalid:${plain.port}/`, { resolve: { 'www.example.invalid:1': '127.0.0.1' } }))).code).toBe('ERR_DNS');
      expect(parseResolve({ '[::1]:443': '[::1], 127.0.0.1' }).get('::1:443')).toEqual([{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }]);
      const bads: ResolveMap[] = [{ host: '127.0.0.1' }, { 'host:0': '127.0.0.1' }, { 'host:80': 'not-an-ip' }, { 'host:80': [] }];
      for (const bad of bads) {
        expect(() => parseResolve(bad), JSON.stringify(bad)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
      }
      expect(parseResolveEntry('example.org:443:10.0.0.1,10.0.0.2')).toEqual(['example.org:443', '10.0.0.1,10.0.0.2']);
      expect(() => parseResolveEntry('example.org:10.0.0.1')).toThrowError(/is not host:port:address/);
    } finally {
      await target.close();
    }
  });
});
