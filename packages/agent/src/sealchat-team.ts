import { html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  acceptInvite,
  adoptRoster,
  approveJoinRequest,
  cancelInvite,
  createInvite,
  currentRoster,
  fetchRelayRoster,
  forgetMembership,
  listInvites,
  listTeam,
  loadMembership,
  publishRoster,
  reviewJoinRequest,
  revokeDevice,
  RosterHeadRenewal,
  waitForApproval,
  type AgentSession,
  type ClientStore,
  type AuditEvent,
  type InviteInfo,
  type Membership,
  type OrgAdministration,
  type Organisation,
  type ReviewedRequest,
  type TeamMember,
} from '@sealchat/client';
import { formStyles } from './form-styles.js';
import { fromHex, toHex } from './hex.js';
import { teamStyles } from './team-styles.js';

const HOUR = 60 * 60 * 1000;
const EXPIRY_CHOICES: readonly { readonly label: string; readonly ms: number }[] = [
  { label: '1 hour', ms: HOUR },
  { label: '24 hours', ms: 24 * HOUR },
  { label: '7 days', ms: 7 * 24 * HOUR },
];

/** What `sealchat-team-joined` carries: this browser's device is on the organisation's roster. */
export interface TeamJoinedDetail {
  readonly orgKey: string;
  readonly name: string;
  readonly role: 'agent' | 'supervisor';
}

/** What `sealchat-team-changed` carries: a roster was issued (and published, when `published`). */
export interface TeamChangedDetail {
  readonly version: number;
  readonly published: boolean;
}

/** What the cancelable `sealchat-request-revoke` carries; cancel it to keep the device. */
export interface RevokeRequestDetail {
  /** Hex. */
  readonly deviceId: string;
  readonly name: string;
}

type Busy = 'invite' | 'review' | 'approve' | 'revoke' | 'join' | 'publish' | 'policy' | 'share' | undefined;

/**
 * The team: who may read and answer this organisation's chats. Two sides, by whether
 * `organisation` is set:
 *
 * - **Supervisor** (`organisation` set): invite someone (a one-time code, expiring), check and
 *   approve the device request their browser made (comparing the device id with them), and list
 *   the roster's devices with Revoke. Every change issues a roster and publishes it to `relay`.
 *   While shown, it renews the roster head (docs/protocol.md §4.4) at once and every 6 hours, and
 *   warns in words when the last one is over 2 days old or could not be published.
 * - **Invitee** (no `organisation`): enter the invite code (or set `invite`), show the device
 *   request to hand back and the device id to compare, wait until a roster lists this device, then
 *   fire `sealchat-team-joined`.
 *
 * Renders with Lit templates and static styles only: no HTML strings, no inline style, so it works
 * under a strict Content-Security-Policy. docs/team.md describes the flow and what is checked where.
 *
 * @event sealchat-team-joined - This browser's device is on the roster; `detail` is a {@link TeamJoinedDetail}.
 * @event sealchat-team-changed - A roster was issued; `detail` is a {@link TeamChangedDetail}.
 * @event sealchat-request-revoke - Cancelable, before a device is revoked; `detail` is a {@link RevokeRequestDetail}.
 *
 * @csspart invite - The invite form.
 * @csspart approve - The approval form.
 * @csspart members - The device list.
 * @csspart join - The invitee's side.
 * @csspart head-warning - The warning that visitors may soon send nothing (an old or unrenewed roster head).
 * @csspart policy-warning - Why the history policy may be out of date (no roster head vouched for the audit log's length).
 *
 * @cssprop --sealchat-accent - Button colour.
 * @cssprop --sealchat-danger - Revoke and error colour.
 */
export class SealchatTeam extends LitElement {
  static override styles = [formStyles, teamStyles];

  static override properties = {
    store: { attribute: false },
    organisation: { attribute: false },
    administration: { attribute: false },
    session: { attribute: false },
    relay: { type: String },
    invite: { type: String },
    joinUrl: { type: String, attribute: 'join-url' },
    invites: { state: true },
    members: { state: true },
    rosterVersion: { state: true },
    created: { state: true },
    reviewed: { state: true },
    confirming: { state: true },
    membership: { state: true },
    busy: { state: true },
    error: { state: true },
    notice: { state: true },
    unpublished: { state: true },
    historyPolicy: { state: true },
    policyWarning: { state: true },
    headWarning: { state: true },
  };

  /** Where the team's records and this device's keys are kept (an `IdbClientStore` in a browser). */
  store: ClientStore | undefined;
  /** This browser's organisation, for the supervisor side; unset for the invitee side. */
  organisation: Organisation | undefined;
  /**
   * The supervisor's administration (`OrgAdministration.connect`): with it, every invite, approval,
   * cancellation and revocation is recorded in the organisation's audit log.
   */
  administration: OrgAdministration | undefined;
  /**
   * This browser's console session, started with the organisation's archive key: with it and
   * {@link administration}, the panel sets the policy on agents reading conversations from before
   * they joined, and shares those conversations with a device (docs/agent-console.md).
   */
  session: AgentSession | undefined;
  /** The relay's WebSocket URL: rosters are published there, and the invitee watches it. */
  relay: string | undefined;
  /** An invite code (or a link holding one) to prefill the invitee's side with. */
  invite: string | undefined;
  /** The page invitees open (e.g. `https://support.example/agent.html`): invite links point there. */
  joinUrl: string | undefined;

  protected invites: readonly InviteInfo[] = [];
  protected members: readonly TeamMember[] = [];
  protected rosterVersion = 0;
  protected created: { readonly name: string; readonly code: string } | undefined;
  protected reviewed: { readonly text: string; readonly request: ReviewedRequest } | undefined;
  protected confirming: TeamMember | undefined;
  protected membership: Membership | undefined;
  protected busy: Busy;
  protected error = '';
  protected notice = '';
  /** A roster saved here that the relay may not have yet (publishing failed). */
  protected unpublished = false;
  /** The organisation's history policy as the verified audit log says; undefined until read. */
  protected historyPolicy: boolean | undefined;
  /** `OrgAdministration.auditWarning` after the policy was read: the audit log's length was not vouched for. */
  protected policyWarning: string | undefined;
  /**
   * Words for supervisors when the roster head is old or could not be renewed (docs/protocol.md §4.4):
   * visitors send nothing under a head past 4 days.
   */
  protected headWarning: string | undefined;
  /** Renews the roster head every 6 hours while this panel shows a supervisor's team with a relay. */
  private heads: { renewal: RosterHeadRenewal; key: readonly unknown[] } | undefined;
  private policyOf: OrgAdministration | undefined;
  private loaded: { store: ClientStore | undefined; organisation: Organisation | undefined } | undefined;
  private waiting: AbortController | undefined;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (
      (changed.has('store') || changed.has('organisation')) &&
      (this.loaded?.store !== this.store || this.loaded?.organisation !== this.organisation)
    ) {
      this.loaded = { store: this.store, organisation: this.organisation };
      void this.load();
    }
    const key = [this.store, this.organisation, this.relay];
    if (!this.heads || this.heads.key.some((k, i) => k !== key[i])) this.renewHeads(key);
    if (this.administration !== this.policyOf) {
      this.policyOf = this.administration;
      this.historyPolicy = undefined;
      void this.loadPolicy();
    }
  }

  private async loadPolicy(): Promise<void> {
    const administration = this.administration;
    if (!administration) return;
    try {
      const policy = await administration.historyPolicy();
      if (this.administration === administration) {
        this.historyPolicy = policy;
        this.policyWarning = administration.auditWarning;
      }
    } catch (error) {
      this.error = `The history policy could not be read: ${messageOf(error)}`;
    }
  }

  /** Whether this browser can share past conversations: it administers, and its console holds the archive key. */
  private get canShare(): boolean {
    return !!this.administration && !!this.session;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.heads?.renewal.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.waiting?.abort();
    this.waiting = undefined;
    this.heads?.renewal.stop();
  }

  private renewHeads(key: readonly unknown[]): void {
    this.heads?.renewal.stop();
    this.heads = undefined;
    this.headWarning = undefined;
    const { store, organisation, relay } = this;
    if (!store || !organisation || !relay) return;
    const renewal = new RosterHeadRenewal(relay, store, organisation);
    renewal.addEventListener('change', () => (this.headWarning = renewal.warning()));
    this.heads = { renewal, key };
    if (this.isConnected) renewal.start();
  }

  private async load(): Promise<void> {
    this.waiting?.abort();
    this.error = '';
    const store = this.store;
    if (!store) return;
    try {
      if (this.organisation) await this.refresh();
      else {
        this.membership = await loadMembership(store);
        if (this.membership) this.watch(this.membership);
      }
    } catch (error) {
      this.error = messageOf(error);
    }
  }

  /** Reads the invites and the roster again. */
  private async refresh(): Promise<void> {
    const { store, organisation } = this;
    if (!store || !organisation) return;
    const [invites, team] = await Promise.all([listInvites(store), listTeam(store, organisation)]);
    this.invites = invites;
    this.members = team.members;
    this.rosterVersion = team.version;
  }

  // --- supervisor side ----------------------------------------------------------------------------

  private async onInvite(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const { store, organisation } = this;
    if (!store || !organisation || this.busy) return;
    const form = event.currentTarget as HTMLFormElement;
    const name = this.field<HTMLInputElement>('invite-name').value;
    const role = this.field<HTMLSelectElement>('invite-role').value === 'supervisor' ? 'supervisor' : 'agent';
    const expiresInMs = Number(this.field<HTMLSelectElement>('invite-expiry').value);
    await this.act('invite', 'invite-name', async () => {
      const { invite, code } = await createInvite(store, organisation, { name, role, expiresInMs });
      form.reset();
      this.created = { name: invite.name, code };
      await this.audit({
        action: 'invite-created',
        inviteId: fromHex(invite.id),
        name: invite.name,
        role: invite.role,
        expiresAt: invite.expiresAt,
      });
      await this.refresh();
      await this.updateComplete;
      this.field('invite-code').focus();
    });
  }

  private async onReview(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const { store, organisation } = this;
    if (!store || !organisation || this.busy) return;
    const text = this.field<HTMLTextAreaElement>('request-code').value;
    if (!text.trim()) return this.fail('Paste the device request the new member sent you.', 'request-code');
    await this.act('review', 'request-code', async () => {
      this.reviewed = { text, request: await reviewJoinRequest(store, organisation, text) };
      await this.updateComplete;
      this.field('review-heading').focus();
    });
  }

  private async onApprove(): Promise<void> {
    const { store, organisation, reviewed } = this;
    if (!store || !organisation || !reviewed || this.busy) return;
    await this.act('approve', 'request-code', async () => {
      await this.syncFromRelay();
      // Checked again inside: nothing relies on the review above still holding.
      const { member, roster } = await approveJoinRequest(store, organisation, reviewed.text);
      this.reviewed = undefined;
      this.field<HTMLTextAreaElement>('request-code').value = '';
      await this.publish(roster.roster, roster.version, `${member.name} is on the roster (version ${roster.version}).`);
      await this.audit({
        action: 'device-approved',
        deviceId: member.device.deviceId,
        name: member.name,
        role: member.role,
      });
      if (this.historyPolicy && this.canShare) {
        const approved = this.notice;
        await this.share({ deviceId: member.device.deviceId, name: member.name });
        this.notice = `${approved} ${this.notice}`;
      }
    });
  }

  /** Shares the past conversations with one device; the notice says how many. */
  private async share(member: { readonly deviceId: Uint8Array<ArrayBuffer>; readonly name: string }): Promise<void> {
    const { administration, session } = this;
    if (!administration || !session) return;
    try {
      const { shared, skipped } = await administration.shareHistory(session, member);
      this.notice =
        `Shared ${shared === 1 ? '1 past conversation' : `${shared} past conversations`} with ${member.name}.` +
        (skipped ? ` ${skipped} too long to share in one grant were left out.` : '');
    } catch (error) {
      throw new Error(`Past conversations were not shared with ${member.name}: ${messageOf(error)}`);
    }
  }

  private async onShare(member: TeamMember): Promise<void> {
    if (this.busy) return;
    await this.act('share', 'members-heading', () => this.share(member));
  }

  private async onPolicy(event: Event): Promise<void> {
    const administration = this.administration;
    const box = event.currentTarget as HTMLInputElement;
    if (!administration || this.busy) return;
    const enabled = box.checked;
    await this.act('policy', 'history-policy', async () => {
      await administration.setHistoryPolicy(enabled);
      this.historyPolicy = enabled;
      this.notice = enabled
        ? 'Agents you approve from now on read the conversations from before they joined. Use “Share past conversations” for those already on the team.'
        : 'Agents you approve from now on read only what starts after they join. What was shared stays shared.';
    });
    box.checked = this.historyPolicy === true;
  }

  private async onRevoke(member: TeamMember): Promise<void> {
    const { store, organisation } = this;
    if (!store || !organisation || this.busy) return;
    const request = new CustomEvent<RevokeRequestDetail>('sealchat-request-revoke', {
      detail: { deviceId: toHex(member.deviceId), name: member.name },
      bubbles: true,
      composed: true,
      cancelable: true,
    });
    if (!this.dispatchEvent(request)) {
      this.confirming = undefined;
      return;
    }
    await this.act('revoke', 'members-heading', async () => {
      await this.syncFromRelay();
      const roster = await revokeDevice(store, organisation, member.deviceId);
      this.confirming = undefined;
      await this.publish(
        roster.roster,
        roster.version,
        `${member.name}'s device was revoked (version ${roster.version}).`,
      );
      await this.audit({ action: 'device-revoked', deviceId: member.deviceId, name: member.name, role: member.role });
      await this.updateComplete;
      this.field('members-heading').focus();
    });
  }

  /**
   * Starts a change from the relay's roster when it is newer than this browser's: another supervisor
   * (or this organisation restored elsewhere) may have changed the team since, and a roster issued
   * from an older one would drop their changes. The roster is verified under the organisation's key;
   * an unreachable relay leaves the local one (publishing will then fail visibly).
   */
  private async syncFromRelay(): Promise<void> {
    const { store, organisation, relay } = this;
    if (!store || !organisation || !relay) return;
    let roster;
    try {
      roster = await fetchRelayRoster(relay, organisation);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'SEALCHAT_E_CONNECTION_LOST') return;
      throw error;
    }
    if (roster) await adoptRoster(store, organisation, roster);
  }

  /** Publishes the roster just issued; on failure it stays saved here and can be published again. */
  private async publish(roster: Uint8Array<ArrayBuffer>, version: number, done: string): Promise<void> {
    const { organisation, relay } = this;
    await this.refresh();
    if (!organisation) return;
    if (!relay) {
      this.unpublished = true;
      this.notice = `${done} Not published: no relay is set.`;
      this.changed(version, false);
      return;
    }
    try {
      // With the root key, so the relay also gets a fresh head for it: visitors write only under one.
      await publishRoster(relay, { rootPublic: organisation.rootPublic, rootKey: organisation.rootKey, roster });
      // publishRoster vouched for it with a head; the renewal's clock starts again from here.
      void this.heads?.renewal.renew();
      this.unpublished = false;
      this.notice = done;
      this.changed(version, true);
    } catch (error) {
      this.unpublished = true;
      this.notice = '';
      this.changed(version, false);
      throw new Error(`${done} But the relay did not take the new roster: ${messageOf(error)}`);
    }
  }

  private async onPublishAgain(): Promise<void> {
    const { store, organisation } = this;
    if (!store || !organisation || this.busy) return;
    await this.act('publish', 'members-heading', async () => {
      const roster = await currentRoster(store, organisation);
      await this.publish(roster.encoded, roster.version, `Roster version ${roster.version} published.`);
    });
  }

  private async onCancelInvite(invite: InviteInfo): Promise<void> {
    const store = this.store;
    if (!store || this.busy) return;
    await this.act('invite', 'invite-name', async () => {
      await cancelInvite(store, invite.id);
      await this.audit({ action: 'invite-cancelled', inviteId: fromHex(invite.id), name: invite.name });
      if (this.created && invite.state === 'pending') this.created = undefined;
      await this.refresh();
    });
  }

  /** Records a team action in the audit log, when this panel has the supervisor's administration. */
  private async audit(event: AuditEvent): Promise<void> {
    if (!this.administration) return;
    try {
      await this.administration.record(event);
    } catch (error) {
      throw new Error(`Done, but the audit log did not record it: ${messageOf(error)}`);
    }
  }

  private changed(version: number, published: boolean): void {
    this.dispatchEvent(
      new CustomEvent<TeamChangedDetail>('sealchat-team-changed', {
        detail: { version, published },
        bubbles: true,
        composed: true,
      }),
    );
  }

  // --- invitee side -------------------------------------------------------------------------------

  private async onJoin(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const store = this.store;
    if (!store || this.busy) return;
    const text = this.field<HTMLInputElement>('join-code').value;
    if (!text.trim()) return this.fail('Enter the invite code or link you were sent.', 'join-code');
    await this.act('join', 'join-code', async () => {
      this.membership = await acceptInvite(store, text);
      this.watch(this.membership);
      await this.updateComplete;
      this.field('join-request').focus();
    });
  }

  private async onStartOver(): Promise<void> {
    const store = this.store;
    if (!store) return;
    this.waiting?.abort();
    await forgetMembership(store);
    this.membership = undefined;
    this.error = '';
  }

  /** Waits for a roster that lists this device; then tells the page. */
  private watch(membership: Membership): void {
    const { store, relay } = this;
    if (!store) return;
    if (membership.joined) {
      this.joined(membership);
      return;
    }
    if (!relay) return;
    this.waiting?.abort();
    const waiting = new AbortController();
    this.waiting = waiting;
    waitForApproval(relay, store, membership, { signal: waiting.signal }).then(
      (joined) => {
        if (this.waiting !== waiting) return;
        this.membership = joined;
        this.joined(joined);
      },
      () => {
        // Aborted: the element left the page, or the invitee started over.
      },
    );
  }

  private joined(membership: Membership): void {
    this.dispatchEvent(
      new CustomEvent<TeamJoinedDetail>('sealchat-team-joined', {
        detail: { orgKey: membership.orgKey, name: membership.name, role: membership.role },
        bubbles: true,
        composed: true,
      }),
    );
  }

  // --- shared -------------------------------------------------------------------------------------

  /** Runs one action: busy while it runs, its error shown (and focus moved to `focus`) if it fails. */
  private async act(busy: Busy, focus: string, action: () => Promise<void>): Promise<void> {
    this.busy = busy;
    this.error = '';
    this.notice = '';
    let failure: string | undefined;
    try {
      await action();
    } catch (error) {
      failure = messageOf(error);
    } finally {
      this.busy = undefined;
    }
    if (failure) await this.fail(failure, focus);
  }

  private async fail(message: string, focus: string): Promise<void> {
    this.error = message;
    await this.updateComplete;
    this.field(focus)?.focus();
  }

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the element type it expects
  private field<T extends HTMLElement = HTMLElement>(id: string): T {
    return this.renderRoot.querySelector<T>(`#${id}`)!;
  }

  private async copy(id: string, text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      this.notice = 'Copied.';
    } catch {
      // No clipboard access (permissions, an insecure context): select it for the user to copy.
      this.field<HTMLTextAreaElement>(id).select();
      this.notice = 'Selected: press Ctrl+C (⌘C on a Mac) to copy.';
    }
  }

  protected override render() {
    if (!this.store) return html`<p role="status">Loading…</p>`;
    return this.organisation ? this.renderSupervisor() : this.renderJoin();
  }

  private renderMessages() {
    return html`<p class="error" role="alert">${this.error}</p>
      <p class="status" role="status">${this.notice}</p>`;
  }

  private renderSupervisor() {
    const busy = this.busy !== undefined;
    return html`
      ${this.renderMessages()}
      ${this.headWarning ? html`<p class="error" role="alert" part="head-warning">${this.headWarning}</p>` : nothing}
      <div class="grid">
        <section aria-labelledby="invite-heading">
          <h3 id="invite-heading">Invite someone</h3>
          <form part="invite" novalidate @submit=${(e: SubmitEvent) => this.onInvite(e)}>
            <label for="invite-name">Name</label>
            <input id="invite-name" maxlength="64" required autocomplete="off" ?disabled=${busy} />
            <label for="invite-role">Role</label>
            <select id="invite-role" ?disabled=${busy}>
              <option value="agent" selected>Agent</option>
              <option value="supervisor">Supervisor</option>
            </select>
            <label for="invite-expiry">Expires after</label>
            <select id="invite-expiry" ?disabled=${busy}>
              ${EXPIRY_CHOICES.map(
                (c) => html`<option value=${String(c.ms)} ?selected=${c.ms === 24 * HOUR}>${c.label}</option>`,
              )}
            </select>
            <button type="submit" ?disabled=${busy}>${this.busy === 'invite' ? 'Creating…' : 'Create invite'}</button>
          </form>
          ${this.created ? this.renderCreated(this.created) : nothing} ${this.renderInvites()}
        </section>
        <section aria-labelledby="approve-heading">
          <h3 id="approve-heading">Approve a device</h3>
          <form part="approve" novalidate @submit=${(e: SubmitEvent) => this.onReview(e)}>
            <label for="request-code">Device request</label>
            <textarea
              id="request-code"
              rows="4"
              spellcheck="false"
              aria-describedby="request-hint"
              ?disabled=${busy}
            ></textarea>
            <p class="hint" id="request-hint">The <code>scj1…</code> code the new member's browser showed them.</p>
            <button type="submit" ?disabled=${busy}>${this.busy === 'review' ? 'Checking…' : 'Check request'}</button>
          </form>
          ${this.reviewed ? this.renderReview(this.reviewed.request) : nothing}
        </section>
        ${this.renderMembers()}
      </div>
    `;
  }

  private renderCreated(created: { readonly name: string; readonly code: string }) {
    const link = this.joinUrl ? `${this.joinUrl.replace(/#.*$/, '')}#invite=${created.code}` : created.code;
    return html`
      <div class="notice">
        <label for="invite-code">Invite for ${created.name}</label>
        <textarea id="invite-code" rows="3" readonly spellcheck="false" .value=${link}></textarea>
        <p class="hint">
          Send it over a channel you trust, to ${created.name} only: it works once, and whoever holds it can ask to
          join.
        </p>
        <button type="button" @click=${() => this.copy('invite-code', link)}>Copy invite</button>
      </div>
    `;
  }

  private renderInvites() {
    if (this.invites.length === 0) return nothing;
    return html`
      <h4 id="invites-heading">Invites</h4>
      <ul aria-labelledby="invites-heading">
        ${this.invites.map(
          (invite) =>
            html`<li>
              ${invite.name} <span class="tag">${invite.role}</span>
              <span class="tag">${invite.state}</span>
              ${
                invite.state === 'pending'
                  ? html`<span class="hint">until ${new Date(invite.expiresAt).toLocaleString()}</span>
                      <button
                        type="button"
                        class="secondary"
                        aria-label=${`Cancel the invite for ${invite.name}`}
                        @click=${() => this.onCancelInvite(invite)}
                      >
                        Cancel
                      </button>`
                  : invite.device
                    ? html`<span class="hint">device ${invite.device.slice(0, 9)}…</span>`
                    : nothing
              }
            </li>`,
        )}
      </ul>
    `;
  }

  private renderReview(request: ReviewedRequest) {
    const busy = this.busy !== undefined;
    return html`
      <div class="notice">
        <h4 id="review-heading" tabindex="-1">${request.name} asks to join as ${request.role}</h4>
        <p>Ask ${request.name} to read you the device id on their screen. It must be exactly:</p>
        <p class="fingerprint" id="review-fingerprint">${request.fingerprint}</p>
        ${
          request.requestedName !== request.name
            ? html`<p class="hint">
                The request calls itself “${request.requestedName}”; the certificate will say “${request.name}”.
              </p>`
            : nothing
        }
        <button type="button" ?disabled=${busy} @click=${() => this.onApprove()}>
          ${this.busy === 'approve' ? 'Approving…' : `Approve ${request.name}`}
        </button>
        <button type="button" class="secondary" ?disabled=${busy} @click=${() => (this.reviewed = undefined)}>
          Don't approve
        </button>
      </div>
    `;
  }

  private renderMembers() {
    const busy = this.busy !== undefined;
    return html`
      <section aria-labelledby="members-heading" part="members">
        <h3 id="members-heading" tabindex="-1">Devices on the roster (version ${this.rosterVersion})</h3>
        <ul aria-labelledby="members-heading">
          ${this.members.map(
            (member) =>
              html`<li data-device=${toHex(member.deviceId)}>
                ${member.name} <span class="tag">${member.role}</span>
                <code class="hint" title=${member.fingerprint}>${member.fingerprint.slice(0, 9)}…</code>
                ${
                  member.self
                    ? html`<span class="tag">this browser</span>`
                    : this.confirming === member
                      ? html`<div role="group" aria-label=${`Confirm revoking ${member.name}`}>
                          <p>
                            Revoke ${member.name}'s device? The relay cuts it off at once, and it gets no keys for
                            anything that starts afterwards.
                          </p>
                          <button type="button" class="danger" ?disabled=${busy} @click=${() => this.onRevoke(member)}>
                            ${this.busy === 'revoke' ? 'Revoking…' : 'Revoke device'}
                          </button>
                          <button type="button" class="secondary" @click=${() => (this.confirming = undefined)}>
                            Keep
                          </button>
                        </div>`
                      : html`${
                            this.historyPolicy && this.canShare
                              ? html`<button
                                  type="button"
                                  class="secondary"
                                  ?disabled=${busy}
                                  aria-label=${`Share past conversations with ${member.name}`}
                                  @click=${() => this.onShare(member)}
                                >
                                  ${this.busy === 'share' ? 'Sharing…' : 'Share past conversations'}
                                </button>`
                              : nothing
                          }
                          <button
                            type="button"
                            class="danger"
                            ?disabled=${busy}
                            aria-label=${`Revoke ${member.name}`}
                            @click=${() => (this.confirming = member)}
                          >
                            Revoke
                          </button>`
                }
              </li>`,
          )}
        </ul>
        ${
          this.unpublished
            ? html`<button type="button" ?disabled=${busy} @click=${() => this.onPublishAgain()}>Publish again</button>`
            : nothing
        }
        ${this.renderPolicy()}
      </section>
    `;
  }

  private renderPolicy() {
    if (!this.administration) return nothing;
    const busy = this.busy !== undefined;
    return html`
      <div class="policy" part="history-policy">
        <input
          type="checkbox"
          id="history-policy"
          aria-describedby="history-policy-hint"
          .checked=${this.historyPolicy === true}
          ?disabled=${busy || !this.canShare || this.historyPolicy === undefined}
          @change=${(e: Event) => this.onPolicy(e)}
        />
        <label for="history-policy">Agents read conversations from before they joined</label>
        <p class="hint" id="history-policy-hint">
          ${
            this.canShare
              ? 'When you approve a device, this browser shares the past conversations with it (not the ephemeral ones). It keeps them if revoked later, and gets nothing that starts afterwards.'
              : 'Only a supervisor console holding the organisation (its archive key) can share past conversations.'
          }
        </p>
        ${
          this.policyWarning
            ? html`<p class="error" role="alert" part="policy-warning">
                This setting may be out of date. ${this.policyWarning}
              </p>`
            : nothing
        }
      </div>
    `;
  }

  private renderJoin() {
    const membership = this.membership;
    if (!membership) {
      const busy = this.busy !== undefined;
      return html`
        <section part="join" aria-labelledby="join-heading">
          <h3 id="join-heading">Join a team</h3>
          <form novalidate @submit=${(e: SubmitEvent) => this.onJoin(e)}>
            <label for="join-code">Invite code or link</label>
            <input
              id="join-code"
              autocomplete="off"
              spellcheck="false"
              .value=${this.invite ?? ''}
              aria-describedby="join-hint"
              ?disabled=${busy}
            />
            <p class="hint" id="join-hint">
              Your supervisor sent it (<code>sci1…</code>). This browser makes its own keys; they never leave it.
            </p>
            ${this.renderMessages()}
            <button type="submit" ?disabled=${busy}>${this.busy === 'join' ? 'Preparing…' : 'Join'}</button>
          </form>
        </section>
      `;
    }
    return html`
      <section part="join" aria-labelledby="join-heading">
        <h3 id="join-heading">Joining as ${membership.name} (${membership.role})</h3>
        <p>Organisation <code>${membership.orgKey}</code></p>
        ${
          membership.joined
            ? html`<p role="status">Approved: this browser is on the team.</p>`
            : html`
                <label for="join-request">Your device request</label>
                <textarea
                  id="join-request"
                  rows="4"
                  readonly
                  spellcheck="false"
                  .value=${membership.request}
                ></textarea>
                <button type="button" @click=${() => this.copy('join-request', membership.request)}>
                  Copy request
                </button>
                <p>Send it to your supervisor. When they check it, read them this device id:</p>
                <p class="fingerprint" id="join-fingerprint">${membership.fingerprint}</p>
                <p role="status">${this.relay ? 'Waiting for approval…' : 'Waiting for approval (no relay set).'}</p>
                ${this.renderMessages()}
                <button type="button" class="secondary" @click=${() => this.onStartOver()}>Use another invite</button>
              `
        }
      </section>
    `;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
