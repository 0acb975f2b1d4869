import { html, LitElement, nothing } from 'lit';
import type { ChatMessage } from '@sealchat/client';
import { widgetStyles } from './widget-styles.js';
import type { VisitorPanel } from './visitor-panel.js';

/**
 * The visitor chat widget: a launcher button that opens an end-to-end encrypted chat panel.
 *
 * @attr relay - WebSocket URL of the Sealchat relay (`wss://...`).
 * @attr org - The organisation's root key in text form (`sc1...`); pins who may read the chat.
 * @attr mode - `archive` (default: the organisation's supervisors can read the history) or
 *   `ephemeral` (no archive copy, nothing kept to re-read). Any other value is reported in the panel.
 * @attr heading - Panel title and launcher label. Default "Chat with us". (Not `title`, which would give the whole widget a native tooltip.)
 *
 * @event sealchat-open - The panel opened.
 * @event sealchat-close - The panel closed.
 * @event sealchat-message - A message was added or changed state; `detail` is the ChatMessage.
 *
 * @csspart launcher - The round button that opens the panel.
 * @csspart panel - The chat panel.
 * @csspart header - The panel's title bar.
 * @csspart messages - The message list.
 * @csspart composer - The message form.
 *
 * @cssprop --sealchat-accent - Launcher, header and own-message colour.
 * @cssprop --sealchat-font - Font stack.
 * @cssprop --sealchat-z-index - Stacking order (default 2147483000).
 * @cssprop --sealchat-offset - Distance from the viewport corner.
 */
export class SealchatWidget extends LitElement {
  static override styles = widgetStyles;
  static override properties = {
    relay: { type: String },
    org: { type: String },
    heading: { type: String },
    mode: { type: String },
    open: { type: Boolean, reflect: true },
  };

  relay = '';
  org = '';
  heading = 'Chat with us';
  mode = 'archive';
  open = false;
  private panel: VisitorPanel | undefined;

  /** Opens the panel, loading the chat code on first use. */
  async show(): Promise<void> {
    if (!this.panel) {
      const { VisitorPanel } = await import('./visitor-panel.js');
      this.panel ??= new VisitorPanel(this, { relay: this.relay, org: this.org, mode: this.mode });
    }
    if (this.open) return;
    this.open = true;
    this.emit('sealchat-open', undefined);
    await this.updateComplete;
    this.renderRoot.querySelector('textarea')?.focus();
  }

  hide(): void {
    if (!this.open) return;
    this.open = false;
    this.emit('sealchat-close', undefined);
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>('.launcher')?.focus());
  }

  /** Sends a message as the visitor, opening the panel if needed. */
  async send(text: string): Promise<void> {
    await this.show();
    await this.panel!.send(text);
  }

  /** @internal Called by the panel for every new or changed message. */
  dispatchMessage(message: ChatMessage): void {
    this.emit('sealchat-message', message);
  }

  protected override render() {
    return html`
      ${
        this.open && this.panel
          ? this.panel.render(
              this.heading,
              () => this.hide(),
              (event) => this.onSubmit(event),
              (event) => this.onKey(event),
            )
          : nothing
      }
      <button
        class="launcher"
        part="launcher"
        type="button"
        aria-expanded=${this.open ? 'true' : 'false'}
        @click=${() => (this.open ? this.hide() : void this.show())}
      >
        ${this.open ? 'Close chat' : this.heading}
      </button>
    `;
  }

  private onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    const textarea = this.renderRoot.querySelector('textarea');
    if (!textarea) return;
    const text = textarea.value;
    if (text.trim() === '') return;
    textarea.value = '';
    void this.panel?.send(text);
  }

  private onKey(event: KeyboardEvent): void {
    // Enter sends; Shift+Enter (and IME composition) inserts a newline.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.renderRoot.querySelector('form')?.requestSubmit();
    }
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}
