import { InvalidArgumentError } from 'commander';
import { REQUEST_DEFAULTS } from '../client/options.js';
import { parseResolveEntry } from '../client/resolve.js';
import { RawcrawlError } from '../errors.js';
import { validateHeaders, type HeaderPairs } from '../http/request-writer.js';

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** "16M", "512k", "1048576" → bytes (binary units). */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError(`"${value}" is not a size (examples: 1048576, 512k, 16M)`);
  return Math.floor(Number(m[1]) * unit);
}

/** "1500", "1500ms", "30s", "2m", "1h" → milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a duration (examples: 500, 500ms, 30s, 2m, 1h)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  return Math.round(n * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1));
}

/** A time limit: a duration of at least 1 ms (0 would fail every request). */
export function parseTimeout(value: string): number {
  const ms = parseDuration(value);
  if (ms < 1) throw new InvalidArgumentError(`"${value}" is not a time limit: it must be above 0 (examples: 500, 30s, 2m)`);
  return ms;
}

export function parseCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return Number(value);
}

/** A whole number of at least 1 (a count where 0 would mean "do nothing"). */
export function parsePositive(value: string): number {
  const n = parseCount(value);
  if (n < 1) throw new InvalidArgumentError(`"${value}" must be at least 1`);
  return n;
}

/** An interval between repeated lines: a duration of at least 100 ms. */
export function parseInterval(value: string): number {
  const ms = parseDuration(value);
  if (ms < 100) throw new InvalidArgumentError(`"${value}" is too short an interval: at least 100ms`);
  return ms;
}

/** A TCP port, 0 (any) to 65535. */
export function parsePort(value: string): number {
  const n = parseCount(value);
  if (n > 65535) throw new InvalidArgumentError(`"${value}" is not a port (0 to 65535)`);
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * One -H line, as curl reads it: "Name: value" → [name, value]; "Name:" with nothing after it
 * sends no field of that name, not even rawcrawl's default one (null); "Name;" sends the field
 * with an empty value. Checked as request() checks a header (a token for a name, no CR, LF or NUL
 * in the value, not one rawcrawl manages), so that a bad one is a usage error.
 */
export function parseHeaderLine(line: string): [string, string | null] {
  const i = line.indexOf(':');
  const empty = i === -1 && line.trimEnd().endsWith(';') ? line.trimEnd().slice(0, -1).trim() : null;
  if (empty !== null && empty !== '') return checkedHeader([empty, '']);
  if (i <= 0) throw new InvalidArgumentError(`header "${line}" is not "Name: value" ("Name:" leaves the field out, "Name;" sends it empty)`);
  const value = line.slice(i + 1).trim();
  return checkedHeader([line.slice(0, i).trim(), value === '' ? null : value]);
}

function checkedHeader(pair: [string, string | null]): [string, string | null] {
  try {
    validateHeaders([pair]);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof RawcrawlError ? err.message : String(err));
  }
  return pair;
}

/** Repeatable -H: each "Name: value" checked while the flags are parsed, so a bad one is a usage error. */
export function collectHeader(value: string, previous: HeaderPairs = []): HeaderPairs {
  return [...previous, parseHeaderLine(value)];
}

/** Repeatable --resolve host:port:addr[,addr…] (curl's), checked while the flags are parsed. */
export function collectResolve(value: string, previous: Record<string, string> = {}): Record<string, string> {
  try {
    const [key, addresses] = parseResolveEntry(value);
    return { ...previous, [key]: addresses };
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** --max-header-size: a size of at least 1 byte (no response head fits in 0). */
export function parseHeaderSize(value: string): number {
  const n = parseSize(value);
  if (n < 1) throw new InvalidArgumentError(`"${value}" is not a limit on the response head: it must be above 0 (examples: 128k, 1M)`);
  return n;
}

/**
 * The idle limit the CLI gives request(): --idle-timeout, else --timeout when it was given and is
 * longer than request()'s 15 s default, so that a slow server is waited for as long as --timeout
 * says (as curl -m does); else none (the default).
 */
export function idleTimeoutFrom(idleTimeout: number | undefined, timeout: number | undefined): number | undefined {
  if (idleTimeout !== undefined) return idleTimeout;
  return timeout !== undefined && timeout > REQUEST_DEFAULTS.idleTimeoutMs ? timeout : undefined;
}
