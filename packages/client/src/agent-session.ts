import {
  agentWire,
  AgentSecureConversation,
  decodeControl,
  decodeEnvelope,
  decodeNote,
  encodeControl,
  encodeNote,
  envelopeDigest,
  EnvelopeType,
  ArchiveKeyError,
  fromHex,
  MAX_GRANTED_SEEDS,
  openHistoryGrant,
  orgIdFromRootKey,
  sealHistoryGrant,
  safetyCode,
  SealchatError,
  signRelayChallenge,
  toHex,
  UntrustedSenderError,
  verifyArchiveKey,
  verifyRosterHistory,
  type ControlAction,
  type ControlContent,
  type ConversationSummary,
  type DeviceIdentity,
  type GrantedSeed,
  type NoteContent,
  type PresenceStatus,
  type RelayFrame,
  type ShareOpener,
  type VerifiedRoster,
  WIRE_REVISION,
} from '@sealchat/protocol';
import type { ChatMessage } from './chat-message.js';
import { ChatSession, type ChatSessionOptions } from './chat-session.js';
import { Conversation, type Accepted, type ConversationOptions } from './conversation.js';
import { fetchRosterHistory } from './org-admin.js';
import { Outbox, type OutboxItem, type SealedItem } from './outbox.js';
import type { RequestFrame } from './relay-connection.js';
import { ConnectionLostError, RelayRequestError, toSealchatError } from './errors.js';

/**
 * Who handles a conversation, as the team's control envelopes say: folded in (counter, sender,
 * digest) order, so every console agrees whatever order the relay delivered them in.
 */
export interface Assignment {
  /** Device id (hex) of the agent handling it; undefined while unassigned. */
  readonly assignee: string | undefined;
  readonly closed: boolean;
}

/** A control envelope of a device not on the current roster (a former member): read, never applied. */
export interface RefusedControl {
  readonly seq: number;
  readonly action: ControlAction;
  /** The sender's device id (hex) and name, from its certificate of the time. */
  readonly senderDeviceId: string;
  readonly senderName: string;
}

/** A control envelope as read, with what orders it among the conversation's others. */
interface ReadControl {
  readonly seq: number;
  readonly control: ControlContent;
  readonly sender: string;
  readonly senderName: string;
  readonly digest: string;
}

const UNASSIGNED: Assignment = { assignee: undefined, closed: false };

/** The total order of control envelopes (docs/protocol.md §7): Lamport counter, then sender, then digest. */
function controlOrder(a: ReadControl, b: ReadControl): number {
  return a.control.counter - b.control.counter || compare(a.sender, b.sender) || compare(a.digest, b.digest);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function step(state: Assignment, control: ControlContent): Assignment {
  return control.action === 'close' || control.action === 'reopen'
    ? { assignee: state.assignee, closed: control.action === 'close' }
    : { assignee: toHex(control.deviceId!), closed: state.closed };
}

/**
 * An agent's view of a conversation: the chat, plus the team's coordination read from its control
 * envelopes — who handles it, whether it is closed. Kept in the conversation itself (encrypted,
 * stored by the relay like messages), so every agent device and every reload agree.
 */
export class AgentConversation extends Conversation {
  declare readonly secure: AgentSecureConversation;
  assignment: Assignment = UNASSIGNED;
  /** Called when a control envelope changed the assignment. */
  onAssignment: ((conversation: AgentConversation) => void) | undefined;
  /** Called when a control envelope of a device not on the roster is read, or the roster revokes its sender. */
  onControlRefused: ((conversation: AgentConversation, refused: RefusedControl) => void) | undefined;
  /** Every control envelope of the organisation's devices read so far, in {@link controlOrder}. */
  private readonly controls: ReadControl[] = [];
  /** Device ids (hex) on the current roster, with their names: only their controls count. */
  private members: ReadonlyMap<string, string>;
  /** The highest counter this device has issued here, so that its own controls in flight keep their order. */
  private issued = 0;
  private readonly myId: string;
  /** This device's control envelopes posted and not yet back, by digest: applied when the relay stored them. */
  readonly ownControls = new Map<string, Uint8Array<ArrayBuffer>>();

  /**
   * @param options.archive The organisation's archive key (from `verifyArchiveKey`): key shares this
   *   device is not a recipient of open with it when the archive is (archive mode).
   * @param options.pastRosters The org's earlier rosters (from `verifyRosterHistory`): chains of a
   *   device revoked since are read under the roster of their time, their messages marked `former`.
   * @throws TypeError for a past roster of another organisation, or two of one version.
   */
  constructor(
    conversationId: Uint8Array<ArrayBuffer>,
    me: DeviceIdentity,
    orgId: Uint8Array<ArrayBuffer>,
    roster: VerifiedRoster,
    options: Omit<ConversationOptions, 'mode'> & {
      readonly archive?: ShareOpener;
      readonly pastRosters?: readonly VerifiedRoster[];
      readonly keepSeeds?: boolean;
    } = {},
  ) {
    super(
      conversationId,
      me,
      orgId,
      roster,
      false,
      options,
      new AgentSecureConversation({ me, orgId, conversationId, roster, ...options }),
    );
    this.members = membersOf(roster);
    this.myId = toHex(me.deviceId);
  }

  /**
   * The control envelopes read from devices no longer on the roster (former members), in the order
   * they would have applied: not applied, for the console to say so.
   */
  get refusedControls(): readonly RefusedControl[] {
    return this.controls.filter((c) => !this.members.has(c.sender)).map(refusal);
  }

  /**
   * The counter for a control this device issues now: one more than any it has seen or issued
   * (a Lamport clock; docs/protocol.md §7).
   */
  nextControlCounter(): number {
    let highest = this.issued;
    for (const c of this.controls) if (this.members.has(c.sender)) highest = Math.max(highest, c.control.counter);
    // A member that wrote 2^53 − 1 leaves later controls tied on the counter: ordered by sender and digest.
    this.issued = Math.min(highest + 1, Number.MAX_SAFE_INTEGER);
    return this.issued;
  }

  /** As {@link Conversation.updateRoster}; the controls of a device it revokes stop counting. */
  override updateRoster(roster: VerifiedRoster): void {
    super.updateRoster(roster);
    const before = this.members;
    this.members = membersOf(roster);
    for (const c of this.controls)
      if (before.has(c.sender) && !this.members.has(c.sender)) this.onControlRefused?.(this, refusal(c));
    const folded = this.fold();
    if (folded.assignee !== this.assignment.assignee || folded.closed !== this.assignment.closed) {
      this.assignment = folded;
      this.onAssignment?.(this);
    }
  }

  override async accept(seq: number, bytes: Uint8Array): Promise<Accepted> {
    let digest = this.ownControls.size > 0 ? toHex(await envelopeDigest(bytes)) : '';
    const own = this.ownControls.get(digest);
    const result = await super.accept(seq, bytes);
    const payload = result.payload;
    // A former member's message: marked here, so the visitor's Conversation carries none of it.
    const shown = result.messages.find((m) => m.id === `seq:${seq}`);
    if (shown) {
      const envelope = decodeEnvelope(bytes);
      if (this.secure.formerSenderOf(envelope.senderDeviceId, envelope.chainId)) {
        const marked: ChatMessage = { ...shown, former: true };
        this.messages[this.messages.lastIndexOf(shown)] = marked;
        result.messages[result.messages.indexOf(shown)] = marked;
      }
    }
    if (own) {
      this.ownControls.delete(digest);
      const senderName = this.members.get(this.myId) ?? '';
      this.apply({ seq, control: decodeControl(own), sender: this.myId, senderName, digest });
    }
    // Only the organisation's devices coordinate; a visitor cannot assign or close.
    else if (payload?.type === EnvelopeType.control && payload.sender.role !== 'visitor') {
      digest ||= toHex(await envelopeDigest(bytes));
      const control = decodeControl(payload.plaintext);
      const sender = toHex(payload.sender.deviceId);
      this.apply({ seq, control, sender, senderName: payload.sender.displayName ?? '', digest });
    }
    if (payload?.type === EnvelopeType.note) {
      // Only roster devices write notes (AgentSecureConversation refuses anyone else's).
      const note = decodeNote(payload.plaintext);
      const message: ChatMessage = {
        id: `seq:${seq}`,
        conversationId: this.id,
        seq,
        author: 'agent',
        authorName: payload.sender.displayName,
        mine: payload.sender.mine,
        text: note.text,
        fields: undefined,
        sentAt: note.sentAt,
        state: 'sent',
        note: true,
        ...(payload.sender.former ? { former: true } : {}),
      };
      this.messages.push(message);
      result.messages.push(message);
    }
    return result;
  }

  /** Adds a note this device is about to send (state `sending`) to the list, before it is sealed. */
  draftNote(content: NoteContent, clientMessageId: string): ChatMessage {
    const message: ChatMessage = {
      ...this.draft({ kind: 'text', text: content.text, sentAt: content.sentAt }, clientMessageId),
      note: true,
    };
    this.messages[this.messages.findIndex((m) => m.id === clientMessageId)] = message;
    return message;
  }

  /**
   * Encrypts a note for the roster's readers, never the visitor (a note key share first when the
   * note chain rotates). The note's echo marks message `clientMessageId` sent.
   * @throws UntrustedSenderError before the visitor has written; RangeError for text over the limit.
   */
  async sealNote(content: NoteContent, clientMessageId: string): Promise<Uint8Array<ArrayBuffer>[]> {
    const sealed = await this.secure.sealNote(encodeNote(content));
    return sealed.map((s) => {
      if (s.type === EnvelopeType.note) this.ownPending.set(s.digest, clientMessageId);
      return s.envelope;
    });
  }

  /**
   * Places a control among those read. One of a device not on the roster (a former member, whose
   * chain verified under the roster of its time) is kept aside and reported, never applied. One
   * that sorts last applies on top; one that sorts earlier (the relay delivered it late) re-folds.
   */
  private apply(read: ReadControl): void {
    let at = this.controls.length;
    while (at > 0 && controlOrder(this.controls[at - 1]!, read) > 0) at--;
    this.controls.splice(at, 0, read);
    if (!this.members.has(read.sender)) {
      this.onControlRefused?.(this, refusal(read));
      return;
    }
    this.assignment = at === this.controls.length - 1 ? step(this.assignment, read.control) : this.fold();
    this.onAssignment?.(this);
  }

  /** The assignment the counted controls give, from the start, in order. */
  private fold(): Assignment {
    let state = UNASSIGNED;
    for (const c of this.controls) if (this.members.has(c.sender)) state = step(state, c.control);
    return state;
  }
}

function membersOf(roster: VerifiedRoster): ReadonlyMap<string, string> {
  return new Map(roster.devices.map((d) => [toHex(d.deviceId), d.displayName]));
}

function refusal(c: ReadControl): RefusedControl {
  return { seq: c.seq, action: c.control.action, senderDeviceId: c.sender, senderName: c.senderName };
}

/**
 * Relay answers to `get-roster-history` that mean "no history here", not a failure: the frame
 * refused (a relay that does not serve it), or served to supervisors only.
 */
const NO_ROSTER_HISTORY = new Set(['SEALCHAT_E_BAD_FRAME', 'SEALCHAT_E_UNAUTHORIZED', 'SEALCHAT_E_NOT_FOUND']);

/** History grants per page asked of the relay (a grant is usually well under 1 KiB; at most 64 KiB). */
const GRANT_PAGE = 64;

/** Agents attach by their authenticated socket, not by a visitor capability. */
const EMPTY_CAPABILITY = new Uint8Array(0);

export interface AgentSessionOptions extends ChatSessionOptions {
  /** The organisation root public key (32 bytes) this device's certificate chains to. */
  readonly orgRootKey: Uint8Array<ArrayBuffer>;
  /** This agent device's identity; its certificate must be on the org's roster. */
  readonly identity: DeviceIdentity;
  /** Availability announced on every (re)connect; visitors see "leave a message" when no agent is online. Default `online`. */
  readonly presence?: PresenceStatus;
  /**
   * The organisation's X25519 archive key pair (private key non-extractable), for a supervisor
   * console that reads history: in archive mode every chain is also shared with the archive key, so
   * with it this device reads conversations, notes included, from before it was enrolled. Ephemeral
   * conversations have no archive share and stay unreadable. Its public key must be the roster's
   * archive key, or {@link AgentSession.start} fails with ArchiveKeyError.
   */
  readonly archiveKey?: CryptoKeyPair;
}

/**
 * An agent device's side: authenticates to the relay with its device key, follows every
 * conversation of the organisation, decrypts what was shared with it, and replies.
 */
export class AgentSession extends ChatSession {
  protected readonly isVisitor = false;
  private status: PresenceStatus = 'online';
  private archiveKey: CryptoKeyPair | undefined;
  /** {@link archiveKey}, once checked against the roster. */
  private archive: ShareOpener | undefined;
  /**
   * The org's rosters this session verified, the current one's version included, ascending: chains
   * of devices revoked since are read under them (docs/protocol.md §8 step 4).
   */
  private pastRosters: readonly VerifiedRoster[] = [];
  /** Chain seeds of past conversations granted to this device (docs/protocol.md §14), by conversation id. */
  private readonly grants = new Map<string, readonly GrantedSeed[]>();
  /**
   * Connects, authenticates and attaches to every conversation of the org.
   * @throws RelayRequestError when the relay refuses the device (not on the roster).
   * @throws ArchiveKeyError when `archiveKey` is not the roster's archive key, or is extractable.
   */
  static async start(options: AgentSessionOptions): Promise<AgentSession> {
    const orgId = await orgIdFromRootKey(options.orgRootKey);
    // An agent's connection speaks the agent frames too (login, org list, presence, settings).
    const session = new AgentSession({ ...options, wire: agentWire }, options.identity, options.orgRootKey, orgId);
    session.status = options.presence ?? 'online';
    session.archiveKey = options.archiveKey;
    await session.connect();
    return session;
  }

  /** This device's availability as last set. */
  get presence(): PresenceStatus {
    return this.status;
  }

  /** Sets this device's availability (online, away, offline); kept across reconnects. */
  async setPresence(status: PresenceStatus): Promise<void> {
    this.status = status;
    if (this.connection.state === 'open') await this.connection.request({ kind: 'set-presence', status });
  }

  /** Conversations in the order they were opened. */
  get conversationList(): readonly AgentConversation[] {
    return [...this.conversations.values()].filter((c) => c instanceof AgentConversation);
  }

  /**
   * A roster this session accepted (at start, or pushed by the relay when the team changed):
   * `team` changes with it, so a `team` event tells the console to show the new list.
   */
  protected override async acceptRoster(bytes: Uint8Array<ArrayBuffer>): Promise<VerifiedRoster> {
    const roster = await super.acceptRoster(bytes);
    this.dispatchEvent(new CustomEvent('team', { detail: roster.version }));
    return roster;
  }

  /** The organisation's agent and supervisor devices on the current roster (to assign to). */
  get team(): readonly { deviceId: string; displayName: string; role: string }[] {
    return (this.roster?.devices ?? []).map((d) => ({
      deviceId: toHex(d.deviceId),
      displayName: d.displayName,
      role: d.role,
    }));
  }

  /** This device's id (hex). */
  get deviceId(): string {
    return toHex(this.identity.deviceId);
  }

  /** Takes a conversation: assigns it to this device. */
  claim(conversationId: string): Promise<void> {
    return this.control(conversationId, 'claim', this.identity.deviceId);
  }

  /** Assigns (or transfers) a conversation to a device on the roster. */
  assign(conversationId: string, deviceId: string): Promise<void> {
    if (!this.team.some((d) => d.deviceId === deviceId))
      return Promise.reject(new SealchatError('SEALCHAT_E_NOT_FOUND', 'No such device on the roster'));
    return this.control(conversationId, 'assign', fromHex(deviceId));
  }

  /** Closes a conversation (it leaves the open inbox; reopen to take it up again). */
  closeConversation(conversationId: string): Promise<void> {
    return this.control(conversationId, 'close', undefined);
  }

  reopenConversation(conversationId: string): Promise<void> {
    return this.control(conversationId, 'reopen', undefined);
  }

  /** Queues a control envelope; the state changes when the relay stores it and it comes back, for every agent alike. */
  private async control(
    conversationId: string,
    action: ControlAction,
    deviceId: Uint8Array<ArrayBuffer> | undefined,
  ): Promise<void> {
    await this.started;
    const conversation = this.conversations.get(conversationId);
    if (!(conversation instanceof AgentConversation))
      throw new SealchatError('SEALCHAT_E_NOT_FOUND', 'No such conversation');
    if (!conversation.hasVisitor) throw new SealchatError('SEALCHAT_E_NO_VISITOR', 'The visitor has not written yet');
    // Counted now, not when sealed: the order is the one the agent clicked in.
    const counter = conversation.nextControlCounter();
    this.outbox.enqueue({
      id: Outbox.newClientMessageId(),
      conversationId,
      content: { kind: 'control', action, deviceId, sentAt: Date.now(), counter },
    });
  }

  protected override async sealItem(item: OutboxItem): Promise<SealedItem> {
    if (item.content.kind !== 'control' && item.content.kind !== 'note') return super.sealItem(item);
    const conversation = this.conversations.get(item.conversationId ?? '');
    if (!conversation) throw new SealchatError('SEALCHAT_E_NOT_FOUND', 'The conversation is gone');
    if (item.content.kind === 'note') {
      // Never through Conversation.seal: a note must not go on the chain the visitor reads.
      if (!(conversation instanceof AgentConversation))
        throw new SealchatError('SEALCHAT_E_NOT_FOUND', 'Not an agent conversation');
      return {
        conversationId: conversation.conversationId,
        envelopes: await conversation.sealNote(item.content, item.id),
      };
    }
    const plaintext = encodeControl(item.content);
    const sealed = await conversation.secure.seal(EnvelopeType.control, plaintext);
    for (const e of sealed)
      if (e.type === EnvelopeType.control)
        if (conversation instanceof AgentConversation) conversation.ownControls.set(e.digest, plaintext);
    return { conversationId: conversation.conversationId, envelopes: sealed.map((e) => e.envelope) };
  }

  /** Encrypts and queues a reply in a conversation. */
  async reply(conversationId: string, text: string): Promise<ChatMessage> {
    await this.started;
    const conversation = this.conversations.get(conversationId);
    if (!conversation) throw new SealchatError('SEALCHAT_E_NOT_FOUND', 'No such conversation');
    if (!conversation.hasVisitor) throw new SealchatError('SEALCHAT_E_NO_VISITOR', 'The visitor has not written yet');
    return this.sendContent(conversation, { kind: 'text', text, sentAt: Date.now() });
  }

  /**
   * Writes a private note in a conversation: the organisation's readers (and, in archive mode, the
   * archive key) can read it, the visitor cannot (docs/protocol.md §7). Queued like a reply: it shows
   * as `sending`, then `sent`, or `failed` with {@link retry}; its ChatMessage has `note: true`.
   * @throws SealchatError `SEALCHAT_E_NOT_FOUND` for an unknown conversation, `SEALCHAT_E_NO_VISITOR`
   *   before the visitor has written.
   */
  async addNote(conversationId: string, text: string): Promise<ChatMessage> {
    await this.started;
    const conversation = this.conversations.get(conversationId);
    if (!(conversation instanceof AgentConversation))
      throw new SealchatError('SEALCHAT_E_NOT_FOUND', 'No such conversation');
    if (!conversation.hasVisitor) throw new SealchatError('SEALCHAT_E_NO_VISITOR', 'The visitor has not written yet');
    const content: NoteContent = { kind: 'note', text, sentAt: Date.now() };
    const item = { id: Outbox.newClientMessageId(), conversationId, content };
    const message = conversation.draftNote(content, item.id);
    this.emit('message', message);
    this.outbox.enqueue(item);
    return message;
  }

  /**
   * Erases a conversation for everyone (a visitor's erasure request): the relay deletes every record
   * with secure_delete and tells every subscriber, this session included, which drops it.
   * @throws RelayRequestError when the relay refuses (this device is not an agent of the org).
   */
  async deleteConversation(conversationId: string): Promise<void> {
    await this.started;
    const conversation = this.conversations.get(conversationId);
    if (!conversation) throw new SealchatError('SEALCHAT_E_NOT_FOUND', 'No such conversation');
    await this.connection.request({
      kind: 'delete-conversation',
      conversationId: conversation.conversationId,
      capability: EMPTY_CAPABILITY,
    });
  }

  /**
   * The safety code of a conversation, to compare with the one the visitor reads out
   * (docs/protocol.md §Safety code); undefined until the visitor has written.
   */
  async safetyCode(conversationId: string): Promise<string | undefined> {
    const conversation = this.conversations.get(conversationId);
    const visitorKey = conversation?.visitorSigningKey;
    if (!conversation || !visitorKey) return undefined;
    return safetyCode(this.orgRootKey, visitorKey, conversation.conversationId);
  }

  protected override async onConnected(challenge: Uint8Array<ArrayBuffer>): Promise<void> {
    // The relay pushes unasked frames (a new roster, an erasure) only to sockets that said they speak
    // revision 2 or later: an agent with no conversation open yet must still hear that the team
    // changed, or its next chains would leave a new colleague out. (Every relay since revision 2
    // knows `hello`; a revision-1 relay could not decode it and this session would not start.)
    const welcome = await this.connection
      .request({ kind: 'hello', revision: WIRE_REVISION })
      .catch((error: unknown) => {
        if (!(error instanceof RelayRequestError)) throw error;
      });
    const revision = welcome?.kind === 'welcome' ? welcome.revision : 1;
    const signature = await signRelayChallenge(
      this.identity.signing.privateKey,
      challenge,
      this.orgId,
      this.identity.deviceId,
      this.connection.url,
    );
    await this.connection.request({
      kind: 'auth-agent',
      orgId: this.orgId,
      deviceId: this.identity.deviceId,
      signature,
    });
    const roster = await this.refreshRoster();
    if (this.archiveKey && !this.archive) this.archive = await verifyArchiveKey(this.archiveKey, roster);
    // Revision 3 serves the history; an older relay would not even answer the frame.
    if (revision >= 3) await this.loadRosterHistory(roster);
    // Before the conversations: a granted chain opens as its key share is read.
    if (!this.archive && revision >= 4) await this.loadHistoryGrants();
    await this.connection.request({ kind: 'set-presence', status: this.status });
    const answer = await this.connection.request({ kind: 'watch-org' });
    if (answer.kind !== 'conversation-list') {
      throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected a conversation list, got ${answer.kind}`);
    }
    for (const summary of answer.conversations) await this.follow(summary);
    this.outbox.resume();
  }

  /**
   * Fetches the rosters published since the last one this session holds, verifies each as of its
   * own issue time, and gives the whole history to every conversation (before the backlog is read,
   * so a revoked colleague's old replies verify). A relay that does not serve the history (an older
   * revision, or it refuses this device) leaves the session without: those replies are refused, as
   * before. A roster that does not verify, or a history that does not page, is reported as an
   * `error` event and left out.
   * @throws ConnectionLostError when the socket drops first (the next connection tries again).
   */
  private async loadRosterHistory(current: VerifiedRoster): Promise<void> {
    const channel = { request: (frame: RequestFrame) => this.connection.request(frame) };
    let encoded: Uint8Array<ArrayBuffer>[];
    try {
      encoded = await fetchRosterHistory(channel, (this.pastRosters.at(-1)?.version ?? 0) + 1);
    } catch (error) {
      if (error instanceof RelayRequestError && NO_ROSTER_HISTORY.has(error.code)) return;
      // A relay that pages badly (out of order, too many) costs the history, not the session.
      if (error instanceof SealchatError && !(error instanceof ConnectionLostError)) {
        this.emit('error', error);
        return;
      }
      throw error;
    }
    const history = await verifyRosterHistory(encoded, {
      orgRootKey: this.orgRootKey,
      known: [...this.pastRosters, current],
    });
    for (const error of history.refused) this.emit('error', toSealchatError(error));
    this.pastRosters = history.rosters;
    for (const conversation of this.conversationList) conversation.secure.setPastRosters(history.rosters);
  }

  /**
   * Fetches and opens the history grants addressed to this device. A relay that does not serve
   * them leaves the session without (as before); a grant that does not open is an `error` event.
   * @throws ConnectionLostError when the socket drops first (the next connection tries again).
   */
  private async loadHistoryGrants(): Promise<void> {
    let after = new Uint8Array(16);
    for (;;) {
      let page: RelayFrame;
      try {
        page = await this.connection.request({ kind: 'get-history-grants', after, limit: GRANT_PAGE });
      } catch (error) {
        if (error instanceof RelayRequestError && NO_ROSTER_HISTORY.has(error.code)) return;
        throw error;
      }
      if (page.kind !== 'history-grants')
        throw new SealchatError('SEALCHAT_E_BAD_ANSWER', `Expected history grants, got ${page.kind}`);
      // A grant given while this session was away (its push missed): that conversation is read anew
      // as the caller attaches it.
      for (const { conversationId, grant } of page.grants)
        if ((await this.openGrant(conversationId, grant)) && this.conversations.has(toHex(conversationId)))
          this.renew(conversationId);
      const last = page.grants.at(-1);
      if (!last || page.grants.length < GRANT_PAGE) return;
      after = last.conversationId;
    }
  }

  /**
   * Opens one grant for this device and keeps its seeds. True when that changed what this device
   * holds for the conversation; false for a grant it already had, or (with an `error` event) one
   * that does not open.
   */
  private async openGrant(conversationId: Uint8Array<ArrayBuffer>, grant: Uint8Array): Promise<boolean> {
    let seeds: GrantedSeed[];
    try {
      seeds = await openHistoryGrant({ orgId: this.orgId, conversationId, me: this.identity, grant });
    } catch (error) {
      this.emit('error', toSealchatError(error));
      return false;
    }
    const id = toHex(conversationId);
    const seedsOf = (list: readonly GrantedSeed[] | undefined) => list?.map((g) => toHex(g.seed)).join();
    const changed = seedsOf(this.grants.get(id)) !== seedsOf(seeds);
    this.grants.set(id, seeds);
    return changed;
  }

  /**
   * Replaces a conversation by a new one that reads it from the start, with the seeds granted since.
   * What the one replaced holds stays the mark the new one's history must reach (a relay forces
   * this re-read with a pushed grant, which anyone can seal).
   */
  private renew(conversationId: Uint8Array<ArrayBuffer>): AgentConversation {
    const conversation = this.newConversation(conversationId);
    const replaced = this.conversations.get(toHex(conversationId));
    if (replaced) this.marks.replace(replaced, conversation);
    this.conversations.set(toHex(conversationId), conversation);
    this.emit('conversation', conversation);
    return conversation;
  }

  /**
   * A grant pushed by the relay as a supervisor shared history: the conversation is read again from
   * the start with the granted seeds (its key shares were already read without them), and shown anew.
   */
  private async granted(conversationId: Uint8Array<ArrayBuffer>, grant: Uint8Array): Promise<void> {
    if (this.archive || !(await this.openGrant(conversationId, grant))) return;
    if (this.conversations.has(toHex(conversationId))) await this.attach(this.renew(conversationId), EMPTY_CAPABILITY);
  }

  /**
   * History grants for `deviceId`: each conversation this session reads, its chain seeds sealed to
   * that device's agreement key as the current roster certifies it (docs/protocol.md §14). Only a
   * session holding the archive key has every chain to give. A conversation with more chains than
   * one grant carries ({@link MAX_GRANTED_SEEDS}) is counted in `skipped`.
   * @throws ArchiveKeyError without the archive key; TypeError when the device is not on the roster.
   */
  async historyGrantsFor(deviceId: Uint8Array): Promise<{
    grants: { conversationId: Uint8Array<ArrayBuffer>; grant: Uint8Array<ArrayBuffer> }[];
    skipped: number;
  }> {
    if (!this.archive) throw new ArchiveKeyError('Only a console holding the archive key can share history');
    const find = () => this.roster?.devices.find((d) => toHex(d.deviceId) === toHex(deviceId));
    // Just approved: the roster that lists it may not have been pushed here yet.
    const recipient = find() ?? ((await this.refreshRoster()) && find());
    if (!recipient) throw new TypeError('That device is not on the roster');
    const grants = [];
    let skipped = 0;
    for (const conversation of this.conversationList) {
      const seeds = await conversation.secure.grantableSeeds();
      if (seeds.length === 0) continue;
      if (seeds.length > MAX_GRANTED_SEEDS) {
        skipped++;
        continue;
      }
      const { conversationId } = conversation;
      grants.push({
        conversationId,
        grant: await sealHistoryGrant({ orgId: this.orgId, conversationId, recipient, seeds }),
      });
    }
    return { grants, skipped };
  }

  protected override onFrame(frame: RelayFrame): void {
    if (frame.kind === 'history-granted') {
      void this.granted(frame.conversationId, frame.grant).catch((error: unknown) =>
        this.emit('error', toSealchatError(error)),
      );
      return;
    }
    if (frame.kind === 'conversation-deleted') {
      // Erased by the visitor or by retention: it leaves the inbox.
      const id = toHex(frame.conversationId);
      if (this.conversations.delete(id)) {
        this.outbox.discard(id);
        this.dispatchEvent(new CustomEvent('deleted', { detail: id }));
      }
      return;
    }
    if (frame.kind === 'conversation-created') {
      void this.follow(frame.conversation).catch((error: unknown) => this.emit('error', toSealchatError(error)));
      return;
    }
    super.onFrame(frame);
  }

  private async follow(summary: ConversationSummary): Promise<void> {
    const id = toHex(summary.conversationId);
    let conversation = this.conversations.get(id);
    if (!conversation) {
      conversation = this.newConversation(summary.conversationId);
      this.conversations.set(id, conversation);
      this.emit('conversation', conversation);
    }
    await this.attach(conversation, EMPTY_CAPABILITY);
  }

  /** A conversation as this session reads it: archive key, past rosters and granted seeds. */
  private newConversation(conversationId: Uint8Array<ArrayBuffer>): AgentConversation {
    const conversation = new AgentConversation(conversationId, this.identity, this.orgId, this.roster!, {
      ...(this.options.rotation ? { rotation: this.options.rotation } : {}),
      ...(this.options.maxSkip !== undefined ? { maxSkip: this.options.maxSkip } : {}),
      ...(this.archive ? { archive: this.archive, keepSeeds: true } : {}),
      pastRosters: this.pastRosters,
    });
    const seeds = this.grants.get(toHex(conversationId));
    if (seeds) conversation.secure.grant(seeds);
    conversation.onAssignment = (c) =>
      this.dispatchEvent(new CustomEvent('assignment', { detail: { conversationId: c.id, ...c.assignment } }));
    // A former member's claim, assign or close: not applied, and reported like any refused record.
    conversation.onControlRefused = (c, refused) =>
      this.emit('problem', {
        conversationId: c.id,
        seq: refused.seq,
        error: new UntrustedSenderError(`A ${refused.action} by ${refused.senderName}, who is no longer on the team`),
      });
    return conversation;
  }

  /**
   * Sends one request on this session's authenticated connection, once it has started, and resolves
   * with the relay's answer (org-admin.ts builds the supervisor's settings and audit log on it).
   * @throws RelayRequestError when the relay refuses; ConnectionLostError when the socket drops first.
   */
  async request(frame: RequestFrame): Promise<RelayFrame> {
    await this.started;
    return this.connection.request(frame);
  }
}
