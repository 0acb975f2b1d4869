import { html, LitElement, nothing } from 'lit';
import {
  chime,
  linkify,
  type AgentConversation,
  type AgentSession,
  type ChatMessage,
  type Conversation,
  type MessageState,
  type OrgAdministration,
  type PresenceStatus,
  type TypingSignal,
} from '@sealchat/client';

import { agentStyles } from './agent-styles.js';
import { fromHex } from './hex.js';

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** When a message was written (by the sender's clock), as a machine-readable <time>. */
function renderTime(sentAt: number) {
  const date = new Date(sentAt);
  return html`<time datetime=${date.toISOString()}>${clock.format(date)}</time>`;
}

/** Chat text as text nodes, with http(s) links as anchors that cannot reach back into this page. */
/**
 * Who wrote a message, in words. A device revoked since is named as its certificate named it then,
 * marked as a former member (its messages verify against the roster of their time: docs/protocol.md §8).
 */
function authorOf(m: ChatMessage): string {
  if (m.author === 'visitor') return 'Visitor';
  const name = m.authorName ?? 'Agent';
  return m.former ? `${name} (former member)` : name;
}

const ACTION_LABEL = { claim: 'claim', assign: 'assignment', close: 'close', reopen: 'reopen' } as const;

/** Refused team actions named per conversation; more are counted, not listed. */
const MAX_REFUSED_NAMED = 3;

/**
 * The team actions (claim, assign, close, reopen) of devices no longer on the team, which this
 * console read and did not apply: said in words, so the state shown is not a mystery.
 */
function renderRefused(c: AgentConversation) {
  const refused = c.refusedControls;
  if (refused.length === 0) return nothing;
  const named = refused
    .slice(-MAX_REFUSED_NAMED)
    .map((r) => `${ACTION_LABEL[r.action]} by ${r.senderName || 'a device'}`)
    .join(', ');
  const more = refused.length - MAX_REFUSED_NAMED;
  return html`<p class="warning refused" role="status">
    Not applied, the sender is no longer on the team: ${named}${more > 0 ? ` and ${more} more` : ''}.
  </p>`;
}

/**
 * What the conversation's transcript revealed, in words (docs/protocol.md §8): one line per kind of
 * notice, worst first, never only an event nobody listens to.
 */
const NOTICE_TEXT: readonly (readonly [kinds: readonly string[], text: string])[] = [
  [['refused'], 'Some records in this conversation were refused (forged, misplaced or unreadable) and are not shown.'],
  [
    ['fork'],
    'A sender’s messages exist in two versions: one was not written by it, or it wrote from two places at once.',
  ],
  [['gap', 'trimmed'], 'Some messages in this conversation may be missing: the relay did not deliver them all.'],
  [['reorder'], 'Some messages arrived late, after later ones.'],
];

/** The sentences of {@link NOTICE_TEXT} that apply to a conversation, worst first. */
function noticesOf(c: Conversation): string[] {
  const kinds = new Set<string>(c.notices.map((n) => n.kind));
  return NOTICE_TEXT.filter(([of]) => of.some((k) => kinds.has(k))).map(([, text]) => text);
}

function renderNotices(c: AgentConversation) {
  return noticesOf(c).map((text) => html`<p class="warning notice" role="status">${text}</p>`);
}

function renderText(text: string) {
  return linkify(text).map((segment) =>
    segment.kind === 'link'
      ? html`<a href=${segment.href} target="_blank" rel="noopener noreferrer">${segment.text}</a>`
      : segment.text,
  );
}

const STATE_LABEL: Record<MessageState, string> = {
  sending: 'Sending…',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};

/** Inbox views: open (not closed), unassigned, assigned to this device, closed, everything. */
export type InboxFilter = 'open' | 'unassigned' | 'mine' | 'closed' | 'all';
const FILTERS: readonly [InboxFilter, string][] = [
  ['open', 'Open'],
  ['unassigned', 'Unassigned'],
  ['mine', 'Mine'],
  ['closed', 'Closed'],
  ['all', 'All'],
];

/** How many conversations can be open beside the selected one. */
const MAX_BESIDE = 2;

/** How long a typing notice shows. */
const TYPING_SHOWN_MS = 6000;

/**
 * The agent console: every conversation of the organisation on the left, the selected one on
 * the right, decrypted on this device. Give it a started {@link AgentSession} via `session`.
 *
 * @event sealchat-message - A message was added or changed state; `detail` is the ChatMessage.
 * @event sealchat-select - The agent opened a conversation; `detail` is its id.
 *
 * @csspart inbox - The conversation list.
 * @csspart conversation - The open conversation.
 * @csspart composer - The reply form.
 *
 * @cssprop --sealchat-accent - Own-message and button colour.
 * @cssprop --sealchat-agent-height - Height of the console.
 */
export class SealchatAgent extends LitElement {
  static override styles = agentStyles;
  static override properties = {
    session: { attribute: false },
    selected: { type: String },
    cannedReplies: { attribute: false },
    administration: { attribute: false },
    beside: { state: true },
    filter: { state: true },
    query: { state: true },
  };

  /** The agent device's session; the console renders what it holds. */
  session: AgentSession | undefined;
  /**
   * A supervisor's administration of the organisation (`OrgAdministration.connect`), when this
   * console runs in the browser that holds it: erasures and transcript exports are then recorded in
   * the audit log.
   */
  administration: OrgAdministration | undefined;
  /** Id (hex) of the open conversation. */
  selected: string | undefined;
  /** Ready-made answers the agent can insert into the reply box. */
  cannedReplies: readonly string[] = [];
  /** Which conversations the inbox lists (the team's assignments, from the conversations themselves). */
  filter: InboxFilter = 'open';
  /** Conversations open beside the selected one. */
  beside: readonly string[] = [];
  /** The search box's text: only conversations whose decrypted text contains it are listed. */
  query = '';
  private listening: AgentSession | undefined;
  private readonly onMessage = (event: CustomEvent<ChatMessage>) => {
    const message = event.detail;
    this.selected ??= message.conversationId;
    this.dispatchEvent(new CustomEvent('sealchat-message', { detail: message, bubbles: true, composed: true }));
    // Only what arrives now: the history replayed on load is not news.
    const fresh = Date.now() - message.sentAt < 60_000;
    if (fresh && message.author === 'visitor' && !this.seen.has(message.id + message.conversationId)) {
      this.seen.add(message.id + message.conversationId);
      this.alert(message.conversationId);
    }
    this.requestUpdate();
  };
  /** Visitor messages already announced (a reload's backlog is announced once at most, not per message). */
  private readonly seen = new Set<string>();
  private alerting = 0;
  private readonly onChange = () => this.requestUpdate();
  /** Who is typing where: conversation id → when the notice expires. */
  private readonly typing = new Map<string, number>();
  private readonly onTyping = (event: CustomEvent<TypingSignal>) => {
    this.typing.set(event.detail.conversationId, Date.now() + TYPING_SHOWN_MS);
    setTimeout(() => this.requestUpdate(), TYPING_SHOWN_MS + 50);
    this.requestUpdate();
  };
  /** The last action that failed (shown until the next one). */
  private failure: string | undefined;
  /** Safety codes computed so far, by conversation id. */
  private readonly codes = new Map<string, string>();

  protected override willUpdate(): void {
    if (this.listening === this.session) return;
    this.listening?.removeEventListener('message', this.onMessage);
    this.listening?.removeEventListener('conversation', this.onChange);
    this.listening?.removeEventListener('state', this.onChange);
    this.listening?.removeEventListener('transcript', this.onChange);
    this.listening?.removeEventListener('typing', this.onTyping);
    this.listening?.removeEventListener('deleted', this.onChange);
    this.listening?.removeEventListener('assignment', this.onChange);
    this.listening?.removeEventListener('team', this.onChange);
    this.listening?.removeEventListener('problem', this.onChange);
    this.listening = this.session;
    this.session?.addEventListener('message', this.onMessage);
    this.session?.addEventListener('conversation', this.onChange);
    this.session?.addEventListener('state', this.onChange);
    this.session?.addEventListener('transcript', this.onChange);
    this.session?.addEventListener('typing', this.onTyping);
    this.session?.addEventListener('deleted', this.onChange);
    this.session?.addEventListener('assignment', this.onChange);
    // A new roster (a colleague approved or revoked): the "Assign to" list follows.
    this.session?.addEventListener('team', this.onChange);
    // A refused record, such as a former member's claim: the conversation says so.
    this.session?.addEventListener('problem', this.onChange);
  }

  protected override updated(): void {
    // The open conversation is on screen: tell the visitor it was read (a no-op when nothing is new).
    const current = this.current();
    if (current && this.session && document.visibilityState === 'visible')
      for (const c of this.opened(current)) this.session.markRead(c.id);
  }

  /** The conversations matching the search, newest activity last (as opened). */
  private listed(conversations: readonly AgentConversation[]): readonly AgentConversation[] {
    const query = this.query.trim().toLowerCase();
    const me = this.session?.deviceId;
    return conversations.filter(({ assignment: a, id, messages }) => {
      const shown =
        this.filter === 'all' ||
        (this.filter === 'closed'
          ? a.closed
          : !a.closed && (this.filter === 'open' || (this.filter === 'mine' ? a.assignee === me : !a.assignee)));
      return shown && (!query || id.startsWith(query) || messages.some((m) => m.text.toLowerCase().includes(query)));
    });
  }

  private current(): AgentConversation | undefined {
    const conversations = this.session?.conversationList ?? [];
    return conversations.find((c) => c.id === this.selected) ?? conversations.at(-1);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('keydown', this.onShortcut);
    this.listening?.removeEventListener('message', this.onMessage);
    this.listening = undefined;
  }

  protected override render() {
    const conversations = this.session?.conversationList ?? [];
    // With nothing chosen yet (a fresh load), open the newest conversation.
    const current = this.current();
    return html`
      <nav part="inbox" aria-label="Conversations">
        <h2>Conversations</h2>
        ${
          this.session
            ? html`<label class="presence"
                >Status
                <select @change=${this.onPresence} .value=${this.session.presence}>
                  <option value="online">Online</option>
                  <option value="away">Away</option>
                </select></label
              >`
            : nothing
        }
        ${
          typeof Notification !== 'undefined' && Notification.permission === 'default'
            ? html`<button type="button" class="notify" @click=${this.askNotifications}>Enable notifications</button>`
            : nothing
        }
        <input
          type="search"
          class="search"
          aria-label="Search conversations"
          placeholder="Search (/)"
          .value=${this.query}
          @input=${(event: Event) => (this.query = (event.target as HTMLInputElement).value)}
        />
        <div class="filters" role="group" aria-label="Show">
          ${FILTERS.map(
            ([filter, label]) =>
              html`<button
                type="button"
                aria-pressed=${this.filter === filter ? 'true' : 'false'}
                @click=${() => (this.filter = filter)}
              >
                ${label}
              </button>`,
          )}
        </div>
        ${conversations.length === 0 ? html`<p class="empty">No conversations yet.</p>` : nothing}
        <ul>
          ${this.listed(conversations).map((c) => this.renderEntry(c, c === current))}
        </ul>
      </nav>
      <div class="open">
        ${
          current
            ? this.opened(current).map(
                (c) =>
                  html`<section class="conversation" part="conversation" aria-label=${`Visitor ${c.id.slice(0, 6)}`}>
                    ${this.renderConversation(c)}
                  </section>`,
              )
            : html`<section class="conversation" part="conversation" aria-label="Conversation">
                <p class="empty">Select a conversation.</p>
              </section>`
        }
      </div>
    `;
  }

  /** Who handles the conversation, and the buttons to take, hand over, close or reopen it. */
  private renderAssignment(c: AgentConversation) {
    const session = this.session;
    if (!session) return nothing;
    const { assignee, closed } = c.assignment;
    const name = (id: string | undefined) =>
      id === session.deviceId ? 'you' : (session.team.find((d) => d.deviceId === id)?.displayName ?? 'a former agent');
    const act = (action: Promise<void>) => action.catch(this.fail);
    return html`<p class="assignment">
      <span>${closed ? 'Closed' : 'Open'} · ${assignee ? `assigned to ${name(assignee)}` : 'unassigned'}</span>
      ${
        assignee === session.deviceId || !c.hasVisitor
          ? nothing
          : html`<button type="button" @click=${() => act(session.claim(c.id))}>Claim</button>`
      }
      <select
        aria-label="Assign to"
        ?disabled=${!c.hasVisitor}
        @change=${(event: Event) => {
          const select = event.target as HTMLSelectElement;
          if (select.value) void act(session.assign(c.id, select.value));
          select.value = '';
        }}
      >
        <option value="">Assign to…</option>
        ${session.team
          .filter((d) => d.deviceId !== assignee)
          .map((d) => html`<option .value=${d.deviceId}>${d.displayName} (${d.role})</option>`)}
      </select>
      <button
        type="button"
        ?disabled=${!c.hasVisitor}
        @click=${() => act(closed ? session.reopenConversation(c.id) : session.closeConversation(c.id))}
      >
        ${closed ? 'Reopen' : 'Close'}
      </button>
    </p>`;
  }

  /** The open conversations: the selected one, then those opened beside it (still in the inbox). */
  private opened(current: AgentConversation): AgentConversation[] {
    const all = this.session?.conversationList ?? [];
    const beside = this.beside.filter((id) => id !== current.id).flatMap((id) => all.filter((c) => c.id === id));
    return [current, ...beside];
  }

  private renderEntry(c: Conversation, isCurrent: boolean) {
    const last = c.messages.at(-1);
    const besideIt = this.beside.includes(c.id);
    return html`<li>
      ${
        isCurrent
          ? nothing
          : html`<button
              type="button"
              class="beside"
              aria-pressed=${besideIt ? 'true' : 'false'}
              aria-label=${`Open visitor ${c.id.slice(0, 6)} beside`}
              title="Open beside"
              @click=${() => this.toggleBeside(c.id)}
            >
              ⧉
            </button>`
      }
      <button type="button" aria-current=${isCurrent ? 'true' : 'false'} @click=${() => this.select(c.id)}>
        Visitor ${c.id.slice(0, 6)}
        ${c.unread > 0 && !isCurrent ? html`<span class="unread">${c.unread} unread</span>` : nothing}
        <span class="preview">${last ? last.text : 'No messages yet'}</span>
      </button>
    </li>`;
  }

  private renderConversation(c: AgentConversation) {
    return html`
      <h2>Visitor ${c.id.slice(0, 6)}</h2>
      ${this.failure ? html`<p class="warning" role="alert">${this.failure}</p>` : nothing}
      <p class="tools">
        <button type="button" @click=${() => this.exportTranscript(c, 'json')}>Export JSON</button>
        <button type="button" @click=${() => this.exportTranscript(c, 'text')}>Export text</button>
        <button type="button" class="danger" @click=${() => this.erase(c)}>Erase…</button>
      </p>
      ${this.renderAssignment(c)} ${renderRefused(c)}
      <p class="safety">
        ${
          this.codes.has(c.id)
            ? html`Safety code: <code>${this.codes.get(c.id)}</code> — ask the visitor to read theirs; it must match.`
            : html`<button type="button" ?disabled=${!c.hasVisitor} @click=${() => this.showCode(c.id)}>
                Show safety code
              </button>`
        }
      </p>
      ${renderNotices(c)}
      <div class="log" role="log" aria-live="polite" aria-label="Messages" tabindex="0">
        <ol>
          ${c.messages.map(
            (m) =>
              html`<li class="${m.mine ? 'mine' : 'theirs'}${m.note ? ' note' : ''}" data-state=${m.state}>
                <span class="meta">${m.note ? 'Private note · ' : ''}${authorOf(m)} · ${renderTime(m.sentAt)}</span>${
                  m.fields
                    ? html`<dl class="text" aria-label="Pre-chat answers">
                        ${m.fields.map(
                          (f) =>
                            html`<dt>${f.name}</dt>
                              <dd>${f.value}</dd>`,
                        )}
                      </dl>`
                    : html`<span class="text">${renderText(m.text)}</span>`
                }
                ${
                  m.mine
                    ? html`<span class="meta state"
                        >${STATE_LABEL[m.state]}${
                          m.state === 'failed'
                            ? html` <button class="retry" type="button" @click=${() => this.session?.retry()}>
                                Retry
                              </button>`
                            : nothing
                        }</span
                      >`
                    : nothing
                }
              </li>`,
          )}
        </ol>
      </div>
      <p class="typing" role="status">${(this.typing.get(c.id) ?? 0) > Date.now() ? 'The visitor is typing…' : ''}</p>
      <form part="composer" @submit=${(event: SubmitEvent) => this.onSubmit(event, c)}>
        <textarea
          name="text"
          rows="2"
          aria-label="Reply"
          placeholder=${c.hasVisitor ? 'Type a reply' : 'Waiting for the visitor'}
          ?disabled=${!c.hasVisitor}
          @keydown=${this.onKey}
          @input=${() => this.session?.typing(c.id)}
        ></textarea>
        ${
          this.cannedReplies.length > 0
            ? html`<select aria-label="Canned reply" ?disabled=${!c.hasVisitor} @change=${this.onCanned}>
                <option value="">Canned reply…</option>
                ${this.cannedReplies.map((reply) => html`<option .value=${reply}>${reply}</option>`)}
              </select>`
            : nothing
        }
        <button type="submit" ?disabled=${!c.hasVisitor}>Send</button>
        <button
          type="submit"
          name="note"
          class="note"
          title="Only your team sees a note; the visitor never receives it"
          ?disabled=${!c.hasVisitor}
        >
          Add note
        </button>
      </form>
    `;
  }

  /** Announces a visitor's message: a chime, and a desktop notification when the console is not in view. */
  private alert(conversationId: string): void {
    // One alert per burst (a reconnect's backlog arrives as many messages at once).
    if (Date.now() - this.alerting < 2000) return;
    this.alerting = Date.now();
    chime();
    const current = this.current();
    const inView =
      document.visibilityState === 'visible' && !!current && this.opened(current).some((c) => c.id === conversationId);
    if (inView || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    // No message text: notifications land in the operating system's notification centre, outside the E2EE.
    new Notification('New message', { body: `Visitor ${conversationId.slice(0, 6)} wrote`, tag: conversationId });
  }

  /** Asked on a click: browsers only grant notification permission on a user gesture. */
  private readonly askNotifications = async (): Promise<void> => {
    await Notification.requestPermission();
    this.requestUpdate();
  };

  private readonly onCanned = (event: Event): void => {
    const select = event.target as HTMLSelectElement;
    const textarea = select.form?.querySelector('textarea');
    if (!textarea || !select.value) return;
    textarea.value = textarea.value ? `${textarea.value} ${select.value}` : select.value;
    select.value = '';
    textarea.focus();
  };

  /** Shows a failed action above the conversation. */
  private readonly fail = (error: unknown): void => {
    this.failure = error instanceof Error ? error.message : String(error);
    this.requestUpdate();
  };

  /**
   * Erases a conversation on the visitor's request, after a confirmation: on the relay for everyone
   * (the visitor's widget and every console drop it too).
   */
  private erase(c: Conversation): void {
    if (!confirm(`Erase the conversation with visitor ${c.id.slice(0, 6)} for everyone? This cannot be undone.`))
      return;
    const erased = this.session?.deleteConversation(c.id);
    erased
      ?.then(() => this.administration?.record({ action: 'conversation-erased', conversationId: fromHex(c.id) }))
      .catch(this.fail);
  }

  /** Saves a conversation's decrypted transcript, made here in the browser, as JSON or plain text. */
  private exportTranscript(c: Conversation, format: 'json' | 'text'): void {
    const messages = c.messages.map((m) => ({
      seq: m.seq,
      author: m.author,
      authorName: m.authorName,
      sentAt: new Date(m.sentAt).toISOString(),
      text: m.text,
      ...(m.fields ? { fields: m.fields } : {}),
      ...(m.note ? { note: true } : {}),
      ...(m.former ? { formerMember: true } : {}),
    }));
    const body =
      format === 'json'
        ? JSON.stringify(
            {
              conversationId: c.id,
              exportedAt: new Date().toISOString(),
              messages,
              // What the transcript revealed goes with it: an export must not look whole when it is not.
              ...(c.notices.length ? { notices: c.notices.map(({ kind, seq }) => ({ kind, seq })) } : {}),
            },
            null,
            2,
          )
        : [
            ...c.messages.map(
              (m) =>
                `[${new Date(m.sentAt).toISOString()}] ${m.note ? '(private note) ' : ''}${authorOf(m)}: ${m.text}`,
            ),
            ...noticesOf(c).map((text) => `Notice: ${text}`),
          ].join('\n');
    const url = URL.createObjectURL(new Blob([body], { type: format === 'json' ? 'application/json' : 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `conversation-${c.id.slice(0, 8)}.${format === 'json' ? 'json' : 'txt'}`;
    link.click();
    this.administration?.record({ action: 'transcript-exported', conversationId: fromHex(c.id) }).catch(this.fail);
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  /** Inbox shortcuts: Alt+↑/↓ move between conversations, "/" jumps to the search box (one console per page). */
  private readonly onShortcut = (event: KeyboardEvent): void => {
    const typing = (event.composedPath()[0] as HTMLElement).matches?.('input, textarea, select');
    if (event.key === '/' && !typing) {
      event.preventDefault();
      this.renderRoot.querySelector<HTMLInputElement>('input[type=search]')?.focus();
      return;
    }
    if (!event.altKey || (event.key !== 'ArrowDown' && event.key !== 'ArrowUp')) return;
    const list = this.listed(this.session?.conversationList ?? []);
    const at = list.findIndex((c) => c.id === this.current()?.id);
    const next = list[at + (event.key === 'ArrowDown' ? 1 : -1)];
    if (!next) return;
    event.preventDefault();
    this.select(next.id);
  };

  override connectedCallback(): void {
    super.connectedCallback();
    // On the document: the shortcuts work wherever focus is, except while typing in a field.
    document.addEventListener('keydown', this.onShortcut);
  }

  private async showCode(id: string): Promise<void> {
    const code = await this.session?.safetyCode(id);
    if (code) this.codes.set(id, code);
    this.requestUpdate();
  }

  private readonly onPresence = (event: Event): void => {
    void this.session?.setPresence((event.target as HTMLSelectElement).value as PresenceStatus);
  };

  /** Opens a conversation beside the selected one (up to {@link MAX_BESIDE}), or closes it there. */
  private toggleBeside(id: string): void {
    this.beside = this.beside.includes(id)
      ? this.beside.filter((b) => b !== id)
      : [...this.beside, id].slice(-MAX_BESIDE);
  }

  private select(id: string): void {
    this.selected = id;
    this.dispatchEvent(new CustomEvent('sealchat-select', { detail: id, bubbles: true, composed: true }));
  }

  private onSubmit(event: SubmitEvent, c: Conversation): void {
    event.preventDefault();
    const textarea = (event.target as HTMLFormElement).querySelector('textarea');
    if (!textarea || textarea.value.trim() === '' || !this.session) return;
    const text = textarea.value;
    textarea.value = '';
    // "Add note" encrypts to the team only (docs/protocol.md §Private notes); Enter and Send reply.
    const asNote = (event.submitter as HTMLButtonElement | null)?.name === 'note';
    void (asNote ? this.session.addNote(c.id, text) : this.session.reply(c.id, text));
  }

  private readonly onKey = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      (event.target as HTMLTextAreaElement).form?.requestSubmit();
    }
  };
}
