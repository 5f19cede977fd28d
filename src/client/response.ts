import { fieldValue } from '../http/abnf.js';
import type { Leniency } from '../http/leniency.js';
import type { RawHeader } from '../http/response-parser.js';
import { decodeText, sniffEncoding } from './charset.js';

/** Milliseconds from the start of the final exchange until each phase completed (curl style). */
export interface Timings {
  /** Name resolved (0 for an IP literal). */
  dns: number;
  /** TCP connected. */
  connect: number;
  /** TLS handshake done (equals `connect` without TLS). */
  tls: number;
  /** First response byte received. */
  firstByte: number;
  /** Last byte of the response received and decoded. */
  total: number;
}

export interface RedirectHop {
  url: string;
  status: number;
  location: string;
}

export interface ResponseInit {
  url: string;
  status: number;
  statusText: string;
  httpVersion: string;
  rawHeaders: RawHeader[];
  rawTrailers: RawHeader[];
  body: Buffer;
  redirects: RedirectHop[];
  timings: Timings;
  leniencies: Leniency[];
  remoteAddress: string;
  /** The body was cut at maxBodyBytes (RequestOptions.truncateBody); default false. */
  truncated?: boolean;
}

function toHeaders(raw: RawHeader[]): Headers {
  const h = new Headers();
  for (const [n, v] of raw) h.append(n, v);
  return h;
}

export class HttpResponse {
  /** Final URL, after redirects. */
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  /** "1.1" or "1.0". */
  readonly httpVersion: string;
  /** Header fields in wire order with their original case. */
  readonly rawHeaders: RawHeader[];
  /** Trailer fields in wire order (chunked responses only). */
  readonly rawTrailers: RawHeader[];
  /** The body, de-chunked and decoded (gzip, deflate, br). */
  readonly body: Buffer;
  /** Every redirect followed, in order. */
  readonly redirects: RedirectHop[];
  readonly timings: Timings;
  /** Where the parser accepted bytes a strict reading would not. */
  readonly leniencies: Leniency[];
  /** The IP address the final exchange went to. */
  readonly remoteAddress: string;
  /**
   * The body is only the first maxBodyBytes (decoded) of a longer one: asked for with
   * RequestOptions.truncateBody. Always false without it.
   */
  readonly truncated: boolean;
  private headersCache: Headers | undefined;
  private trailersCache: Headers | undefined;

  constructor(init: ResponseInit) {
    this.url = init.url;
    this.status = init.status;
    this.statusText = init.statusText;
    this.httpVersion = init.httpVersion;
    this.rawHeaders = init.rawHeaders;
    this.rawTrailers = init.rawTrailers;
    this.body = init.body;
    this.redirects = init.redirects;
    this.timings = init.timings;
    this.leniencies = init.leniencies;
    this.remoteAddress = init.remoteAddress;
    this.truncated = init.truncated ?? false;
  }

  /** WHATWG Headers (case-insensitive get, getSetCookie()); built on first use. */
  get headers(): Headers {
    return (this.headersCache ??= toHeaders(this.rawHeaders));
  }

  get trailers(): Headers {
    return (this.trailersCache ??= toHeaders(this.rawTrailers));
  }

  /**
   * One header field's value as `headers.get(name)` gives it (every line of that name, joined
   * with ", "; null when absent), read from rawHeaders without building the Headers.
   */
  header(name: string): string | null {
    return fieldValue(this.rawHeaders, name.toLowerCase());
  }

  /** The encoding text() uses: BOM, Content-Type charset, <meta> prescan, else windows-1252. */
  get encoding(): string {
    return sniffEncoding(this.body, this.header('content-type'));
  }

  /** The body decoded to a string by its real charset. */
  text(): string {
    return decodeText(this.body, this.header('content-type'));
  }

  json(): unknown {
    return JSON.parse(this.text());
  }
}
