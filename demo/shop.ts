import '@sealchat/widget/define';
import { keepRelayParam, relayUrls } from './demo-config.js';

// Demo shortcut: a real site pins its org key in the tag (`org="sc1..."`). The demo's org is created
// by the agent page in the browser, so the shop asks the relay (demo mode only) which org to pin.
keepRelayParam();
const widget = document.querySelector('sealchat-widget')!;
const status = document.querySelector<HTMLElement>('#status')!;
const { ws, http } = relayUrls();
widget.setAttribute('relay', ws);

async function pinDemoOrg(): Promise<void> {
  for (;;) {
    try {
      const response = await fetch(`${http}/demo/org`);
      if (response.ok) {
        const body: unknown = await response.json();
        const orgKey = (body as { orgKey?: unknown }).orgKey;
        if (typeof orgKey === 'string') {
          widget.setAttribute('org', orgKey);
          status.textContent = '';
          return;
        }
      }
      status.textContent = 'No organisation yet: open the agent console once, then come back.';
    } catch {
      status.textContent = `The relay at ${http} is not reachable; start it with npm run demo.`;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

void pinDemoOrg();
