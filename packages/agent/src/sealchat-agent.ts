import { html, LitElement, nothing } from 'lit';
import { linkify, type AgentSession, type ChatMessage, type Conversation } from '@sealchat/client';
import { agentStyles } from './agent-styles.js';

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** When a message was written (by the sender's clock), as a machine-readable <time>. */
function renderTime(sentAt: number) {
  const date = new Date(sentAt);
  return html`<time datetime=${date.toISOString()}>${clock.format(date)}</time>`;
}

/** Chat text as text nodes, with http(s) links as anchors that cannot reach back into this page. */
function renderText(text: string) {
  return linkify(text).map((segment) =>
    segment.kind === 'link'
      ? html`<a href=${segment.href} target="_blank" rel="noopener noreferrer">${segment.text}</a>`
      : segment.text,
  );
}

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
  };

  /** The agent device's session; the console renders what it holds. */
  session: AgentSession | undefined;
  /** Id (hex) of the open conversation. */
  selected: string | undefined;
  private listening: AgentSession | undefined;
  private readonly onMessage = (event: CustomEvent<ChatMessage>) => {
    this.selected ??= event.detail.conversationId;
    this.dispatchEvent(new CustomEvent('sealchat-message', { detail: event.detail, bubbles: true, composed: true }));
    this.requestUpdate();
  };
  private readonly onChange = () => this.requestUpdate();

  protected override willUpdate(): void {
    if (this.listening === this.session) return;
    this.listening?.removeEventListener('message', this.onMessage);
    this.listening?.removeEventListener('conversation', this.onChange);
    this.listening?.removeEventListener('state', this.onChange);
    this.listening = this.session;
    this.session?.addEventListener('message', this.onMessage);
    this.session?.addEventListener('conversation', this.onChange);
    this.session?.addEventListener('state', this.onChange);
    this.session?.addEventListener('transcript', this.onChange);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.listening?.removeEventListener('message', this.onMessage);
    this.listening = undefined;
  }

  protected override render() {
    const conversations = this.session?.conversationList ?? [];
    // With nothing chosen yet (a fresh load), open the newest conversation.
    const current = conversations.find((c) => c.id === this.selected) ?? conversations.at(-1);
    return html`
      <nav part="inbox" aria-label="Conversations">
        <h2>Conversations</h2>
        ${conversations.length === 0 ? html`<p class="empty">No conversations yet.</p>` : nothing}
        <ul>
          ${conversations.map((c) => this.renderEntry(c, c === current))}
        </ul>
      </nav>
      <main part="conversation">
        ${current ? this.renderConversation(current) : html`<p class="empty">Select a conversation.</p>`}
      </main>
    `;
  }

  private renderEntry(c: Conversation, isCurrent: boolean) {
    const last = c.messages.at(-1);
    return html`<li>
      <button type="button" aria-current=${isCurrent ? 'true' : 'false'} @click=${() => this.select(c.id)}>
        Visitor ${c.id.slice(0, 6)}
        <span class="preview">${last ? last.text : 'No messages yet'}</span>
      </button>
    </li>`;
  }

  private renderConversation(c: Conversation) {
    return html`
      <h2>Visitor ${c.id.slice(0, 6)}</h2>
      ${
        c.notices.some((n) => n.kind !== 'reorder')
          ? html`<p class="warning" role="status">
              Some messages in this conversation may be missing: the relay did not deliver them all.
            </p>`
          : nothing
      }
      <ol role="log" aria-live="polite" aria-label="Messages">
        ${c.messages.map(
          (m) =>
            html`<li class=${m.mine ? 'mine' : 'theirs'} data-state=${m.state}>
              <span class="meta"
                >${m.author === 'visitor' ? 'Visitor' : (m.authorName ?? 'Agent')} · ${renderTime(m.sentAt)}</span
              ><span class="text">${renderText(m.text)}</span>
              ${
                m.mine && m.state === 'failed'
                  ? html`<span class="meta"
                      >Not sent
                      <button class="retry" type="button" @click=${() => this.session?.retry()}>Retry</button></span
                    >`
                  : nothing
              }
            </li>`,
        )}
      </ol>
      <form part="composer" @submit=${(event: SubmitEvent) => this.onSubmit(event, c)}>
        <textarea
          name="text"
          rows="2"
          aria-label="Reply"
          placeholder=${c.hasVisitor ? 'Type a reply' : 'Waiting for the visitor'}
          ?disabled=${!c.hasVisitor}
          @keydown=${this.onKey}
        ></textarea>
        <button type="submit" ?disabled=${!c.hasVisitor}>Send</button>
      </form>
    `;
  }

  private select(id: string): void {
    this.selected = id;
    this.dispatchEvent(new CustomEvent('sealchat-select', { detail: id, bubbles: true, composed: true }));
  }

  private onSubmit(event: SubmitEvent, c: Conversation): void {
    event.preventDefault();
    const textarea = this.renderRoot.querySelector('textarea');
    if (!textarea || textarea.value.trim() === '' || !this.session) return;
    const text = textarea.value;
    textarea.value = '';
    void this.session.reply(c.id, text);
  }

  private readonly onKey = (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.renderRoot.querySelector('form')?.requestSubmit();
    }
  };
}
