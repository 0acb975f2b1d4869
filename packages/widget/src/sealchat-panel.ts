import { html, LitElement, nothing } from 'lit';
import { IdbClientStore, linkify, VisitorSession, type ChatMessage } from '@sealchat/client';
import { panelStyles } from './panel-styles.js';

type Mode = 'archive' | 'ephemeral';

/** Parses the `mode` attribute. @throws TypeError naming the allowed values. */
function parseMode(value: string): Mode {
  if (value === 'archive' || value === 'ephemeral') return value;
  throw new TypeError(`The mode attribute must be "archive" or "ephemeral", not ${JSON.stringify(value)}`);
}

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
 * The open chat panel, loaded only on first interaction (panel-loader.ts): it starts the visitor
 * session, keeps the message list current, and renders it. Internal to <sealchat-widget>, which
 * creates it with its configuration; `sealchat-message` events it fires cross the widget's shadow
 * root and reach the page from the widget.
 */
export class SealchatPanel extends LitElement {
  static override styles = panelStyles;
  static override properties = {
    heading: { type: String },
  };

  heading = 'Chat with us';
  private session: VisitorSession | undefined;
  private error: string | undefined;
  private mode: Mode = 'archive';
  private started = false;

  /** Starts the session once; errors (a mistyped org key, an unknown mode) are shown in the panel. */
  start(config: { relay: string; org: string; mode: string }): void {
    if (this.started) return;
    this.started = true;
    void this.run(config);
  }

  /** Encrypts and queues a message as the visitor. */
  async send(text: string): Promise<void> {
    if (!this.session || text.trim() === '') return;
    await this.session.send(text);
  }

  focusComposer(): void {
    this.renderRoot.querySelector('textarea')?.focus();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.session?.close();
  }

  private async run(config: { relay: string; org: string; mode: string }): Promise<void> {
    try {
      this.mode = parseMode(config.mode);
      this.requestUpdate();
      const store = await IdbClientStore.open('sealchat-visitor');
      const session = await VisitorSession.start({
        relayUrl: config.relay,
        orgKey: config.org,
        store,
        mode: this.mode,
      });
      this.session = session;
      session.addEventListener('message', (event) => {
        this.dispatchEvent(
          new CustomEvent('sealchat-message', { detail: event.detail, bubbles: true, composed: true }),
        );
        this.requestUpdate();
      });
      session.addEventListener('state', () => this.requestUpdate());
      session.addEventListener('transcript', () => this.requestUpdate());
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
    this.requestUpdate();
  }

  protected override render() {
    const session = this.session;
    const offline = session && session.state !== 'open';
    const messages: readonly ChatMessage[] = session?.messages ?? [];
    return html`
      <section class="panel" part="panel" role="dialog" aria-label=${this.heading}>
        <header part="header">
          <h2>${this.heading}</h2>
          <button type="button" aria-label="Close chat" @click=${() => this.dispatchEvent(new Event('close'))}>
            ×
          </button>
        </header>
        <p class="notice">
          ${
            this.mode === 'ephemeral'
              ? 'End-to-end encrypted, and ephemeral: no transcript is kept, not even for this organisation.'
              : "End-to-end encrypted: only this organisation's agents can read it."
          }
        </p>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        ${offline ? html`<p class="error" role="status">Reconnecting…</p>` : nothing}
        ${
          session?.notices.some((n) => n.kind !== 'reorder')
            ? html`<p class="error" role="status">Some messages may be missing: the relay did not deliver them all.</p>`
            : nothing
        }
        <ol part="messages" role="log" aria-live="polite" aria-label="Messages">
          ${messages.map(
            (m) =>
              html`<li class=${m.mine ? 'mine' : 'theirs'} data-state=${m.state}>
                <span class="meta">${m.mine ? 'You' : (m.authorName ?? 'Agent')} · ${renderTime(m.sentAt)}</span
                ><span class="text">${renderText(m.text)}</span>
                ${
                  m.mine && m.state !== 'sent'
                    ? html`<span class="meta"
                        >${m.state === 'failed' ? 'Not sent' : 'Sending…'}${
                          m.state === 'failed'
                            ? html`<button class="retry" type="button" @click=${() => session?.retry()}>Retry</button>`
                            : nothing
                        }</span
                      >`
                    : nothing
                }
              </li>`,
          )}
        </ol>
        <form part="composer" @submit=${this.onSubmit}>
          <textarea
            name="text"
            rows="2"
            aria-label="Message"
            placeholder="Type a message"
            ?disabled=${!session}
            @keydown=${this.onKey}
          ></textarea>
          <button type="submit" ?disabled=${!session}>Send</button>
        </form>
      </section>
    `;
  }

  private readonly onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const textarea = this.renderRoot.querySelector('textarea');
    if (!textarea || textarea.value.trim() === '') return;
    const text = textarea.value;
    textarea.value = '';
    void this.send(text);
  };

  private readonly onKey = (event: KeyboardEvent): void => {
    // Enter sends; Shift+Enter (and IME composition) inserts a newline.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.renderRoot.querySelector('form')?.requestSubmit();
    }
  };
}
