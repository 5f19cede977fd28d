import { describe, expect, it } from 'vitest';
import { metaRobots, xRobotsTag } from '../../src/crawl/robots-directives.js';

describe('robots meta tag', () => {
  it.each([
    [['noindex'], true, false],
    [['NOFOLLOW'], false, true],
    [['none'], true, true],
    [['index, follow'], false, false],
    [['noindex, nofollow'], true, true],
    [['all'], false, false],
    // A value after a colon is no directive of its own.
    [['index, follow, max-image-preview:none, max-snippet:-1'], false, false],
    [['max-video-preview:none'], false, false],
    [['noarchive', ' nofollow '], false, true],
  ] as Array<[string[], boolean, boolean]>)('%j → noindex %s, nofollow %s', (contents, noindex, nofollow) => {
    expect(metaRobots(contents)).toEqual({ noindex, nofollow });
  });
});

describe('X-Robots-Tag', () => {
  it.each([
    [['noindex'], true, false],
    [['none'], true, true],
    [['max-image-preview:none'], false, false],
    [['unavailable_after: 25 Jun 2030 15:00:00 PST'], false, false],
    // Addressed to another user agent: not ours.
    [['otherbot: noindex, nofollow'], false, false],
    [['otherbot: nofollow', 'noindex'], true, false],
    [['rawcrawl: noindex'], true, false],
    [['RawCrawl: nofollow'], false, true],
    // A prefix covers what follows it in the field, up to the next one.
    [['otherbot: noindex, rawcrawl: nofollow'], false, true],
    [['nofollow, otherbot: noindex'], false, true],
  ] as Array<[string[], boolean, boolean]>)('%j → noindex %s, nofollow %s for rawcrawl', (fields, noindex, nofollow) => {
    expect(xRobotsTag(fields, 'rawcrawl')).toEqual({ noindex, nofollow });
  });
});
