import '@sealchat/agent/define';
import {
  AgentSession,
  IdbClientStore,
  loadOrCreateOrganisation,
  loadOrganisation,
  publishRoster,
} from '@sealchat/client';
import { toHex } from '@sealchat/protocol';
import { keepRelayParam, relayUrls } from './demo-config.js';

keepRelayParam();
const status = document.querySelector<HTMLElement>('#status')!;
const console_ = document.querySelector('sealchat-agent')!;
const setup = document.querySelector('sealchat-org-setup')!;
const agentName = 'Alex (demo agent)';

// The launcher's SRI hash from the last `npm run build`, if there was one: the glob matches no file
// rather than failing when the widget is not built.
const launcherSri = Object.values(
  import.meta.glob<string>('../packages/widget/dist/cdn/sealchat-widget.js.sri', {
    query: '?raw',
    import: 'default',
    eager: true,
  }),
)[0]?.trim();

async function main(): Promise<void> {
  const { ws } = relayUrls();
  // An organisation created or restored in the setup panel (it has a backup) runs the console once
  // the page is reloaded. Otherwise the demo shortcut (docs/architecture.md) makes the org and its
  // one agent device in this browser, with keys that never leave it.
  const setupStore = await IdbClientStore.open('sealchat-demo-org-setup');
  const recoverable = await loadOrganisation(setupStore, { agentName });
  const store = recoverable ? setupStore : await IdbClientStore.open('sealchat-demo-agent');
  const org = recoverable ?? (await loadOrCreateOrganisation(store, { agentName }));
  document.querySelector('#org-key')!.textContent = org.orgKey;
  document.querySelector('#device-id')!.textContent = toHex(org.agent.deviceId);
  document.querySelector('#snippet')!.textContent =
    `<script type="module" src="https://your-cdn.example/sealchat-widget.js" integrity="${launcherSri ?? 'sha384-...'}" crossorigin="anonymous"></script>\n` +
    `<sealchat-widget relay="${ws}" org="${org.orgKey}"></sealchat-widget>`;
  await publishRoster(ws, org);
  const session = await AgentSession.start({ relayUrl: ws, orgRootKey: org.rootPublic, identity: org.agent, store });
  console_.session = session;
  status.textContent = '';
  session.addEventListener('state', (event) => {
    status.textContent = event.detail === 'open' ? '' : 'Reconnecting to the relay…';
  });
  // Given only now, so the panel does not load the same store while the console is still loading it.
  setup.relay = ws;
  if (launcherSri) setup.launcherIntegrity = launcherSri;
  setup.store = setupStore;
}

setup.addEventListener('sealchat-org-ready', (event) => {
  const note = document.querySelector<HTMLElement>('#org-setup-note')!;
  note.hidden = false;
  note.querySelector('span')!.textContent =
    event.detail.how === 'created'
      ? 'Organisation created. Save its backup file, then reload to run the console as this organisation.'
      : 'Organisation restored. Reload to run the console as this organisation.';
});
document.querySelector('#org-setup-reload')!.addEventListener('click', () => location.reload());

main().catch((error: unknown) => {
  status.textContent = `Could not start: ${error instanceof Error ? error.message : String(error)}`;
});
