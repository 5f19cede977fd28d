import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { WireFormatter, escapeBytes } from '../../src/wire/format.js';
import { wireTraceWriter } from '../../src/wire/trace-writer.js';
import { chainListeners, rawOnlyListener, type WireEvent } from '../../src/wire/events.js';
import { request } from '../../src/client/request.js';
import { rawServer, response, type RawServer, type Step } from '../helpers/raw-server.js';
import { closeAfterEach } from '../helpers/close-after-each.js';

const track = closeAfterEach();
async function serve(script: Parameters<typeof rawServer>[0]): Promise<RawServer> {
  const s = await rawServer(script);
  track(s);
  return s;
}

const ev = (e: Partial<WireEvent> & Pick<WireEvent, 'type'>, conn = 1, t = 1.5): WireEvent => ({ conn, t, ...e }) as WireEvent;

/** Reads a trace line back: connection, direction, part, offset, length, bytes. */
const LINE = /^c(\d+) \+(\d+\.\d{3})ms ([<>*]) (\S+)(?: @(\d+) (\d+)(?: "(.*)")?)?/;
function unescape(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      out.push(s.charCodeAt(i));
      continue;
    }
    const c = s[++i];
    if (c === 'r') out.push(13);
    else if (c === 'n') out.push(10);
    else if (c === 't') out.push(9);
    else if (c === 'x') {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c!.charCodeAt(0));
  }
  return Buffer.from(out);
}

describe('WireFormatter', () => {
  it('makes CR, LF, TAB, quotes, backslashes and binary bytes visible', () => {
    expect(escapeBytes(Buffer.from('a\r\n\t"\\\x00\x7f\xff', 'latin1'))).toBe('a\\r\\n\\t\\"\\\\\\x00\\x7f\\xff');
  });

  it('prints one trace line per wire line, with offsets and lengths', () => {
    const f = new WireFormatter();
    const lines = f.format(ev({ type: 'send', part: 'head', data: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') }, 3, 0.25));
    expect(lines).toEqual([
      'c3 +0.250ms > head @0 16 "GET / HTTP/1.1\\r\\n"',
      'c3 +0.250ms > head @16 9 "Host: x\\r\\n"',
      'c3 +0.250ms > head @25 2 "\\r\\n"',
    ]);
  });

  it('labels chunk-size lines as framing', () => {
    const f = new WireFormatter();
    expect(f.format(ev({ type: 'recv', part: 'framing', offset: 118, data: Buffer.from('1a\r\n') }, 3, 1.204))).toEqual(['c3 +1.204ms < framing @118 4 "1a\\r\\n"']);
  });

  it('shows body bytes up to the limit per connection, then only counts', () => {
    const f = new WireFormatter({ bodyLimit: 10 });
    const body = (conn: number, offset: number, s: string): string[] => f.format(ev({ type: 'recv', part: 'body', offset, data: Buffer.from(s) }, conn));
    expect(body(1, 0, '12345678')).toEqual(['c1 +1.500ms < body @0 8 "12345678"']);
    expect(body(1, 8, 'abcdefgh')).toEqual(['c1 +1.500ms < body @8 8 "ab" (+6 not shown)']);
    expect(body(1, 16, 'zz')).toEqual(['c1 +1.500ms < body @16 2 (not shown)']);
    expect(body(2, 0, 'other conn')).toEqual(['c2 +1.500ms < body @0 10 "other conn"']);
    f.format(ev({ type: 'close', reason: 'complete' }, 1));
    expect(f.format(ev({ type: 'recv', part: 'body', offset: 0, data: Buffer.from('x') }, 1))).toEqual(['c1 +1.500ms < body @0 1 "x"']);
  });

  it('shows bytes left unparsed up to the body limit, as a body, so that an error after a long line prints no 64 KB line', () => {
    const f = new WireFormatter({ bodyLimit: 6 });
    const unparsed = (s: string): string[] => f.format(ev({ type: 'recv', part: 'unparsed', offset: 40, data: Buffer.from(s) }));
    expect(unparsed('ab\ncd')).toEqual(['c1 +1.500ms < unparsed @40 3 "ab\\n"', 'c1 +1.500ms < unparsed @43 2 "cd"']);
    expect(unparsed('x'.repeat(65536))).toEqual(['c1 +1.500ms < unparsed @40 6 "xxxxxx"', 'c1 +1.500ms < unparsed @46 65530 (not shown)']);
    expect(new WireFormatter({ bodyLimit: 6, full: true }).format(ev({ type: 'recv', part: 'unparsed', offset: 0, data: Buffer.from('y'.repeat(100)) }))).toEqual([`c1 +1.500ms < unparsed @0 100 "${'y'.repeat(100)}"`]);
  });

  it('shows whole bodies with full: true', () => {
    const f = new WireFormatter({ full: true });
    const big = 'b'.repeat(5000);
    expect(f.format(ev({ type: 'recv', part: 'body', offset: 0, data: Buffer.from(big) }))).toEqual([`c1 +1.500ms < body @0 5000 "${big}"`]);
  });

  it('formats connection events', () => {
    const f = new WireFormatter();
    expect(f.format(ev({ type: 'open', url: 'https://x/', host: 'x', port: 443, tls: true }))).toEqual(['c1 +1.500ms * open https://x/ host=x port=443 tls']);
    expect(f.format(ev({ type: 'dns', host: 'x', address: '10.0.0.1', family: 4, ms: 2 }))).toEqual(['c1 +1.500ms * dns x -> 10.0.0.1 family=4 2.000ms']);
    expect(f.format(ev({ type: 'error', code: 'ERR_INVALID_CHUNK', message: 'bad' }))).toEqual(['c1 +1.500ms * error ERR_INVALID_CHUNK bad']);
    expect(f.format(ev({ type: 'close', reason: 'error ERR_INVALID_CHUNK' }))).toEqual(['c1 +1.500ms * close error ERR_INVALID_CHUNK']);
  });

  it('wireTraceWriter traces only the connections whose URL matches', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const w = wireTraceWriter(out, { match: (u) => u.includes('/keep') });
    w(ev({ type: 'open', url: 'http://h/keep', host: 'h', port: 80, tls: false }, 1));
    w(ev({ type: 'open', url: 'http://h/drop', host: 'h', port: 80, tls: false }, 2));
    w(ev({ type: 'first-byte' }, 2));
    w(ev({ type: 'first-byte' }, 1));
    w(ev({ type: 'close', reason: 'complete' }, 1));
    w(ev({ type: 'first-byte' }, 1));
    expect(text.trim().split('\n').map((l) => l.split(' ')[0] + ' ' + l.split(' ').slice(2).join(' '))).toEqual([
      'c1 * open http://h/keep host=h port=80',
      'c1 * first-byte',
      'c1 * close complete',
    ]);
  });
});

interface Conn {
  url: string;
  send: Buffer;
  recv: Buffer;
  reads: number;
  /** The bytes of the read events, joined. */
  readData: Buffer;
  types: string[];
}
/** Groups raw events by connection and joins their bytes. */
function byConn(events: WireEvent[]): Map<number, Conn> {
  const m = new Map<number, Conn>();
  for (const e of events) {
    const c = m.get(e.conn) ?? { url: '', send: Buffer.alloc(0), recv: Buffer.alloc(0), reads: 0, readData: Buffer.alloc(0), types: [] };
    m.set(e.conn, c);
    c.types.push(e.type === 'recv' ? `recv:${e.part}` : e.type);
    if (e.type === 'open') c.url = e.url;
    if (e.type === 'send') c.send = Buffer.concat([c.send, e.data]);
    if (e.type === 'recv') {
      expect(e.offset).toBe(c.recv.length);
      c.recv = Buffer.concat([c.recv, e.data]);
    }
    if (e.type === 'read') {
      expect(e.offset).toBe(c.reads);
      expect(e.data.length).toBe(e.size);
      c.reads += e.size;
      c.readData = Buffer.concat([c.readData, e.data]);
    }
  }
  return m;
}

describe('onWire end to end', () => {
  it('every byte sent and received appears exactly once, per connection, with 12 connections interleaved', async () => {
    const s = await serve((id): Step[] => {
      const body = `connection ${id} `.repeat(50 + id * 7);
      return id % 2 === 0
        ? [{ split: response('200 OK', [['Content-Length', body.length]], body), sizes: [5, 17, 64] }, { hold: true }]
        : [{ split: Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), Buffer.from(`${body.length.toString(16)}\r\n${body}\r\n0\r\nX-T: ${id}\r\n\r\n`)]), sizes: [3, 40] }, { hold: true }];
    });
    const events: WireEvent[] = [];
    const out = new PassThrough();
    let trace = '';
    out.on('data', (d: Buffer) => (trace += d.toString('latin1')));
    const writer = wireTraceWriter(out, { full: true });
    const onWire = (e: WireEvent): void => {
      events.push(e);
      writer(e);
    };
    await Promise.all(Array.from({ length: 12 }, (_, k) => request(`${s.origin}/r${k}`, { onWire })));
    const conns = byConn(events);
    expect(conns.size).toBe(12);
    for (const [, c] of conns) {
      const k = /\/r(\d+)$/.exec(c.url)![1];
      const j = s.requests.findIndex((r) => r.toString('latin1').startsWith(`GET /r${k} `));
      expect(c.send.equals(s.requests[j]!)).toBe(true);
      expect(c.recv.equals(s.sent[j]!)).toBe(true);
      expect(c.reads).toBe(c.recv.length);
      // The read events carry the same bytes the recv events label, split where the socket split them.
      expect(c.readData.equals(s.sent[j]!)).toBe(true);
      expect(c.types[0]).toBe('open');
      expect(c.types.at(-1)).toBe('close');
    }
    // The readable trace, parsed back, gives the same bytes per connection.
    const recvFromTrace = new Map<number, Buffer[]>();
    for (const line of trace.trim().split('\n')) {
      const m = LINE.exec(line);
      expect(m, line).not.toBeNull();
      if (m![3] === '<' && m![4] !== 'read') {
        const data = unescape(m![7]!);
        expect(data.length).toBe(Number(m![6]));
        recvFromTrace.set(Number(m![1]), [...(recvFromTrace.get(Number(m![1])) ?? []), data]);
      }
    }
    for (const [id, c] of conns) expect(Buffer.concat(recvFromTrace.get(id)!).equals(c.recv)).toBe(true);
    expect(trace).toMatch(/< framing @\d+ \d+ "[0-9a-f]+\\r\\n"/);
  });

  it.each([
    ['a bad header', 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nBad Header: x\r\nContent-Length: 4\r\n\r\nbody', 'ERR_INVALID_HEADER'],
    ['a bad chunk after some body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\nzz\r\nmore\r\n0\r\n\r\n', 'ERR_INVALID_CHUNK'],
    ['a Content-Length over the limit', 'HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n' + 'x'.repeat(300), 'ERR_BODY_TOO_LARGE'],
  ])('on %s the rest appears once, as part unparsed', async (_, wire, code) => {
    const s = await serve([{ send: wire }, { end: true }]);
    const events: WireEvent[] = [];
    await expect(request(`${s.origin}/`, { maxBodyBytes: 100, onWire: (e) => events.push(e) })).rejects.toMatchObject({ code });
    const [c] = [...byConn(events).values()];
    expect(c!.send.equals(s.requests[0]!)).toBe(true);
    expect(c!.recv.toString('latin1')).toBe(wire);
    expect(c!.types).toContain('recv:unparsed');
    expect(c!.types.slice(-2)).toEqual(['error', 'close']);
    const close = events.at(-1)!;
    expect(close).toMatchObject({ type: 'close', reason: `error ${code}` });
  });

  it('bytes after a complete response appear once, as part unparsed', async () => {
    const wire = response('200 OK', [['Content-Length', 2]], 'hiEXTRA BYTES');
    const s = await serve([{ send: wire }, { hold: true }]);
    const events: WireEvent[] = [];
    const res = await request(`${s.origin}/`, { onWire: (e) => events.push(e) });
    expect(res.text()).toBe('hi');
    const c = byConn(events).get(events[0]!.conn)!;
    expect(c.recv.equals(wire)).toBe(true);
    expect(c.types.slice(-2)).toEqual(['recv:unparsed', 'close']);
  });

  it('byte-at-a-time delivery shows up as many reads', async () => {
    const wire = response('200 OK', [['Content-Length', 5]], 'hello');
    const s = await serve([{ bytes: wire, everyMs: 2 }, { hold: true }]);
    const events: WireEvent[] = [];
    await request(`${s.origin}/`, { onWire: (e) => events.push(e) });
    expect(events.filter((e) => e.type === 'read').length).toBeGreaterThan(wire.length / 2);
    expect(byConn(events).get(events[0]!.conn)!.recv.equals(wire)).toBe(true);
  });

  it('a raw-only listener gets every byte in its reads and no recv labels; chained with a full listener, both get everything', async () => {
    const body = 'chunk of body '.repeat(40);
    const wire = Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`, 'latin1');
    const s = await serve([{ split: wire, sizes: [7, 30, 100] }, { hold: true }]);
    const raw: WireEvent[] = [];
    const keep = (e: WireEvent): void => {
      raw.push(e);
    };
    const onlyRaw = rawOnlyListener(keep);
    expect(onlyRaw.rawOnly).toBe(true);
    // The function given is left a full listener.
    expect((keep as { rawOnly?: boolean }).rawOnly).toBeUndefined();
    await request(`${s.origin}/a`, { onWire: onlyRaw });
    const c = byConn(raw).get(raw[0]!.conn)!;
    expect(c.readData.equals(wire)).toBe(true);
    expect(c.send.equals(s.requests[0]!)).toBe(true);
    expect(c.types.filter((t) => t.startsWith('recv'))).toEqual([]);
    expect(c.types).toEqual(expect.arrayContaining(['open', 'connected', 'send', 'read', 'head-end', 'body-end', 'close']));

    // Chained: the chain is raw-only only when every listener is, so the full one still gets labels.
    const raw2: WireEvent[] = [];
    const full: WireEvent[] = [];
    const both = chainListeners([rawOnlyListener((e) => raw2.push(e)), (e) => full.push(e)])!;
    expect(both.rawOnly).not.toBe(true);
    expect(chainListeners([onlyRaw, rawOnlyListener(() => {})])!.rawOnly).toBe(true);
    expect(chainListeners([undefined, onlyRaw])).toBe(onlyRaw);
    await request(`${s.origin}/b`, { onWire: both });
    const f = byConn(full).get(full[0]!.conn)!;
    expect(f.recv.equals(wire)).toBe(true);
    expect(f.types).toContain('recv:framing');
    expect(byConn(raw2).get(raw2[0]!.conn)!.readData.equals(wire)).toBe(true);
  });

  it('the connected event names the address connected to and, read during the event, the local end', async () => {
    const s = await serve([{ send: response('200 OK', [['Content-Length', 2]], 'hi') }, { end: true }]);
    let local = '';
    let remote = '';
    await request(`${s.origin}/`, {
      onWire: (e) => {
        if (e.type === 'connected') ({ local, remote } = e);
      },
    });
    expect(remote).toBe(`127.0.0.1:${s.port}`);
    expect(local).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Number(local.split(':')[1])).not.toBe(s.port);
    expect(Number(local.split(':')[1])).toBeGreaterThan(0);
  });

  it('a connection that fails to connect still opens and closes in the trace', async () => {
    const events: WireEvent[] = [];
    await expect(request('http://127.0.0.1:1/', { onWire: (e) => events.push(e) })).rejects.toMatchObject({ code: 'ERR_CONNECT' });
    expect(events.map((e) => e.type)).toEqual(['open', 'error', 'close']);
  });
});
