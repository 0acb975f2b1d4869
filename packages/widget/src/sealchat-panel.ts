import { html, nothing, render } from 'lit/html.js';
import {
  IdbClientStore,
  linkify,
  maskText,
  openVisitorChat,
  parseMaskPatterns,
  type ChatMessage,
  type MaskRule,
  type TypingSignal,
  type VisitorChat,
} from '@sealchat/client';
import { loadStrings, type Locale, type Strings } from './i18n.js';
import { panelCss } from './panel-styles.js';
import { chime } from './chime.js';

type Mode = 'archive' | 'ephemeral';
/** The pre-chat fields a site may ask for, in the order shown. */
export type PrechatField = 'name' | 'email' | 'topic';
const PRECHAT_FIELDS: readonly PrechatField[] = ['name', 'email', 'topic'];

/** What <sealchat-widget> hands the panel, parsed from its attributes. */
export interface PanelConfig {
  readonly relay: string;
  readonly org: string;
  readonly mode: string;
  readonly locale: Locale;
  readonly greeting: string;
  readonly maskPatterns: string;
  readonly prechat: string;
  readonly sound: boolean;
}

/** Parses the `mode` attribute. @throws TypeError naming the allowed values. */
function parseMode(value: string): Mode {
  if (value === 'archive' || value === 'ephemeral') return value;
  throw new TypeError(`The mode attribute must be "archive" or "ephemeral", not ${JSON.stringify(value)}`);
}

/** Parses the `prechat` attribute: space-separated field names. @throws TypeError on an unknown one. */
export function parsePrechat(value: string): PrechatField[] {
  const fields = value.split(/[\s,]+/).filter(Boolean);
  for (const field of fields) {
    if (!PRECHAT_FIELDS.includes(field as PrechatField))
      throw new TypeError(`The prechat attribute lists ${JSON.stringify(field)}; use name, email and/or topic`);
  }
  return PRECHAT_FIELDS.filter((f) => fields.includes(f));
}

/** How long a typing notice shows. */
const TYPING_SHOWN_MS = 6000;
/** A reader this close to the bottom is "at the bottom" and follows new messages. */
const FOLLOW_SLACK_PX = 48;

let sheet: CSSStyleSheet | undefined;

/**
 * The open chat panel, loaded only on first interaction (panel-loader.ts): it opens the visitor's
 * chat, keeps the message list current, and renders it with Lit's templates (lit-html: the
 * templating alone, without LitElement's reactive properties, to stay inside the size budget).
 * Internal to <sealchat-widget>, which creates it with its configuration; `sealchat-message` events
 * it fires cross the widget's shadow root and reach the page from the widget.
 */
export class SealchatPanel extends HTMLElement {
  /** The strings of the chosen locale, once loaded (the panel shows only errors before). */
  private strings: Strings | undefined;
  /** Resolves after the next render. */
  updateComplete: Promise<void> = Promise.resolve();
  private readonly renderRoot: ShadowRoot;
  private title_ = '';
  private pending = false;
  /** The widget asked for focus before the composer existed (strings or chat still loading). */
  private focusPending = false;
  private chat: VisitorChat | undefined;
  private error: string | undefined;
  private mode: Mode = 'archive';
  private greeting = '';
  private maskRules: MaskRule[] = [];
  private prechat: PrechatField[] = [];
  private sound = false;
  private started = false;
  private typing: TypingSignal | undefined;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private masked = 0;
  private below = false;
  /** Set when the visitor asked to go to the newest message (or sent one). */
  private jump = false;
  private view: 'chat' | 'menu' | 'confirm-delete' | 'safety' = 'chat';
  private code: string | undefined;
  private deleted = false;
  private formError: string | undefined;
  /** Times of day in the panel's language (the browser's default for English). */
  private clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  /** Whether the panel is on screen (the widget hides it when closed): only then are messages read. */
  private visible = true;

  constructor() {
    super();
    this.renderRoot = this.attachShadow({ mode: 'open' });
    sheet ??= new CSSStyleSheet();
    if (sheet.cssRules.length === 0) sheet.replaceSync(panelCss);
    this.renderRoot.adoptedStyleSheets = [sheet];
  }

  /** The loaded strings; only the templates below read them, and they render only once loaded. */
  private get t(): Strings {
    if (!this.strings) throw new Error('The panel rendered before its strings loaded');
    return this.strings;
  }

  get heading(): string {
    return this.title_;
  }
  set heading(value: string) {
    this.title_ = value;
    this.requestUpdate();
  }

  connectedCallback(): void {
    this.requestUpdate();
  }

  /** Renders again on the next microtask (many changes, one render). */
  requestUpdate(): void {
    if (this.pending) return;
    this.pending = true;
    this.updateComplete = new Promise((resolve) =>
      queueMicrotask(() => {
        this.pending = false;
        this.update();
        resolve();
      }),
    );
  }

  /** Starts the chat once; errors (a mistyped org key, an unknown mode) are shown in the panel. */
  start(config: PanelConfig): void {
    if (this.started) return;
    this.started = true;
    void this.run(config);
  }

  /**
   * Encrypts and queues a message as the visitor, masking card numbers, IBANs and the site's
   * patterns first. Resolves with the message as shown (masked).
   */
  async send(text: string): Promise<ChatMessage | undefined> {
    if (!this.chat || text.trim() === '') return undefined;
    const masked = maskText(text, { custom: this.maskRules });
    this.masked = masked.masked;
    this.deleted = false;
    return this.chat.send(masked.text);
  }

  /** Focuses the message box (or the pre-chat form's first field), as soon as it is there. */
  focusComposer(): void {
    const field = this.renderRoot.querySelector<HTMLElement>('textarea, input');
    this.focusPending = !field;
    field?.focus();
  }

  /** Called by the widget when it shows or hides the panel. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.chat?.markAllRead();
  }

  disconnectedCallback(): void {
    this.chat?.close();
  }

  private async run(config: PanelConfig): Promise<void> {
    try {
      this.mode = parseMode(config.mode);
      this.prechat = parsePrechat(config.prechat);
      this.maskRules = config.maskPatterns ? parseMaskPatterns(config.maskPatterns) : [];
      this.greeting = config.greeting;
      this.sound = config.sound;
      this.strings = await loadStrings(config.locale);
      if (config.locale !== 'en')
        this.clock = new Intl.DateTimeFormat(config.locale, { hour: '2-digit', minute: '2-digit' });
      const store = await IdbClientStore.open('sealchat-visitor');
      const chat = await openVisitorChat({ relayUrl: config.relay, orgKey: config.org, store, mode: this.mode });
      this.chat = chat;
      chat.addEventListener('message', (event) => {
        const message = (event as CustomEvent<ChatMessage>).detail;
        this.dispatchEvent(new CustomEvent('sealchat-message', { detail: message, bubbles: true, composed: true }));
        if (!message.mine && message.author === 'agent') {
          this.typing = undefined;
          if (this.sound && (!this.visible || document.hidden)) chime();
          if (this.visible && !document.hidden) chat.markAllRead();
        }
        this.requestUpdate();
      });
      chat.addEventListener('typing', (event) => {
        this.typing = (event as CustomEvent<TypingSignal>).detail;
        clearTimeout(this.typingTimer);
        this.typingTimer = setTimeout(() => {
          this.typing = undefined;
          this.requestUpdate();
        }, TYPING_SHOWN_MS);
        this.requestUpdate();
      });
      chat.addEventListener('deleted', () => {
        this.deleted = true;
        this.view = 'chat';
        this.requestUpdate();
      });
      for (const type of ['state', 'transcript', 'presence', 'error'])
        chat.addEventListener(type, () => this.requestUpdate());
      if (this.visible) chat.markAllRead();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
    this.requestUpdate();
  }

  private update(): void {
    let list = this.renderRoot.querySelector('.log');
    // Follow new messages only if the reader is at the bottom; otherwise offer a way down.
    if (this.jump) this.below = false;
    else if (list) this.below = list.scrollHeight - list.scrollTop - list.clientHeight > FOLLOW_SLACK_PX;
    this.jump = false;
    render(this.template(), this.renderRoot, { host: this });
    list = this.renderRoot.querySelector('.log');
    if (list && !this.below) list.scrollTop = list.scrollHeight;
    if (this.focusPending) this.focusComposer();
  }

  private template() {
    if (!this.strings) return this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing;
    const t = this.t;
    const chat = this.chat;
    const messages: readonly ChatMessage[] = chat?.messages ?? [];
    const away = chat?.agentsOnline === false;
    const needsForm = chat && this.prechat.length > 0 && messages.length === 0;
    return html`
      <section
        class="panel"
        part="panel"
        role="dialog"
        aria-label=${this.heading}
        dir=${t.dir}
        @keydown=${this.onPanelKey}
      >
        <header part="header">
          <h2>${this.heading}</h2>
          <button
            type="button"
            class="icon"
            aria-label=${t.more}
            aria-expanded=${this.view === 'menu'}
            @click=${() => this.show(this.view === 'menu' ? 'chat' : 'menu')}
          >
            ⋯
          </button>
          <button
            type="button"
            class="icon"
            aria-label=${t.close}
            @click=${() => this.dispatchEvent(new Event('close'))}
          >
            ×
          </button>
        </header>
        <p class="notice" part="notice">${this.mode === 'ephemeral' ? t.noticeEphemeral : t.noticeArchive}</p>
        <slot name="consent"></slot>
        ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
        ${chat && chat.state !== 'open' ? html`<p class="status" role="status">${navigator.onLine ? t.reconnecting : t.offline}</p>` : nothing}
        ${chat?.notices.some((n) => n.kind !== 'reorder') ? html`<p class="error" role="status">${t.missing}</p>` : nothing}
        ${away ? html`<p class="status" role="status">${t.away}</p>` : nothing}
        ${this.view === 'chat' ? nothing : this.renderMenu()}
        ${needsForm ? this.renderPrechat() : this.renderLog(messages)}
        ${needsForm ? nothing : this.renderComposer(away)}
      </section>
    `;
  }

  private renderLog(messages: readonly ChatMessage[]) {
    const t = this.t;
    return html`
      <div class="log" part="messages" role="log" aria-live="polite" aria-label=${t.messages} @scroll=${this.onScroll}>
        <ol>
          ${this.greeting ? html`<li class="theirs greeting"><span class="text">${this.greeting}</span></li>` : nothing}
          ${messages.map((m) => this.renderMessage(m))}
          ${this.deleted ? html`<li class="status">${t.deleted}</li>` : nothing}
        </ol>
      </div>
      ${this.below ? html`<button type="button" class="jump" @click=${this.jumpDown}>${t.newMessages}</button>` : nothing}
      <p class="typing" role="status">${this.typing ? t.typing(this.typing.authorName ?? t.agent) : ''}</p>
      ${this.masked > 0 ? html`<p class="status" role="status">${t.masked(this.masked)}</p>` : nothing}
    `;
  }

  private renderMessage(m: ChatMessage) {
    const t = this.t;
    const who = m.mine ? t.you : (m.authorName ?? t.agent);
    const date = new Date(m.sentAt);
    return html`<li class=${m.mine ? 'mine' : 'theirs'} data-state=${m.state}>
      <span class="meta">${who} · <time datetime=${date.toISOString()}>${this.clock.format(date)}</time></span>
      ${
        m.fields
          ? html`<dl class="text">
              ${m.fields.map(
                (f) =>
                  html`<dt>${fieldLabel(t, f.name)}</dt>
                    <dd>${f.value}</dd>`,
              )}
            </dl>`
          : html`<span class="text">${renderText(m.text)}</span>`
      }
      ${
        m.mine
          ? html`<span class="meta state"
              >${t[m.state]}${
                m.state === 'failed'
                  ? html`<button class="retry" type="button" @click=${() => this.chat?.retry()}>${t.retry}</button>`
                  : nothing
              }</span
            >`
          : nothing
      }
    </li>`;
  }

  private renderComposer(away: boolean) {
    const t = this.t;
    return html`<form part="composer" @submit=${this.onSubmit}>
      <textarea
        name="text"
        rows="2"
        aria-label=${t.message}
        placeholder=${away ? t.awayPlaceholder : t.placeholder}
        ?disabled=${!this.chat}
        @keydown=${this.onKey}
        @input=${() => this.chat?.typingNow()}
      ></textarea>
      <button type="submit" ?disabled=${!this.chat}>${t.send}</button>
    </form>`;
  }

  private renderPrechat() {
    const t = this.t;
    return html`<form class="prechat" part="prechat" novalidate @submit=${this.onPrechat}>
      <h3>${t.prechatTitle}</h3>
      ${this.prechat.map(
        (field) =>
          html`<label>
            ${t[field]}
            <input
              name=${field}
              type=${field === 'email' ? 'email' : 'text'}
              autocomplete=${field === 'email' ? 'email' : field === 'name' ? 'name' : 'off'}
              required
              maxlength="200"
            />
          </label>`,
      )}
      ${this.formError ? html`<p class="error" role="alert">${this.formError}</p>` : nothing}
      <button type="submit">${t.start}</button>
    </form>`;
  }

  private renderMenu() {
    const t = this.t;
    if (this.view === 'confirm-delete') {
      return html`<div class="sheet" role="alertdialog" aria-label=${t.deleteConversation}>
        <p>${t.deleteConfirm}</p>
        <button type="button" class="danger" @click=${this.onDelete}>${t.confirmDelete}</button>
        <button type="button" @click=${() => this.show('chat')}>${t.cancel}</button>
      </div>`;
    }
    if (this.view === 'safety') {
      return html`<div class="sheet" role="group" aria-label=${t.safetyCode}>
        <p><strong>${t.safetyCode}:</strong> <code class="code">${this.code ?? '…'}</code></p>
        <p>${t.safetyHelp}</p>
        <button type="button" @click=${() => this.show('chat')}>${t.cancel}</button>
      </div>`;
    }
    const hasConversation = !!this.chat?.conversationId;
    return html`<div class="sheet menu" role="group" aria-label=${t.more}>
      <button type="button" @click=${() => this.toggleSound()}>${this.sound ? t.soundOff : t.soundOn}</button>
      ${
        this.mode === 'ephemeral'
          ? html`<p>${t.noTranscript}</p>`
          : html`<button type="button" ?disabled=${!hasConversation} @click=${this.onTranscript}>
              ${t.transcript}
            </button>`
      }
      <button type="button" ?disabled=${!hasConversation} @click=${this.onSafety}>${t.safetyCode}</button>
      <button type="button" class="danger" ?disabled=${!hasConversation} @click=${() => this.show('confirm-delete')}>
        ${t.deleteConversation}
      </button>
    </div>`;
  }

  private show(view: SealchatPanel['view']): void {
    this.view = view;
    this.requestUpdate();
    void this.updateComplete.then(() =>
      view === 'chat' ? this.focusComposer() : this.renderRoot.querySelector<HTMLElement>('.sheet button')?.focus(),
    );
  }

  private toggleSound(): void {
    this.sound = !this.sound;
    if (this.sound) chime(); // a click is a user gesture: the browser lets the audio start now
    this.requestUpdate();
  }

  private readonly onSafety = async (): Promise<void> => {
    this.code = await this.chat?.safetyCode();
    this.show('safety');
  };

  private readonly onDelete = async (): Promise<void> => {
    try {
      await this.chat?.deleteConversation();
      this.error = undefined;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
    this.show('chat');
  };

  /** Saves the conversation as a plain-text file, made here in the browser. */
  private readonly onTranscript = (): void => {
    const t = this.t;
    const lines = (this.chat?.messages ?? []).map(
      (m) => `[${new Date(m.sentAt).toISOString()}] ${m.mine ? t.you : (m.authorName ?? t.agent)}: ${m.text}`,
    );
    const url = URL.createObjectURL(new Blob([`${this.heading}\n\n${lines.join('\n')}\n`], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `chat-${new Date().toISOString().slice(0, 10)}.txt`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    this.show('chat');
  };

  private readonly onPrechat = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const t = this.t;
    const fields = this.prechat.map((name) => ({
      name,
      value: (form.elements.namedItem(name) as HTMLInputElement).value.trim(),
    }));
    const empty = fields.find((f) => f.value === '');
    const email = fields.find((f) => f.name === 'email');
    this.formError = empty
      ? t.required
      : email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value)
        ? t.invalidEmail
        : undefined;
    if (this.formError) {
      this.requestUpdate();
      await this.updateComplete;
      (form.elements.namedItem(empty?.name ?? 'email') as HTMLInputElement | null)?.focus();
      return;
    }
    await this.chat?.sendForm(fields);
    this.requestUpdate();
    await this.updateComplete;
    this.focusComposer();
  };

  private readonly onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const textarea = this.renderRoot.querySelector('textarea');
    if (!textarea || textarea.value.trim() === '') return;
    const text = textarea.value;
    textarea.value = '';
    this.jump = true;
    void this.send(text).then(() => {
      this.jump = true;
      this.requestUpdate();
    });
  };

  private readonly onKey = (event: KeyboardEvent): void => {
    // Enter sends; Shift+Enter (and IME composition) inserts a newline.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.renderRoot.querySelector<HTMLFormElement>('form[part=composer]')?.requestSubmit();
    }
  };

  private readonly onPanelKey = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    if (this.view !== 'chat') this.show('chat');
    else this.dispatchEvent(new Event('close'));
  };

  private readonly onScroll = (): void => {
    const list = this.renderRoot.querySelector('.log');
    const below = !!list && list.scrollHeight - list.scrollTop - list.clientHeight > FOLLOW_SLACK_PX;
    if (below !== this.below) {
      this.below = below;
      this.requestUpdate();
    }
  };

  private readonly jumpDown = (): void => {
    this.jump = true;
    this.requestUpdate();
  };
}

/** A pre-chat field's label in the panel's language (other forms show their own names). */
function fieldLabel(t: Strings, name: string): string {
  return PRECHAT_FIELDS.includes(name as PrechatField) ? t[name as PrechatField] : name;
}

/** Chat text as text nodes, with http(s) links as anchors that cannot reach back into this page. */
function renderText(text: string) {
  return linkify(text).map((segment) =>
    segment.kind === 'link'
      ? html`<a href=${segment.href} target="_blank" rel="noopener noreferrer">${segment.text}</a>`
      : segment.text,
  );
}
