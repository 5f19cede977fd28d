/** Why a discovered URL is or is not fetched: the first rule that decides, in order. */
export type ScopeVerdict = 'ok' | 'host' | 'exclude' | 'include' | 'depth' | 'extension';

/**
 * The file extensions skipBinary leaves alone: images, audio, video, archives, executables,
 * office documents, PDF, fonts and style sheets — what Scrapy's link extractor skips by default
 * (scrapy.linkextractors.IGNORED_EXTENSIONS), plus web fonts.
 */
export const BINARY_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    'mng pct bmp gif jpg jpeg png pst psp tif tiff ai drw dxf eps ps svg cdr ico webp avif heic ' +
    'mp3 wma ogg wav ra aac mid au aiff flac opus ' +
    '3gp asf asx avi mov mp4 mpg mpeg qt rm swf wmv m4a m4v flv webm mkv ' +
    'xls xlsx ppt pptx pps doc docx odt ods odg odp pdf ' +
    'css exe bin rss dmg iso apk msi deb rpm jar sh ' +
    'zip rar tar gz tgz bz2 xz 7z ' +
    'woff woff2 ttf otf eot'
  ).split(' '),
);

export interface ScopeRules {
  /** Host names (no port); "*.example.com" also admits every subdomain of example.com. */
  hosts: Set<string>;
  include: RegExp[];
  exclude: RegExp[];
  maxDepth: number;
  /** Leave URLs whose path ends in one of BINARY_EXTENSIONS (CrawlOptions.skipBinary). */
  skipBinary?: boolean;
}

/** One ordered check: host, then --exclude, then --include, then depth, then --skip-binary. */
export function admit(url: URL, depth: number, rules: ScopeRules): ScopeVerdict {
  if (!hostAllowed(url.hostname, rules.hosts)) return 'host';
  const href = url.href;
  for (const re of rules.exclude) if (matches(re, href)) return 'exclude';
  if (rules.include.length > 0 && !rules.include.some((re) => matches(re, href))) return 'include';
  if (depth > rules.maxDepth) return 'depth';
  if (rules.skipBinary && BINARY_EXTENSIONS.has(extension(url.pathname))) return 'extension';
  return 'ok';
}

/**
 * Whether `re` matches `s` anywhere, as RegExp#test does for a RegExp without the g flag; a
 * global one's test() would go on from the lastIndex of its previous match, and skip URLs.
 */
export function matches(re: RegExp, s: string): boolean {
  return s.search(re) !== -1;
}

/** The last path segment's extension, lower case ('' when it has none). */
function extension(pathname: string): string {
  const slash = pathname.lastIndexOf('/');
  const dot = pathname.lastIndexOf('.');
  return dot > slash ? pathname.slice(dot + 1).toLowerCase() : '';
}

export function hostAllowed(host: string, hosts: Set<string>): boolean {
  if (hosts.has(host)) return true;
  for (let i = host.indexOf('.'); i !== -1; i = host.indexOf('.', i + 1)) {
    if (hosts.has(`*${host.slice(i)}`)) return true;
  }
  return false;
}
