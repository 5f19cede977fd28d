import { checkProxySetting, RawcrawlError, withoutUserinfo, type HeaderPairs } from '../client/index.js';
import { OriginCredentials } from './credentials.js';
import { checkFields } from './extract.js';
import { normalizeUrl } from './normalize-url.js';
import { resolveCrawlOptions, type CrawlOptions, type ResolvedCrawlOptions } from './options.js';

/** A URL given by the caller, quoted for an error line: its first 200 characters, never the user name and password it may hold. */
const quoted = (given: string): string => {
  const u = withoutUserinfo(given);
  return JSON.stringify(u.length > 200 ? `${u.slice(0, 200)}…` : u);
};

/**
 * An allowHosts entry as scope compares it: a host name, or `*.domain` for its subdomains. Scope
 * is by host name, so `host:port` and a URL are taken for their host name (as written, they
 * matched nothing, silently); what has none is an error.
 */
function allowedHost(given: string): string {
  const h = given.trim().toLowerCase();
  // `*.domain` as URLs spell the domain (an IDN as punycode), else no host would match it.
  const wildcard = h.startsWith('*.');
  const rest = wildcard ? h.slice(2) : h;
  try {
    const name = new URL(rest.includes('://') ? rest : `http://${rest}`).hostname;
    if (name !== '') return wildcard ? `*.${name}` : name;
  } catch {
    // Named below.
  }
  throw new RawcrawlError('ERR_INVALID_OPTION', `allowHosts (--allow-host) takes a host name or *.domain, not ${JSON.stringify(given)}`);
}

/** What a crawl's options come to once checked: see planCrawl(). */
export interface CrawlPlan {
  o: ResolvedCrawlOptions;
  extraHeaders: HeaderPairs;
  /** Start URLs, normalised. */
  starts: string[];
  /** CrawlOptions.sitemaps, normalised. */
  sitemapUrls: string[];
  /** The start URLs' hosts and allowHosts: the crawl's scope. */
  hosts: Set<string>;
  credentials: OriginCredentials;
}

/** Checks a crawl's options and works out what the crawl needs of them; throws a RawcrawlError naming what is wrong. */
export function planCrawl(options: CrawlOptions): CrawlPlan {
  const { o, headers: extraHeaders } = resolveCrawlOptions(options);
  checkProxySetting(options.proxy);
  const badFields = checkFields(options.selects ?? [], options.selectAll ?? []);
  if (badFields) throw new RawcrawlError('ERR_INVALID_OPTION', badFields);
  const credentials = new OriginCredentials();
  const hosts = new Set<string>();
  const starts: string[] = [];
  for (const u of options.startUrls) {
    const n = normalizeUrl(u);
    if (n === null) throw new RawcrawlError('ERR_INVALID_URL', `start URL ${quoted(u)} is not an http(s) URL`);
    if (n.length > o.maxUrlLength) throw new RawcrawlError('ERR_INVALID_URL', `start URL ${JSON.stringify(`${n.slice(0, 100)}…`)} is ${n.length} characters long, more than maxUrlLength (${o.maxUrlLength})`);
    starts.push(n);
    hosts.add(new URL(n).hostname);
    credentials.keep(u, n, 'start URL');
  }
  const sitemapUrls: string[] = [];
  for (const u of options.sitemaps ?? []) {
    const n = normalizeUrl(u);
    if (n === null) throw new RawcrawlError('ERR_INVALID_URL', `sitemap URL ${quoted(u)} is not an http(s) URL`);
    sitemapUrls.push(n);
    credentials.keep(u, n, 'sitemap URL');
    // A crawl from sitemaps alone (as Scrapy's SitemapSpider): their hosts are its scope.
    if (options.startUrls.length === 0) hosts.add(new URL(n).hostname);
  }
  for (const h of options.allowHosts ?? []) hosts.add(allowedHost(h));
  return { o, extraHeaders, starts, sitemapUrls, hosts, credentials };
}

/**
 * Throws the RawcrawlError crawl() would throw for these options, without starting anything: a
 * program (the CLI) can refuse a crawl before it opens or truncates any output.
 */
export function checkCrawlOptions(options: CrawlOptions): void {
  planCrawl(options);
}
