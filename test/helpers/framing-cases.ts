import { chunked, response, type Step } from './raw-server.js';

const H = 'HTTP/1.1 200 OK\r\n';
export const BODY = 'The quick brown fox jumps over the lazy dog. '.repeat(8);

/** One response as a server sends it, and what rawcrawl must make of it. */
export interface FramingCase {
  name: string;
  wire: string | Buffer;
  /** The server closes after sending (otherwise it holds the connection open). */
  close?: boolean;
  /** Body (latin1), trailers and leniency kinds expected; or an error code. */
  expect: { body: string; trailers?: Array<[string, string]>; leniencies?: string[] } | { error: string };
}

/** Every framing rule, the leniencies and the malformed cases, for the end-to-end tests. */
export const FRAMING_CASES: FramingCase[] = [
  { name: 'Content-Length', wire: response('200 OK', [['Content-Length', BODY.length]], BODY), expect: { body: BODY } },
  { name: 'chunked with extensions, trailers and uppercase hex', wire: `${H}Transfer-Encoding: chunked\r\n\r\n1A;x=1\r\n${'z'.repeat(26)}\r\n0\r\nX-Sum: 26\r\n\r\n`, expect: { body: 'z'.repeat(26), trailers: [['X-Sum', '26']] } },
  { name: 'chunked, many chunks', wire: Buffer.concat([Buffer.from(`${H}Transfer-Encoding: chunked\r\n\r\n`), chunked(BODY.match(/.{1,7}/gs)!)]), expect: { body: BODY } },
  { name: 'read until close', wire: `${H}\r\n${BODY}`, close: true, expect: { body: BODY } },
  { name: 'TE + CL: chunked wins', wire: `${H}Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: { body: 'abc', leniencies: ['transfer-encoding-with-content-length'] } },
  { name: 'bare LF line ends', wire: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nhi', expect: { body: 'hi', leniencies: ['bare-lf', 'bare-lf', 'bare-lf'] } },
  { name: 'obs-fold', wire: `${H}X-Long: a\r\n  b\r\nContent-Length: 2\r\n\r\nhi`, expect: { body: 'hi', leniencies: ['obs-fold'] } },
  { name: 'duplicate identical Content-Length', wire: `${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, expect: { body: 'hello', leniencies: ['duplicate-content-length'] } },
  // Held open after the response: framed by the Content-Length, not read until a close that never comes.
  { name: 'empty Transfer-Encoding: Content-Length frames', wire: `${H}Transfer-Encoding:\r\nContent-Length: 5\r\n\r\nhelloEXTRA`, expect: { body: 'hello', leniencies: ['empty-transfer-encoding'] } },
  { name: 'bytes after the response', wire: `${H}Content-Length: 2\r\n\r\nhiEXTRA`, expect: { body: 'hi' } },
  { name: 'chunked not last', wire: `${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, close: true, expect: { error: 'ERR_INVALID_TRANSFER_ENCODING' } },
  { name: 'unknown transfer coding', wire: `${H}Transfer-Encoding: compress, chunked\r\n\r\n0\r\n\r\n`, expect: { error: 'ERR_INVALID_TRANSFER_ENCODING' } },
  { name: 'conflicting Content-Length', wire: `${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, expect: { error: 'ERR_INVALID_CONTENT_LENGTH' } },
  { name: 'bad status line', wire: 'HTTP/1.1 OK\r\n\r\n', expect: { error: 'ERR_INVALID_STATUS_LINE' } },
  { name: 'bad header', wire: `${H}Bad Header: x\r\n\r\n`, expect: { error: 'ERR_INVALID_HEADER' } },
  { name: 'bad chunk size', wire: `${H}Transfer-Encoding: chunked\r\n\r\nxyz\r\n`, expect: { error: 'ERR_INVALID_CHUNK' } },
  { name: 'missing CRLF after chunk data', wire: `${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n`, expect: { error: 'ERR_INVALID_CHUNK' } },
  { name: '101 Switching Protocols', wire: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n', expect: { error: 'ERR_UNEXPECTED_RESPONSE' } },
  { name: 'close in the headers', wire: `${H}Content-Len`, close: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
  { name: 'close in a Content-Length body', wire: `${H}Content-Length: 100\r\n\r\nshort`, close: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
  { name: 'close in a chunk', wire: `${H}Transfer-Encoding: chunked\r\n\r\n10\r\nabc`, close: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
  { name: 'close without the last chunk', wire: `${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`, close: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
  { name: 'close before any byte', wire: '', close: true, expect: { error: 'ERR_PREMATURE_CLOSE' } },
];

/** Ways a raw server delivers a case's bytes. */
export type Delivery = [string, (wire: string | Buffer) => Step[]];
export const DELIVERIES: Delivery[] = [
  ['whole', (w) => [{ send: w }]],
  ['byte at a time', (w) => [{ bytes: w }]],
  ['in 7-byte pieces', (w) => [{ split: w, sizes: [7] }]],
];
