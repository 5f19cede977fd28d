import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Builds dist/ once if it is missing (tests that run the shipped JS need it). */
export function ensureBuilt(): void {
  if (existsSync(`${ROOT}/dist/index.js`) && existsSync(`${ROOT}/dist/cli/main.js`) && existsSync(`${ROOT}/dist/client/index.js`)) return;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
}
