import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ensureBuilt, ROOT } from './helpers/build.js';

interface Pkg {
  name: string;
  type: string;
  bin: Record<string, string>;
  files: string[];
  exports: Record<string, { types: string; import: string } | string>;
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;

/** Imports a specifier by package self-reference in a fresh Node, from the package root. */
function importInNode(specifier: string): Record<string, string> {
  const code = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]))));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' })) as Record<string, string>;
}

/** Every relative import reachable from a built JS file, and the bare packages it pulls in. */
function importGraph(entry: string): Set<string> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) bare.add(spec.split('/')[0]!);
    }
  };
  visit(entry);
  return bare;
}

describe('what the package ships', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('is an ESM package with a bin', () => {
    expect(pkg.name).toBe('rawcrawl');
    expect(pkg.type).toBe('module');
    expect(pkg.bin.rawcrawl).toBe('bin/rawcrawl');
    expect(existsSync(join(ROOT, pkg.bin.rawcrawl))).toBe(true);
    for (const f of ['dist', 'bin']) expect(pkg.files).toContain(f);
  });

  it.each(['.', './client'])('exports %s point at built JS with .d.ts', (key) => {
    const entry = pkg.exports[key];
    expect(typeof entry).toBe('object');
    const { types, import: js } = entry as { types: string; import: string };
    expect(js).toMatch(/^\.\/dist\/.*\.js$/);
    expect(types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
    expect(existsSync(join(ROOT, js))).toBe(true);
    expect(existsSync(join(ROOT, types))).toBe(true);
    const dts = readFileSync(join(ROOT, types), 'utf8');
    expect(dts).toMatch(/request|export \*/);
  });

  it.each(['rawcrawl', 'rawcrawl/client'])('import %s resolves by self-reference and exports the client API', (spec) => {
    const names = importInNode(spec);
    expect(names.request).toBe('function');
    expect(names.RawcrawlError).toBe('function');
    expect(names.ERROR_CODES).toBe('object');
    expect(names.ResponseParser).toBe('function');
  });

  it.each(['rawcrawl', 'rawcrawl/client', 'rawcrawl/mysql'])('require(%s) works from CommonJS too (Node 20.19+ loads ESM by require), with no warning', (spec) => {
    const code = `const m = require(${JSON.stringify(spec)}); console.log(JSON.stringify(Object.keys(m).filter((k) => ['request', 'crawl', 'RawcrawlError', 'MysqlSink'].includes(k)).sort()));`;
    const r = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const expected = spec === 'rawcrawl' ? ['RawcrawlError', 'crawl', 'request'] : spec === 'rawcrawl/client' ? ['RawcrawlError', 'request'] : ['MysqlSink'];
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('RawcrawlError from the package is a real Error with a code', () => {
    const code = `import { RawcrawlError } from 'rawcrawl'; const e = new RawcrawlError('ERR_TIMEOUT', 'x', { offset: 3 }); console.log(JSON.stringify([e instanceof Error, e.code, e.offset, e.name]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, 'ERR_TIMEOUT', 3, 'RawcrawlError']);
  });

  it('rawcrawl/client pulls in neither cheerio, htmlparser2 nor mysql2', () => {
    const bare = importGraph(join(ROOT, 'dist/client/index.js'));
    expect(bare.has('cheerio')).toBe(false);
    expect(bare.has('htmlparser2')).toBe(false);
    expect(bare.has('mysql2')).toBe(false);
  });

  it('its types compile in a strict consumer, exactOptionalPropertyTypes included', () => {
    // Inside the package, so that "rawcrawl" resolves to it by self-reference, as for a user.
    const dir = mkdtempSync(join(ROOT, '.consumer-'));
    try {
      writeFileSync(
        join(dir, 'consumer.ts'),
        [
          "import { chainListeners, crawl, request, RawcrawlError, type WireEvent } from 'rawcrawl';",
          "import { openConnection, ResponseParser } from 'rawcrawl/client';",
          'const seen: WireEvent[] = [];',
          "const res = await request('http://127.0.0.1:1/', { onWire: chainListeners([(e) => seen.push(e), undefined]), timeoutMs: 1000 });",
          'const status: number = res.status;',
          "for await (const page of crawl({ startUrls: ['http://127.0.0.1:1/'], onWire: chainListeners([]) })) console.log(page.url, status);",
          'void openConnection; void ResponseParser; void RawcrawlError;',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, exactOptionalPropertyTypes: true, noEmit: true, types: ['node'] }, files: ['consumer.ts'] }),
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const out = (() => {
        try {
          return execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
        } catch (err) {
          return String((err as { stdout?: string }).stdout ?? err);
        }
      })();
      expect(out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
