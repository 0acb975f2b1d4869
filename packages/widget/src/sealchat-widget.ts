import { pickLocale, type Locale } from './i18n.js';
import { launcherCss } from './launcher-styles.js';
import { launcherStrings } from './launcher-strings.js';
import { loadPanel } from './panel-loader.js';
import type { SealchatPanel } from './sealchat-panel.js';

const POSITIONS = ['bottom-right', 'bottom-left'];
const THEMES = ['auto', 'light', 'dark'];

/** Checks an enumerated attribute. @throws TypeError naming the allowed values. */
function oneOf(name: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value))
    throw new TypeError(`The ${name} attribute must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
  return value;
}

let sheet: CSSStyleSheet | undefined;

/**
 * The visitor chat widget: a launcher button that opens an end-to-end encrypted chat panel. The
 * launcher is plain DOM (no framework) so it costs a few KB; the panel, the crypto and the storage
 * load on the first click, or when the browser is idle with `preload="idle"`.
 *
 * @attr relay - WebSocket URL of the Sealchat relay (`wss://...`).
 * @attr org - The organisation's root key in text form (`sc1...`); pins who may read the chat.
 * @attr mode - `archive` (default: the organisation's supervisors can read the history) or
 *   `ephemeral` (no archive copy, nothing kept to re-read). Any other value is reported in the panel.
 * @attr heading - Panel title and launcher label. Default "Chat with us" in the widget's language.
 *   (Not `title`, which would give the whole widget a native tooltip.)
 * @attr greeting - A first line shown in the panel, as if from the organisation (not sent anywhere).
 * @attr locale - `en`, `de`, `fr`, `es` or `ar` (right-to-left). Default: the browser's languages, else English.
 *   Only the chosen language is downloaded.
 * @attr position - `bottom-right` (default) or `bottom-left`.
 * @attr theme - `auto` (default: follows the visitor's light/dark setting), `light` or `dark`.
 * @attr prechat - Fields to ask before the chat starts, space-separated: `name`, `email`, `topic`.
 *   The answers are encrypted like messages.
 * @attr mask-patterns - Extra patterns to mask before encryption, as a JSON array of regular
 *   expressions, e.g. `["\\bCASE-\\d{6}\\b"]`. Card numbers (Luhn-checked) and IBANs are always masked.
 * @attr sound - Present: play a short chime when an agent writes while the chat is closed or the tab
 *   is in the background. The visitor can turn it on or off in the panel's menu.
 * @attr max-roster-age - Hours: the oldest roster head under which the chat sends (a whole number
 *   from 1). Default 96 (4 days). Past it the panel says it cannot confirm who would read the chat and
 *   sends nothing (docs/protocol.md §4.4).
 * @attr min-roster-version - Refuse a roster below this version (a whole number), e.g. the one in
 *   force when the snippet was written, so no relay can serve an older one.
 * @attr preload - `interaction` (default): load the chat on the first click. `idle`: load it when
 *   the browser is idle, so the first click opens at once.
 *
 * @event sealchat-open - The panel opened.
 * @event sealchat-close - The panel closed.
 * @event sealchat-message - A message was added or changed state; `detail` is the ChatMessage.
 *
 * @slot consent - Text shown above the messages, such as a privacy or consent notice (yours, as HTML).
 *
 * @csspart launcher - The round button that opens the panel.
 * @csspart badge - The unread count on the launcher while the panel is closed.
 * @csspart panel - The chat panel.
 * @csspart header - The panel's title bar.
 * @csspart messages - The message list.
 * @csspart composer - The message form.
 * @csspart notice - The encryption notice under the header.
 * @csspart prechat - The pre-chat form.
 *
 * @cssprop --sealchat-accent - Launcher, header and own-message colour.
 * @cssprop --sealchat-surface - Panel background.
 * @cssprop --sealchat-text - Text colour.
 * @cssprop --sealchat-bubble - Background of the organisation's messages.
 * @cssprop --sealchat-font - Font stack.
 * @cssprop --sealchat-z-index - Stacking order (default 2147483000).
 * @cssprop --sealchat-offset - Distance from the viewport corner.
 */
export class SealchatWidget extends HTMLElement {
  static readonly observedAttributes = ['heading', 'open', 'locale', 'position', 'theme'];
  private readonly _launcher: HTMLButtonElement;
  private _panel: SealchatPanel | undefined;
  private _loadError: HTMLElement | undefined;
  /** Messages from the organisation that arrived while the panel was closed. */
  private _unread = 0;
  private readonly _seen = new Set<string>();
  /** Whether the panel is showing; the `open` attribute reflects it. */
  private _shown = false;
  /** The language in use (from the `locale` attribute or the browser). */
  private _language: Locale;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    sheet ??= new CSSStyleSheet();
    if (sheet.cssRules.length === 0) sheet.replaceSync(launcherCss);
    root.adoptedStyleSheets = [sheet];
    this._launcher = document.createElement('button');
    this._launcher.type = 'button';
    this._launcher.className = 'launcher';
    this._launcher.setAttribute('part', 'launcher');
    this._launcher.addEventListener('click', () => (this.open ? this.hide() : void this.show()));
    root.append(this._launcher);
    this._language = pickLocale(null, navigator.languages);
    // Count what the organisation wrote while the panel was closed (each message once).
    this.addEventListener('sealchat-message', (event) => {
      const message = (event as CustomEvent<{ id: string; mine: boolean }>).detail;
      if (message.mine || this._seen.has(message.id)) return;
      this._seen.add(message.id);
      if (!this.open) {
        this._unread++;
        this._renderLauncher();
      }
    });
    this._renderLauncher();
  }

  connectedCallback(): void {
    if (this.getAttribute('preload') === 'idle') {
      const load = () => void loadPanel().catch(() => undefined);
      if ('requestIdleCallback' in window) window.requestIdleCallback(load);
      else setTimeout(load, 1000);
    }
  }

  attributeChangedCallback(name: string): void {
    // `open` written by the page (in the tag, or by script) opens or closes the panel.
    if (name === 'open' && this.hasAttribute('open') !== this._shown) {
      if (this._shown) this.hide();
      else void this.show().catch(() => this.toggleAttribute('open', false));
    }
    try {
      this._language = pickLocale(this.getAttribute('locale'), navigator.languages);
      oneOf('position', this.getAttribute('position') ?? 'bottom-right', POSITIONS);
      const theme = oneOf('theme', this.getAttribute('theme') ?? 'auto', THEMES);
      this._panel?.setAttribute('theme', theme);
    } catch (error) {
      this._showLoadError(error instanceof Error ? error.message : String(error));
    }
    this._renderLauncher();
  }

  get relay(): string {
    return this.getAttribute('relay') ?? '';
  }
  set relay(value: string) {
    this.setAttribute('relay', value);
  }

  get org(): string {
    return this.getAttribute('org') ?? '';
  }
  set org(value: string) {
    this.setAttribute('org', value);
  }

  get mode(): string {
    return this.getAttribute('mode') ?? 'archive';
  }
  set mode(value: string) {
    this.setAttribute('mode', value);
  }

  get heading(): string {
    return this.getAttribute('heading') ?? launcherStrings[this._language].heading;
  }
  set heading(value: string) {
    this.setAttribute('heading', value);
  }

  /** Whether the panel is open (reflected as the `open` attribute; setting that attribute opens it). */
  get open(): boolean {
    return this._shown;
  }

  /**
   * Opens the panel, loading the chat code on first use.
   * @throws PanelLoadError when the chat code cannot be fetched or fails its integrity check (also shown).
   */
  async show(): Promise<void> {
    if (!this._panel) {
      try {
        await loadPanel();
      } catch (error) {
        this._showLoadError(error instanceof Error ? error.message : String(error));
        throw error;
      }
      this._loadError?.remove();
      if (!this._panel) {
        const panel = document.createElement('sealchat-panel');
        panel.heading = this.heading;
        panel.setAttribute('exportparts', 'panel, header, messages, composer, notice, prechat');
        panel.setAttribute('theme', this.getAttribute('theme') ?? 'auto');
        // The page's consent text (light DOM) passes through the widget into the panel's slot.
        const consent = document.createElement('slot');
        consent.name = consent.slot = 'consent';
        panel.append(consent);
        panel.addEventListener('close', () => this.hide());
        this.shadowRoot!.insertBefore(panel, this._launcher);
        panel.start({
          relay: this.relay,
          org: this.org,
          mode: this.mode,
          locale: this._language,
          greeting: this.getAttribute('greeting') ?? '',
          maskPatterns: this.getAttribute('mask-patterns') ?? '',
          prechat: this.getAttribute('prechat') ?? '',
          sound: this.hasAttribute('sound'),
          maxRosterAge: this.getAttribute('max-roster-age') ?? '',
          minRosterVersion: this.getAttribute('min-roster-version') ?? '',
        });
        this._panel = panel;
      }
    }
    if (this._shown) return;
    this._shown = true;
    this._panel.hidden = false;
    this._panel.setVisible(true);
    this._unread = 0;
    this.toggleAttribute('open', true);
    this._emit('sealchat-open');
    await this._panel.updateComplete;
    this._panel.focusComposer();
  }

  hide(): void {
    if (!this._shown) return;
    this._shown = false;
    if (this._panel) {
      this._panel.hidden = true;
      this._panel.setVisible(false);
    }
    this.toggleAttribute('open', false);
    this._emit('sealchat-close');
    this._launcher.focus();
  }

  /** Sends a message as the visitor, opening the panel if needed. */
  async send(text: string): Promise<void> {
    await this.show();
    await this._panel!.send(text);
  }

  private _renderLauncher(): void {
    const t = launcherStrings[this._language];
    this._launcher.textContent = this.open ? t.close : this.heading;
    if (!this.open && this._unread > 0) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.setAttribute('part', 'badge');
      badge.textContent = String(this._unread);
      this._launcher.append(' ', badge);
      this._launcher.setAttribute('aria-label', `${this.heading}, ${t.unread(this._unread)}`);
    } else {
      this._launcher.removeAttribute('aria-label');
    }
    this._launcher.setAttribute('aria-expanded', this.open ? 'true' : 'false');
    if (this._panel) this._panel.heading = this.heading;
  }

  private _showLoadError(message: string): void {
    this._loadError ??= document.createElement('p');
    this._loadError.className = 'load-error';
    this._loadError.setAttribute('role', 'alert');
    this._loadError.textContent = message;
    this.shadowRoot!.insertBefore(this._loadError, this._launcher);
  }

  private _emit(type: string): void {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true }));
  }
}
