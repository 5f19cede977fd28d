/** Why a discovered URL is or is not fetched: the first rule that decides, in order. */
export type ScopeVerdict = 'ok' | 'host' | 'exclude' | 'include' | 'depth';

export interface ScopeRules {
  /** Host names (no port); "*.example.com" also admits every subdomain of example.com. */
  hosts: Set<string>;
  include: RegExp[];
  exclude: RegExp[];
  maxDepth: number;
}

/** One ordered check: host, then --exclude, then --include, then depth. */
export function admit(url: URL, depth: number, rules: ScopeRules): ScopeVerdict {
  if (!hostAllowed(url.hostname, rules.hosts)) return 'host';
  const href = url.href;
  for (const re of rules.exclude) if (re.test(href)) return 'exclude';
  if (rules.include.length > 0 && !rules.include.some((re) => re.test(href))) return 'include';
  if (depth > rules.maxDepth) return 'depth';
  return 'ok';
}

function hostAllowed(host: string, hosts: Set<string>): boolean {
  if (hosts.has(host)) return true;
  for (let i = host.indexOf('.'); i !== -1; i = host.indexOf('.', i + 1)) {
    if (hosts.has(`*${host.slice(i)}`)) return true;
  }
  return false;
}
