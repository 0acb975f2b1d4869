import '@sealchat/widget/define';
import { keepRelayParam, relayUrls } from './demo-config.js';

// The page arrives with relay and org written into the widget tag (demo/pin-org-plugin.ts), as on a
// real site. Until the demo organisation exists, say so, and reload once it does.
keepRelayParam();
const widget = document.querySelector('sealchat-widget')!;
const status = document.querySelector<HTMLElement>('#status')!;

async function waitForOrg(): Promise<void> {
  const { http } = relayUrls();
  for (;;) {
    try {
      const response = await fetch(`${http}/demo/org`);
      if (response.ok) {
        location.reload();
        return;
      }
      status.textContent = 'No organisation yet: open the agent console once; this page reloads when it exists.';
    } catch {
      status.textContent = `The relay at ${http} is not reachable; start it with npm run demo.`;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

if (!widget.hasAttribute('org')) void waitForOrg();
