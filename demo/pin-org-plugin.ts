import type { Plugin } from 'vite';

/**
 * Serves the demo shop the way a real site serves its page: with the organisation key written
 * into the `<sealchat-widget org="...">` tag, so the pin arrives with the page, not from the relay
 * at run time. Demo shortcut: the demo's "site" learns which key to write from the relay's
 * demo-only `/demo/org` endpoint, because the demo org is created in the agent page's browser.
 */
const RELAY_URL = /^wss?:\/\/[A-Za-z0-9.\-[\]]+(:\d+)?\/?$/;
const ORG_KEY = /^sc1[A-Za-z0-9_-]{48}$/;

export function pinOrgPlugin(defaultRelay = process.env['SEALCHAT_DEMO_RELAY'] ?? 'ws://localhost:8787'): Plugin {
  return {
    name: 'sealchat-demo-pin-org',
    async transformIndexHtml(html, ctx) {
      if (!html.includes('<sealchat-widget')) return html;
      const requested = new URL(ctx.originalUrl ?? '/', 'http://demo').searchParams.get('relay');
      // Only a plain ws(s) URL goes into the page: the query string is attacker-controlled.
      const relay = requested && RELAY_URL.test(requested) ? requested : defaultRelay;
      const orgKey = await fetchDemoOrg(relay.replace(/^ws/, 'http'));
      const attributes = `relay="${relay}"${orgKey ? ` org="${orgKey}"` : ''}`;
      return html.replace('<sealchat-widget ', `<sealchat-widget ${attributes} `);
    },
  };
}

async function fetchDemoOrg(httpBase: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${httpBase}/demo/org`, { signal: AbortSignal.timeout(1500) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { orgKey?: unknown };
    return typeof body.orgKey === 'string' && ORG_KEY.test(body.orgKey) ? body.orgKey : undefined;
  } catch {
    return undefined;
  }
}
