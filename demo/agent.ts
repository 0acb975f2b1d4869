import '@sealchat/agent/define';
import { AgentSession, IdbClientStore, loadOrCreateOrganisation, publishRoster } from '@sealchat/client';
import { toHex } from '@sealchat/protocol';
import { keepRelayParam, relayUrls } from './demo-config.js';

keepRelayParam();
const status = document.querySelector<HTMLElement>('#status')!;
const console_ = document.querySelector('sealchat-agent')!;

async function main(): Promise<void> {
  const { ws } = relayUrls();
  // Demo shortcut (docs/architecture.md): the org and its one agent device are made in this browser.
  const store = await IdbClientStore.open('sealchat-demo-agent');
  const org = await loadOrCreateOrganisation(store, { agentName: 'Alex (demo agent)' });
  document.querySelector('#org-key')!.textContent = org.orgKey;
  document.querySelector('#device-id')!.textContent = toHex(org.agent.deviceId);
  document.querySelector('#snippet')!.textContent =
    `<script type="module" src="https://your-cdn.example/sealchat-widget.js" integrity="sha384-..." crossorigin="anonymous"></script>\n` +
    `<sealchat-widget relay="${ws}" org="${org.orgKey}"></sealchat-widget>`;
  await publishRoster(ws, org);
  const session = await AgentSession.start({ relayUrl: ws, orgRootKey: org.rootPublic, identity: org.agent, store });
  console_.session = session;
  status.textContent = '';
  session.addEventListener('state', (event) => {
    status.textContent = event.detail === 'open' ? '' : 'Reconnecting to the relay…';
  });
}

main().catch((error: unknown) => {
  status.textContent = `Could not start: ${error instanceof Error ? error.message : String(error)}`;
});
