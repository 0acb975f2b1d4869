import {
  chime,
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
import { h, patch, type Child } from './dom.js';

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
  /** `max-roster-age`, in hours; empty for the client's default (4 days). */
  readonly maxRosterAge: string;
  /** `min-roster-version`; empty for none. */
  readonly minRosterVersion: string;
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

/**
 * Parses a whole-number attribute (`max-roster-age`, `min-roster-version`); empty means unset.
 * @throws TypeError for anything but digits, or a number below `min`.
 */
export function parseWhole(name: string, value: string, min: number): number | undefined {
  if (value === '') return undefined;
  if (!/^\d{1,15}$/.test(value) || +value < min)
    throw new TypeError(`The ${name} attribute must be a whole number from ${min}, not ${JSON.stringify(value)}`);
  return +value;
}

/** The parts of the panel that live for its whole life (their state — text typed, scroll — too). */
interface PanelUi {
  section: HTMLElement;
  header: HTMLElement;
  notice: HTMLElement;
  status: HTMLElement;
  sheet: HTMLElement;
  log: HTMLElement;
  list: HTMLElement;
  jump: HTMLElement;
  typing: HTMLElement;
  maskedNote: HTMLElement;
  prechat: HTMLFormElement;
  formError: HTMLElement;
  composer: HTMLFormElement;
  textarea: HTMLTextAreaElement;
  sendButton: HTMLButtonElement;
}

/** What shows above the messages: nothing but them, the menu, or one of its views. */
type PanelView = 'chat' | 'menu' | 'confirm-delete' | 'safety';

/** How long a typing notice shows. */
const TYPING_SHOWN_MS = 6000;
/** A reader this close to the bottom is "at the bottom" and follows new messages. */
const FOLLOW_SLACK_PX = 48;

let sheet: CSSStyleSheet | undefined;

/**
 * The open chat panel, loaded only on first interaction (panel-loader.ts): it opens the visitor's
 * chat, keeps the message list current, and renders it with the DOM helpers in dom.ts (elements and
 * text nodes only; regions are rebuilt only when what they show changed). Internal to
 * <sealchat-widget>, which creates it with its configuration; `sealchat-message` events it fires
 * cross the widget's shadow root and reach the page from the widget.
 */
export class SealchatPanel extends HTMLElement {
  /** The strings of the chosen locale, once loaded (the panel shows only errors before). */
  private _strings: Strings | undefined;
  /** Resolves after the next render. */
  updateComplete: Promise<void> = Promise.resolve();
  private readonly _renderRoot: ShadowRoot;
  private _title_ = '';
  private _pending = false;
  /** The widget asked for focus before the composer existed (strings or chat still loading). */
  private _focusPending = false;
  private _chat: VisitorChat | undefined;
  private _error: string | undefined;
  /** The chat could not confirm its roster is current (docs/protocol.md §4.4): nothing is sent. */
  private _unconfirmed = false;
  private _mode: Mode = 'archive';
  private _greeting = '';
  private _maskRules: MaskRule[] = [];
  private _prechat: PrechatField[] = [];
  private _sound = false;
  private _started = false;
  private _typing: TypingSignal | undefined;
  private _typingTimer: ReturnType<typeof setTimeout> | undefined;
  private _masked = 0;
  private _below = false;
  /** Set when the visitor asked to go to the newest message (or sent one). */
  private _jump = false;
  private _view: PanelView = 'chat';
  private _code: string | undefined;
  private _deleted = false;
  private _formError: string | undefined;
  /** Times of day in the panel's language (the browser's default for English); set with the strings. */
  private _clock!: Intl.DateTimeFormat;
  /** Whether the panel is on screen (the widget hides it when closed): only then are messages read. */
  private _visible = true;

  constructor() {
    super();
    this._renderRoot = this.attachShadow({ mode: 'open' });
    sheet ??= new CSSStyleSheet();
    if (sheet.cssRules.length === 0) sheet.replaceSync(panelCss);
    this._renderRoot.adoptedStyleSheets = [sheet];
  }

  /** The loaded strings; only the templates below read them, and they render only once loaded. */
  private get _t(): Strings {
    if (!this._strings) throw new Error('No strings yet');
    return this._strings;
  }

  get heading(): string {
    return this._title_;
  }
  set heading(value: string) {
    this._title_ = value;
    this.requestUpdate();
  }

  connectedCallback(): void {
    this.requestUpdate();
  }

  /** Renders again on the next microtask (many changes, one render). */
  requestUpdate(): void {
    if (this._pending) return;
    this._pending = true;
    this.updateComplete = new Promise((resolve) =>
      queueMicrotask(() => {
        this._pending = false;
        this._update();
        resolve();
      }),
    );
  }

  /** Starts the chat once; errors (a mistyped org key, an unknown mode) are shown in the panel. */
  start(config: PanelConfig): void {
    if (this._started) return;
    this._started = true;
    void this._run(config);
  }

  /**
   * Encrypts and queues a message as the visitor, masking card numbers, IBANs and the site's
   * patterns first. Resolves with the message as shown (masked).
   */
  async send(text: string): Promise<ChatMessage | undefined> {
    if (!this._chat || text.trim() === '') return undefined;
    const masked = maskText(text, { custom: this._maskRules });
    this._masked = masked.masked;
    this._deleted = false;
    return this._chat.send(masked.text);
  }

  /** Focuses the message box (or the pre-chat form's first field), as soon as it is there. */
  focusComposer(): void {
    const field = this._renderRoot.querySelector<HTMLElement>('textarea, input');
    this._focusPending = !field;
    field?.focus();
  }

  /** Called by the widget when it shows or hides the panel. */
  setVisible(visible: boolean): void {
    this._visible = visible;
    if (visible) this._chat?.markAllRead();
  }

  disconnectedCallback(): void {
    this._chat?.close();
  }

  private async _run(config: PanelConfig): Promise<void> {
    try {
      this._mode = parseMode(config.mode);
      this._prechat = parsePrechat(config.prechat);
      this._maskRules = config.maskPatterns ? parseMaskPatterns(config.maskPatterns) : [];
      this._greeting = config.greeting;
      this._sound = config.sound;
      this._strings = await loadStrings(config.locale);
      this._clock = new Intl.DateTimeFormat(config.locale === 'en' ? undefined : config.locale, {
        hour: '2-digit',
        minute: '2-digit',
      });
      const hours = parseWhole('max-roster-age', config.maxRosterAge, 1);
      const minRosterVersion = parseWhole('min-roster-version', config.minRosterVersion, 0);
      const store = await IdbClientStore.open('sealchat-visitor');
      const chat = await openVisitorChat({
        relayUrl: config.relay,
        orgKey: config.org,
        store,
        mode: this._mode,
        maxRosterHeadAgeMs: hours && hours * 3_600_000,
        minRosterVersion,
      });
      this._chat = chat;
      chat.addEventListener('message', (event) => {
        const message = (event as CustomEvent<ChatMessage>).detail;
        this.dispatchEvent(new CustomEvent('sealchat-message', { detail: message, bubbles: true, composed: true }));
        if (!message.mine && message.author === 'agent') {
          this._typing = undefined;
          if (this._sound && (!this._visible || document.hidden)) chime();
          if (this._visible && !document.hidden) chat.markAllRead();
        }
        this.requestUpdate();
      });
      chat.addEventListener('typing', (event) => {
        this._typing = (event as CustomEvent<TypingSignal>).detail;
        clearTimeout(this._typingTimer);
        this._typingTimer = setTimeout(() => {
          this._typing = undefined;
          this.requestUpdate();
        }, TYPING_SHOWN_MS);
        this.requestUpdate();
      });
      chat.addEventListener('deleted', () => {
        this._deleted = true;
        this._view = 'chat';
        this.requestUpdate();
      });
      // No fresh roster head, or a roster below the pinned version: nothing is sent, and the visitor is told.
      chat.addEventListener('error', (event) => {
        if ((event as CustomEvent<{ code: string }>).detail.code.startsWith('SEALCHAT_E_ROSTER'))
          this._unconfirmed = true;
      });
      for (const type of ['state', 'transcript', 'presence', 'error'])
        chat.addEventListener(type, () => this.requestUpdate());
      if (this._visible) chat.markAllRead();
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
    this.requestUpdate();
  }

  /** The parts of the panel that live for its whole life (their state — text typed, scroll — too). */
  private _ui: PanelUi | undefined;

  private _update(): void {
    const root = this._renderRoot;
    if (!this._strings) {
      patch(
        root,
        `error ${this._error ?? ''}`,
        () => this._error && h('p', { class: 'error', role: 'alert' }, this._error),
      );
      return;
    }
    const ui = (this._ui ??= this._build(this._strings));
    const t = this._t;
    const chat = this._chat;
    const messages: readonly ChatMessage[] = chat?.messages ?? [];
    const away = chat?.agentsOnline === false;
    const needsForm = !!chat && this._prechat.length > 0 && messages.length === 0;
    const log = ui.log;
    // Follow new messages only if the reader is at the bottom; otherwise offer a way down.
    if (this._jump) this._below = false;
    else if (log.isConnected && !log.hidden)
      this._below = log.scrollHeight - log.scrollTop - log.clientHeight > FOLLOW_SLACK_PX;
    this._jump = false;

    ui.section.setAttribute('aria-label', this.heading);
    patch(ui.header, `${this.heading} ${this._view}`, () => [
      h('h2', {}, this.heading),
      h(
        'button',
        {
          type: 'button',
          class: 'icon',
          'aria-label': t.more,
          'aria-expanded': String(this._view === 'menu'),
          onclick: () => this._show(this._view === 'menu' ? 'chat' : 'menu'),
        },
        '⋯',
      ),
      h(
        'button',
        { type: 'button', class: 'icon', 'aria-label': t.close, onclick: () => this.dispatchEvent(new Event('close')) },
        '×',
      ),
    ]);
    ui.notice.textContent = this._mode === 'ephemeral' ? t.noticeEphemeral : t.noticeArchive;
    const offline = chat && chat.state !== 'open' ? (navigator.onLine ? t.reconnecting : t.offline) : '';
    const kinds = new Set<string>(chat?.notices.map((n) => n.kind));
    const refused = kinds.has('refused');
    const missing = kinds.has('gap') || kinds.has('trimmed') || kinds.has('fork');
    const unconfirmed = this._unconfirmed;
    patch(ui.status, `${this._error ?? ''}|${offline}|${missing}|${refused}|${away}|${unconfirmed}`, () => [
      this._error && h('p', { class: 'error', role: 'alert' }, this._error),
      unconfirmed && h('p', { class: 'error', role: 'alert' }, t.unconfirmed),
      offline && h('p', { class: 'status', role: 'status' }, offline),
      missing && h('p', { class: 'error', role: 'status' }, t.missing),
      refused && h('p', { class: 'error', role: 'status' }, t.refused),
      away && h('p', { class: 'status', role: 'status' }, t.away),
    ]);
    const hasConversation = !!chat?.conversationId;
    patch(ui.sheet, `${this._view} ${this._sound} ${hasConversation} ${this._code}`, () =>
      this._renderSheet(hasConversation),
    );

    ui.prechat.hidden = !needsForm;
    log.hidden = needsForm;
    ui.composer.hidden = needsForm;
    ui.formError.textContent = this._formError ?? '';
    ui.formError.hidden = !this._formError;
    patch(ui.list, `${this._greeting}|${this._deleted}|${messages.map((m) => `${m.id}:${m.state}`).join()}`, () => [
      this._greeting && h('li', { class: 'theirs greeting' }, h('span', { class: 'text' }, this._greeting)),
      messages.map((m) => this._renderMessage(m)),
      this._deleted && h('li', { class: 'status' }, t.deleted),
    ]);
    ui.jump.hidden = !this._below || needsForm;
    ui.typing.textContent = this._typing ? t.typing(this._typing.authorName ?? t.agent) : '';
    ui.maskedNote.textContent = this._masked > 0 ? t.masked(this._masked) : '';
    ui.textarea.placeholder = away ? t.awayPlaceholder : t.placeholder;
    ui.textarea.disabled = ui.sendButton.disabled = !chat;

    if (!this._below) log.scrollTop = log.scrollHeight;
    if (this._focusPending) this.focusComposer();
  }

  /** Creates the panel's lasting structure once the strings are known. */
  private _build(t: Strings): PanelUi {
    const textarea = h('textarea', {
      name: 'text',
      rows: 2,
      'aria-label': t.message,
      onkeydown: this._onKey as EventListener,
      oninput: () => this._chat?.typingNow(),
    }) as HTMLTextAreaElement;
    const sendButton = h('button', { type: 'submit' }, t.send) as HTMLButtonElement;
    const composer = h(
      'form',
      { part: 'composer', onsubmit: this._onSubmit as unknown as EventListener },
      textarea,
      sendButton,
    );
    const formError = h('p', { class: 'error', role: 'alert' });
    const prechat = h(
      'form',
      { class: 'prechat', part: 'prechat', novalidate: true, onsubmit: this._onPrechat as unknown as EventListener },
      h('h3', {}, t.prechatTitle),
      this._prechat.map((field) =>
        h(
          'label',
          {},
          t[field],
          h('input', {
            name: field,
            type: field === 'email' ? 'email' : 'text',
            autocomplete: field === 'email' ? 'email' : field === 'name' ? 'name' : 'off',
            required: true,
            maxlength: 200,
          }),
        ),
      ),
      formError,
      h('button', { type: 'submit' }, t.start),
    ) as HTMLFormElement;
    const list = h('ol');
    const log = h(
      'div',
      {
        class: 'log',
        part: 'messages',
        role: 'log',
        // Scrollable: keyboard users must be able to reach it (and scroll it with the arrow keys).
        tabindex: 0,
        'aria-live': 'polite',
        'aria-label': t.messages,
        onscroll: this._onScroll,
      },
      list,
    );
    const ui = {
      header: h('header', { part: 'header' }),
      notice: h('p', { class: 'notice', part: 'notice' }),
      status: h('div'),
      sheet: h('div'),
      log,
      list,
      jump: h('button', { type: 'button', class: 'jump', onclick: this._jumpDown }, t.newMessages),
      typing: h('p', { class: 'typing', role: 'status' }),
      maskedNote: h('p', { class: 'status', role: 'status' }),
      prechat,
      formError,
      composer: composer as HTMLFormElement,
      textarea,
      sendButton,
    };
    const section = h(
      'section',
      { class: 'panel', part: 'panel', role: 'dialog', dir: t.dir, onkeydown: this._onPanelKey as EventListener },
      ui.header,
      ui.notice,
      h('slot', { name: 'consent' }),
      ui.status,
      ui.sheet,
      prechat,
      log,
      ui.jump,
      ui.typing,
      ui.maskedNote,
      composer,
    );
    this._renderRoot.replaceChildren(section);
    return { section, ...ui };
  }

  private _renderMessage(m: ChatMessage): HTMLElement {
    const t = this._t;
    const who = m.mine ? t.you : (m.authorName ?? t.agent);
    const date = new Date(m.sentAt);
    return h(
      'li',
      { class: m.mine ? 'mine' : 'theirs', 'data-state': m.state },
      h('span', { class: 'meta' }, `${who} · `, h('time', { datetime: date.toISOString() }, this._clock.format(date))),
      m.fields
        ? h(
            'dl',
            { class: 'text' },
            m.fields.map((f) => [h('dt', {}, fieldLabel(t, f.name)), h('dd', {}, f.value)]),
          )
        : h('span', { class: 'text' }, renderText(m.text)),
      m.mine &&
        h(
          'span',
          { class: 'meta state' },
          t[m.state],
          m.state === 'failed' &&
            h('button', { class: 'retry', type: 'button', onclick: () => this._chat?.retry() }, t.retry),
        ),
    );
  }

  /** The menu, or one of its views (safety code, delete confirmation), above the messages. */
  private _renderSheet(hasConversation: boolean): Child {
    const t = this._t;
    const back = h('button', { type: 'button', onclick: () => this._show('chat') }, t.cancel);
    if (this._view === 'confirm-delete')
      return h(
        'div',
        { class: 'sheet', role: 'alertdialog', 'aria-label': t.deleteConversation },
        h('p', {}, t.deleteConfirm),
        h('button', { type: 'button', class: 'danger', onclick: this._onDelete as EventListener }, t.confirmDelete),
        back,
      );
    if (this._view === 'safety')
      return h(
        'div',
        { class: 'sheet', role: 'group', 'aria-label': t.safetyCode },
        h('p', {}, h('strong', {}, `${t.safetyCode}: `), h('code', { class: 'code' }, this._code ?? '…')),
        h('p', {}, t.safetyHelp),
        back,
      );
    if (this._view !== 'menu') return undefined;
    const item = (label: string, onclick: () => unknown, extra: Record<string, string | boolean> = {}) =>
      h('button', { type: 'button', disabled: !hasConversation, onclick, ...extra }, label);
    return h(
      'div',
      { class: 'sheet menu', role: 'group', 'aria-label': t.more },
      h('button', { type: 'button', onclick: () => this._toggleSound() }, this._sound ? t.soundOff : t.soundOn),
      this._mode === 'ephemeral' ? h('p', {}, t.noTranscript) : item(t.transcript, this._onTranscript),
      item(t.safetyCode, this._onSafety),
      item(t.deleteConversation, () => this._show('confirm-delete'), { class: 'danger' }),
    );
  }

  private _show(view: PanelView): void {
    this._view = view;
    this.requestUpdate();
    void this.updateComplete.then(() =>
      view === 'chat' ? this.focusComposer() : this._renderRoot.querySelector<HTMLElement>('.sheet button')?.focus(),
    );
  }

  private _toggleSound(): void {
    this._sound = !this._sound;
    if (this._sound) chime(); // a click is a user gesture: the browser lets the audio start now
    this.requestUpdate();
  }

  private readonly _onSafety = async (): Promise<void> => {
    this._code = await this._chat?.safetyCode();
    this._show('safety');
  };

  private readonly _onDelete = async (): Promise<void> => {
    try {
      await this._chat?.deleteConversation();
      this._error = undefined;
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
    }
    this._show('chat');
  };

  /** Saves the conversation as a plain-text file, made here in the browser. */
  private readonly _onTranscript = (): void => {
    const t = this._t;
    const lines = (this._chat?.messages ?? []).map(
      (m) => `[${new Date(m.sentAt).toISOString()}] ${m.mine ? t.you : (m.authorName ?? t.agent)}: ${m.text}`,
    );
    const url = URL.createObjectURL(new Blob([`${this.heading}\n\n${lines.join('\n')}\n`], { type: 'text/plain' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `chat-${new Date().toISOString().slice(0, 10)}.txt`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    this._show('chat');
  };

  private readonly _onPrechat = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const t = this._t;
    const fields = this._prechat.map((name) => ({
      name,
      value: (form.elements.namedItem(name) as HTMLInputElement).value.trim(),
    }));
    const empty = fields.find((f) => f.value === '');
    const email = fields.find((f) => f.name === 'email');
    this._formError = empty
      ? t.required
      : email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value)
        ? t.invalidEmail
        : undefined;
    if (this._formError) {
      this.requestUpdate();
      await this.updateComplete;
      (form.elements.namedItem(empty?.name ?? 'email') as HTMLInputElement | null)?.focus();
      return;
    }
    // A form that was not queued stays filled in, with the reason shown.
    await this._chat?.sendForm(fields).catch((error: unknown) => (this._formError = (error as Error).message));
    this.requestUpdate();
    await this.updateComplete;
    this.focusComposer();
  };

  private readonly _onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const textarea = this._renderRoot.querySelector('textarea');
    if (!textarea || textarea.value.trim() === '') return;
    const text = textarea.value;
    textarea.value = '';
    this._jump = true;
    try {
      await this.send(text);
      this._error = undefined;
    } catch (error) {
      // Not queued anywhere (the tab running the chat did not answer): give the text back, say why.
      textarea.value ||= text;
      this._error = (error as Error).message;
    }
    this._jump = true;
    this.requestUpdate();
  };

  private readonly _onKey = (event: KeyboardEvent): void => {
    // Enter sends; Shift+Enter (and IME composition) inserts a newline.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this._renderRoot.querySelector<HTMLFormElement>('form[part=composer]')?.requestSubmit();
    }
  };

  private readonly _onPanelKey = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    if (this._view !== 'chat') this._show('chat');
    else this.dispatchEvent(new Event('close'));
  };

  private readonly _onScroll = (): void => {
    const list = this._renderRoot.querySelector('.log');
    const below = !!list && list.scrollHeight - list.scrollTop - list.clientHeight > FOLLOW_SLACK_PX;
    if (below !== this._below) {
      this._below = below;
      this.requestUpdate();
    }
  };

  private readonly _jumpDown = (): void => {
    this._jump = true;
    this.requestUpdate();
  };
}

/** A pre-chat field's label in the panel's language (other forms show their own names). */
function fieldLabel(t: Strings, name: string): string {
  return PRECHAT_FIELDS.includes(name as PrechatField) ? t[name as PrechatField] : name;
}

/** Chat text as text nodes, with http(s) links as anchors that cannot reach back into this page. */
function renderText(text: string): Child {
  return linkify(text).map((segment) =>
    segment.kind === 'link'
      ? h('a', { href: segment.href, target: '_blank', rel: 'noopener noreferrer' }, segment.text)
      : segment.text,
  );
}
