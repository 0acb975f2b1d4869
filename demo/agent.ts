import '@sealchat/agent/define';
import {
  AgentSession,
  IdbClientStore,
  loadMembership,
  loadOrCreateOrganisation,
  loadOrganisation,
  OrgAdministration,
  publishRoster,
  type Membership,
} from '@sealchat/client';
import { toHex } from '@sealchat/protocol';
import { keepRelayParam, relayUrls } from './demo-config.js';

keepRelayParam();
const status = document.querySelector<HTMLElement>('#status')!;
const console_ = document.querySelector('sealchat-agent')!;
const setup = document.querySelector('sealchat-org-setup')!;
const team = document.querySelector('sealchat-team')!;
const orgAdmin = document.querySelector('sealchat-org-admin')!;
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
  // Opened with an invite link, or invited before: this browser joins someone else's organisation
  // (docs/team.md) instead of making the demo one.
  const memberStore = await IdbClientStore.open('sealchat-demo-team-member');
  const invite = new URLSearchParams(location.hash.slice(1)).get('invite');
  const membership = await loadMembership(memberStore);
  if (invite !== null || membership) return join(ws, memberStore, membership, invite);
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
  // This browser holds the organisation's archive key: its console also reads what was written before
  // its agent device was enrolled (an organisation restored here), in archive mode.
  const session = await AgentSession.start({
    relayUrl: ws,
    orgRootKey: org.rootPublic,
    identity: org.agent,
    store,
    archiveKey: org.archive,
  });
  console_.session = session;
  status.textContent = '';
  session.addEventListener('state', (event) => {
    status.textContent = event.detail === 'open' ? '' : 'Reconnecting to the relay…';
  });
  // Given only now, so the panel does not load the same store while the console is still loading it.
  setup.relay = ws;
  if (launcherSri) setup.launcherIntegrity = launcherSri;
  setup.store = setupStore;
  team.relay = ws;
  team.joinUrl = new URL(`agent.html${location.search}`, location.href).toString();
  team.organisation = org;
  team.store = store;
  // The supervisor's own socket: retention and the audit log are the supervisor device's to change.
  const administration = await OrgAdministration.connect({ relayUrl: ws, organisation: org, store });
  orgAdmin.administration = administration;
  team.administration = administration;
  // Its console holds the archive key: the Team panel shares past conversations with it (by policy).
  team.session = session;
  console_.administration = administration;
}

/** The invitee's side: the team panel takes the code and waits; the console starts once approved. */
function join(ws: string, store: IdbClientStore, membership: Membership | undefined, invite: string | null): void {
  document.querySelector<HTMLElement>('#team-section')!.scrollIntoView();
  status.textContent = membership?.joined ? 'Connecting…' : 'Joining a team: see the Team panel below.';
  if (membership) showMember(membership);
  // Creating an organisation here would mix it up with the one being joined; administering one
  // needs its keys.
  setup.hidden = true;
  document.querySelector<HTMLElement>('#admin-section')!.hidden = true;
  team.relay = ws;
  if (invite) team.invite = invite;
  // The code stays out of the address bar and history once read (it is single-use anyway).
  if (invite !== null) history.replaceState(null, '', location.pathname + location.search);
  team.addEventListener('sealchat-team-joined', () => void startMember(ws, store));
  team.store = store;
}

async function startMember(ws: string, store: IdbClientStore): Promise<void> {
  const membership = await loadMembership(store);
  if (!membership) return;
  showMember(membership);
  let session: AgentSession;
  try {
    session = await AgentSession.start({
      relayUrl: ws,
      orgRootKey: membership.orgRootKey,
      identity: membership.identity,
      store,
    });
  } catch (error) {
    status.textContent = `This device is not on the organisation's roster (revoked?): ${messageOf(error)}`;
    return;
  }
  console_.session = session;
  status.textContent = '';
  session.addEventListener('state', (event) => {
    if (status.dataset['revoked'] !== undefined) return;
    status.textContent = event.detail === 'open' ? '' : 'Reconnecting to the relay…';
  });
  session.addEventListener('error', (event) => {
    // Revoked: the relay closed the socket and refuses to authenticate this device again.
    if (event.detail.code !== 'SEALCHAT_E_UNAUTHORIZED') return;
    status.dataset['revoked'] = '';
    status.textContent = 'This device was removed from the team: the relay refuses it.';
    session.close();
  });
}

function showMember(membership: Membership): void {
  document.querySelector('#org-key')!.textContent = membership.orgKey;
  document.querySelector('#device-id')!.textContent = membership.fingerprint.replaceAll(' ', '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  status.textContent = `Could not start: ${messageOf(error)}`;
});
