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

describe('rawcrawl (a mistyped command)', () => {
  it('names the command a mistyped word is closest to, with arguments after it too', async () => {
    expect(await run('imprt', 'pages.jsonl', '--mysql', 'mysql://root@127.0.0.1:1/x')).toEqual({
      code: 2,
      err: 'rawcrawl: ERR_INVALID_URL start URL "imprt" is not an http(s) URL (nor a command: did you mean import?)\n',
    });
    expect(await run('stauts')).toEqual({ code: 2, err: 'rawcrawl: ERR_INVALID_URL start URL "stauts" is not an http(s) URL (nor a command: did you mean status?)\n' });
    expect(await run('initdb')).toEqual({ code: 2, err: 'rawcrawl: ERR_INVALID_URL start URL "initdb" is not an http(s) URL (nor a command: did you mean init-db?)\n' });
    expect(await run('notaurl')).toEqual({ code: 2, err: 'rawcrawl: ERR_INVALID_URL start URL "notaurl" is not an http(s) URL (nor a command: see rawcrawl --help)\n' });
  });
});

describe('rawcrawl status (its flags)', () => {
  it('a mistyped --crawl-id is named as such, not reported as --crawl-id missing', async () => {
    expect(await run('status', '--mysql', 'mysql://root@127.0.0.1:1/x', '--crawl-idd', 'c')).toEqual({
      code: 2,
      err: "rawcrawl: ERR_INVALID_OPTION unknown option '--crawl-idd' (Did you mean --crawl-id?)\n",
    });
    expect(await run('status', '--mysql', 'mysql://root@127.0.0.1:1/x')).toEqual({ code: 2, err: 'rawcrawl: ERR_INVALID_OPTION status needs --crawl-id NAME\n' });
  });
});
