import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isFieldName, isToken } from '../../src/http/abnf.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe('isFieldName', () => {
  it('matches field names case-insensitively, and nothing else', () => {
    expect(isFieldName('Content-Length', 'content-length')).toBe(true);
    expect(isFieldName('CONTENT-LENGTH', 'content-length')).toBe(true);
    expect(isFieldName('content-length', 'content-length')).toBe(true);
    expect(isFieldName('Content-Lengt', 'content-length')).toBe(false);
    expect(isFieldName('Content-Lengths', 'content-length')).toBe(false);
    expect(isFieldName('Content_Length', 'content-length')).toBe(false);
    // '[' is 'Z' + 1: only A-Z are folded.
    expect(isFieldName('[', '{')).toBe(false);
  });

  it('says what toLowerCase() === says, for any token', () => {
    const token = fc.array(fc.constantFrom(...TCHARS), { minLength: 1, maxLength: 20 }).map((a) => a.join(''));
    fc.assert(
      fc.property(token, token, (name, other) => {
        expect(isToken(name)).toBe(true);
        const lower = other.toLowerCase();
        expect(isFieldName(name, lower)).toBe(name.toLowerCase() === lower);
        expect(isFieldName(name, name.toLowerCase())).toBe(true);
      }),
    );
  });
});
