import { InvalidArgumentError } from 'commander';
import { checkProxySetting, noProxyMatches, proxyFromEnv, RawcrawlError, type ProxySetting } from '../client/index.js';

/** --proxy URL checked while the flags are parsed, so a bad one is a usage error ('' is none). */
export function parseProxyFlag(value: string): string {
  try {
    if (value.trim() !== '') checkProxySetting(value.trim());
  } catch (err) {
    if (err instanceof RawcrawlError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  return value;
}

/**
 * --proxy URL and --noproxy LIST, else the environment (http_proxy, https_proxy, all_proxy,
 * no_proxy), as curl reads them: --proxy '' means none whatever the environment says, and
 * --noproxy (else no_proxy) applies to a --proxy too.
 */
export function proxyFromFlags(flags: { proxy?: string; noproxy?: string }, env: Record<string, string | undefined>): ProxySetting | undefined {
  const noProxy = (flags.noproxy ?? env.no_proxy ?? env.NO_PROXY ?? '').trim();
  if (flags.proxy !== undefined) {
    const proxy = flags.proxy.trim();
    if (proxy === '') return undefined;
    return noProxy === '' ? proxy : (target: URL) => (noProxyMatches(noProxy, target.hostname) ? null : proxy);
  }
  return proxyFromEnv(flags.noproxy === undefined ? env : { ...env, no_proxy: flags.noproxy, NO_PROXY: undefined }) ?? undefined;
}
