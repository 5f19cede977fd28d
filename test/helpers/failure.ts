import { RawcrawlError } from '../../src/errors.js';

/** The RawcrawlError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function failure(p: Promise<unknown>): Promise<RawcrawlError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RawcrawlError) return e;
    throw e;
  }
  throw new Error('expected a RawcrawlError, the request succeeded');
}
