import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../src');

/** Which top-level parts of src/ each part may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  'errors.ts': [],
  'index.ts': ['client', 'crawl', 'sinks', 'capture', 'warc'],
  http: ['errors.ts'],
  wire: ['errors.ts'],
  net: ['errors.ts', 'wire'],
  client: ['errors.ts', 'http', 'net', 'wire'],
  capture: ['errors.ts', 'http', 'net', 'wire', 'client', 'warc'],
  warc: ['errors.ts', 'http', 'wire', 'capture'],
  crawl: ['client'],
  sinks: ['errors.ts', 'net', 'crawl'],
  cli: ['errors.ts', 'http', 'net', 'wire', 'client', 'capture', 'warc', 'crawl', 'sinks'],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

function part(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

const imports = files(SRC).map((file) => {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/g)].map((m) => m[1]!);
  const dynamic = [...text.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1]!);
  return { file, part: part(file), specs: [...specs, ...dynamic] };
});

describe('architecture: the import arrows point one way', () => {
  it('every part imports only the parts below it', () => {
    const bad: string[] = [];
    for (const { file, part: from, specs } of imports) {
      for (const spec of specs) {
        if (!spec.startsWith('.')) continue;
        const to = part(path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
        if (to === from) continue;
        if (!(ALLOWED[from] ?? []).includes(to)) bad.push(`${path.relative(SRC, file)} -> ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the crawler reaches the client only through its public entry', () => {
    const bad = imports.filter((i) => i.part === 'crawl').flatMap((i) => i.specs.filter((s) => s.startsWith('../client/') && s !== '../client/index.js'));
    expect(bad).toEqual([]);
  });

  it('nothing imports the CLI', () => {
    const bad = imports.filter((i) => i.part !== 'cli').flatMap((i) => i.specs.filter((s) => /(^|\/)cli\//.test(s)));
    expect(bad).toEqual([]);
  });

  it('mysql2 is imported only by the sinks, cheerio only by the page extractor, htmlparser2 only by it and the sitemap reader', () => {
    const users = (pkg: RegExp) => imports.filter((i) => i.specs.some((s) => pkg.test(s))).map((i) => path.relative(SRC, i.file)).sort();
    expect(users(/^mysql2/).every((f) => f.startsWith('sinks/'))).toBe(true);
    expect(users(/^cheerio/)).toEqual(['crawl/extract.ts']);
    expect(users(/^htmlparser2/)).toEqual(['crawl/extract.ts', 'crawl/sitemaps.ts']);
  });
});
