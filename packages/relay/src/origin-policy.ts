/**
 * Which browser origins may talk to the relay. Browsers let any page open a WebSocket to any host
 * (no CORS for WebSockets), so the relay itself must refuse pages it does not serve; a request
 * without an Origin header comes from a non-browser client, which no page can impersonate.
 */
export interface OriginPolicy {
  /** True if a request carrying this Origin header (or none) may proceed. */
  allows(origin: string | undefined): boolean;
}

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `http(s)://localhost[:port]`, `127.0.0.1`, `[::1]` or `*.localhost`. */
export function isLocalhostOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return LOCAL_HOSTNAMES.has(url.hostname) || url.hostname.endsWith('.localhost');
}

/**
 * Listed origins are allowed exactly. With an empty list, demo mode allows localhost pages (the demo
 * site on Vite's port) and production allows no browser page at all — safe until configured.
 */
export function createOriginPolicy(allowedOrigins: readonly string[], demo: boolean): OriginPolicy {
  const allowed = new Set(allowedOrigins);
  return {
    allows(origin) {
      if (origin === undefined) return true;
      if (allowed.has(origin)) return true;
      return allowed.size === 0 && demo && isLocalhostOrigin(origin);
    },
  };
}
