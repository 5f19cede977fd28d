import { afterEach } from 'vitest';

/**
 * Registers an afterEach hook (call it at the top level of a test file) and returns `track`:
 * every server passed to it is closed after the test that started it.
 */
export function closeAfterEach(): <T extends { close(): Promise<unknown> }>(server: T) => T {
  const open: Array<{ close(): Promise<unknown> }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return (server) => {
    open.push(server);
    return server;
  };
}
