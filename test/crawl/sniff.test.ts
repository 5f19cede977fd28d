import { describe, expect, it } from 'vitest';
import { isHtml } from '../../src/crawl/sniff.js';

const html = (s: string): boolean => isHtml(null, Buffer.from(s, 'latin1'));

describe('isHtml', () => {
  it('goes by the Content-Type when there is one', () => {
    expect(isHtml('text/html; charset=utf-8', Buffer.from('plain'))).toBe(true);
    expect(isHtml('TEXT/HTML', Buffer.from(''))).toBe(true);
    expect(isHtml('application/xhtml+xml', Buffer.from(''))).toBe(true);
    expect(isHtml('text/plain', Buffer.from('<html><title>x</title>'))).toBe(false);
    expect(isHtml('text/htmlx', Buffer.from('<html>'))).toBe(false);
  });

  it('without one, sniffs the first bytes as WHATWG MIME Sniffing does (and past a UTF-8 BOM)', () => {
    for (const yes of ['<!DOCTYPE html>', '<html>', ' \r\n\t<HTML lang=en>', '<head>', '<title>t</title>', '<body>', '<p>x', '<a href=/>', '<!-- c -->', '<div class=x>', '<br>', '\xef\xbb\xbf<!doctype html>', '\xef\xbb\xbf\n<head>']) {
      expect(html(yes), JSON.stringify(yes)).toBe(true);
    }
    for (const no of ['', 'hello', '<?xml version="1.0"?>', '<htmlx>', '<pre>', '<abbr>', '%PDF-1.7', '{"a":1}', 'x<html>', '\xef\xbb\xbfhello']) {
      expect(html(no), JSON.stringify(no)).toBe(false);
    }
  });
});
