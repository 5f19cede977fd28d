import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';
import { fixtureSite } from './helpers/fixture-site.js';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

/** The code block after `<!-- readme-example:NAME -->` in README.md. */
function example(name: string): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- readme-example:${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README has no example ${name}`);
  return m[1]!;
}

describe('README', () => {
  it('the crawl() example runs as written against a local site', async () => {
    const site = await fixtureSite();
    try {
      const code = example('crawl').replace('http://127.0.0.1:8080/', `${site.origin}/`);
      // Inside the package folder, so `import 'rawcrawl'` resolves by self-reference to dist/.
      const dir = mkdtempSync(path.join(ROOT, '.readme-'));
      const file = path.join(dir, 'example.mjs');
      writeFileSync(file, code);
      let stdout: string;
      try {
        ({ stdout } = await run(process.execPath, [file], { cwd: ROOT, timeout: 30_000 }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const lines = stdout.trim().split('\n');
      expect(lines.at(-1)).toBe('21 pages fetched');
      expect(lines).toContain(`200 ${site.origin}/a Page A Page A`);
      expect(lines.length).toBe(21); // 20 stored pages + the count line
    } finally {
      await site.close();
    }
  });

  it('documents every error code', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) expect(readme).toContain(code);
  });
});
