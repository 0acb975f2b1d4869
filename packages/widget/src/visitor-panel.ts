import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { IdbClientStore, VisitorSession, type ChatMessage } from '@sealchat/client';

type Mode = 'archive' | 'ephemeral';

/** Parses the `mode` attribute. @throws TypeError naming the allowed values. */
function parseMode(value: string): Mode {
  if (value === 'archive' || value === 'ephemeral') return value;
  throw new TypeError(`The mode attribute must be "archive" or "ephemeral", not ${JSON.stringify(value)}`);
}

/**
 * The open panel's logic: starts the visitor session and keeps the message list current. Loaded
 * only on first interaction, so the launcher stays tiny; the crypto and storage come with it.
 */
export class VisitorPanel implements ReactiveController {
  session: VisitorSession | undefined;
  error: string | undefined;
  mode: Mode = 'archive';
  private messages: readonly ChatMessage[] = [];

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement & { dispatchMessage(message: ChatMessage): void },
    config: { relay: string; org: string; mode: string },
  ) {
    host.addController(this);
    void this.start(config);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.session?.close();
  }

  private async start(config: { relay: string; org: string; mode: string }): Promise<void> {
    try {
      this.mode = parseMode(config.mode);
      const store = await IdbClientStore.open('sealchat-visitor');
      const session = await VisitorSession.start({
        relayUrl: config.relay,
        orgKey: config.org,
        store,
        mode: this.mode,
      });
      this.session = session;
      this.messages = [...session.messages];
      session.addEventListener('message', (event) => {
        this.messages = [...session.messages];
        this.host.dispatchMessage(event.detail);
        this.host.requestUpdate();
      });
      session.addEventListener('state', () => this.host.requestUpdate());
      session.addEventListener('transcript', () => this.host.requestUpdate());
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
    this.host.requestUpdate();
  }

  async send(text: string): Promise<void> {
    if (!this.session || text.trim() === '') return;
    await this.session.send(text);
  }

  render(
    title: string,
    onClose: () => void,
    onSubmit: (event: SubmitEvent) => void,
    onKey: (event: KeyboardEvent) => void,
  ) {
    const offline = this.session && this.session.state !== 'open';
    return html`
      <section class="panel" part="panel" role="dialog" aria-label=${title}>
        <header part="header">
          <h2>${title}</h2>
          <button type="button" aria-label="Close chat" @click=${onClose}>×</button>
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
          this.session?.notices.some((n) => n.kind !== 'reorder')
            ? html`<p class="error" role="status">Some messages may be missing: the relay did not deliver them all.</p>`
            : nothing
        }
        <ol part="messages" role="log" aria-live="polite" aria-label="Messages">
          ${this.messages.map(
            (m) =>
              html`<li class=${m.mine ? 'mine' : 'theirs'} data-state=${m.state}>
                <span class="meta">${m.mine ? 'You' : (m.authorName ?? 'Agent')}</span
                ><span class="text">${m.text}</span>
                ${
                  m.mine && m.state !== 'sent'
                    ? html`<span class="meta"
                        >${m.state === 'failed' ? 'Not sent' : 'Sending…'}${
                          m.state === 'failed'
                            ? html`<button class="retry" type="button" @click=${() => this.session?.retry()}>
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
        <form part="composer" @submit=${onSubmit}>
          <textarea
            name="text"
            rows="2"
            aria-label="Message"
            placeholder="Type a message"
            ?disabled=${!this.session}
            @keydown=${onKey}
          ></textarea>
          <button type="submit" ?disabled=${!this.session}>Send</button>
        </form>
      </section>
    `;
  }
}
