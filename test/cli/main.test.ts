import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../helpers/memory-io.js';

async function run(...args: string[]): Promise<{ code: number; err: string }> {
  const m = memoryIo();
  const code = await main(['node', 'rawcrawl', ...args], m.io);
  return { code, err: m.err() };
}

describe('rawcrawl (commands and their flags)', () => {
  it('a mistyped flag is one readable line with the suggestion, no literal \\n in it', async () => {
    expect(await run('status', '--mysql', 'mysql://root@127.0.0.1:1/x', '--crawl-id', 'c', '--jsno')).toEqual({
      code: 2,
      err: "rawcrawl: ERR_INVALID_OPTION unknown option '--jsno' (Did you mean --json?)\n",
    });
    expect(await run('init-db', '--mysq', 'mysql://root@127.0.0.1:1/x')).toEqual({
      code: 2,
      err: "rawcrawl: ERR_INVALID_OPTION unknown option '--mysq' (Did you mean --mysql?)\n",
    });
  });
});
