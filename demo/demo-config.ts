/**
 * Where the demo pages find the relay: `?relay=ws://host:port` on any page, else port 8787 on the
 * host that served the page. The HTTP side (demo endpoints) is on the same host and port.
 */
export function relayUrls(): { ws: string; http: string } {
  const param = new URL(location.href).searchParams.get('relay');
  const ws = param ?? `ws://${location.hostname}:8787`;
  const http = ws.replace(/^ws(s?):/, 'http$1:');
  return { ws, http };
}

/** Keeps `?relay=` on links between demo pages. */
export function keepRelayParam(): void {
  const param = new URL(location.href).searchParams.get('relay');
  if (!param) return;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('a[data-demo-link]')) {
    const url = new URL(link.href);
    url.searchParams.set('relay', param);
    link.href = url.toString();
  }
}
