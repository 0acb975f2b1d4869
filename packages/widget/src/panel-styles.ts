/**
 * The open panel's look. Theming goes through the documented custom properties and ::part names
 * only (parts are forwarded to <sealchat-widget> with exportparts). Plain CSS text, adopted as a
 * constructed stylesheet (allowed under a strict CSP, unlike a <style> element). Colours are chosen for WCAG AA
 * contrast in both themes; layout uses logical properties, so `dir="rtl"` mirrors it.
 */
export const panelCss = `
  :host {
    display: block !important;
    /* One palette for both themes: light-dark() picks by the host's color-scheme, which follows
       the visitor's setting unless the theme attribute fixes it. */
    color-scheme: light dark;
    --_accent: var(--sealchat-accent, #1f5eff);
    --_surface: var(--sealchat-surface, light-dark(#fff, #1c1c1e));
    --_text: var(--sealchat-text, light-dark(#1c1c1e, #f2f2f7));
    --_bubble: var(--sealchat-bubble, light-dark(#f0f0f3, #2c2c2e));
    --_muted: light-dark(#e5e5ea, #3a3a3c);
    --_notice: light-dark(#eef3ff, #25304d);
    --_error: light-dark(#b00020, #ff8a80);
    color: var(--_text);
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
  :host([hidden]) {
    display: none !important;
  }
  button {
    font: inherit;
    cursor: pointer;
  }
  .panel {
    /* Set here, not inherited from the host: page rules such as * { font-size: 2px } reach the host. */
    font: 15px/1.4 var(--sealchat-font, system-ui, sans-serif);
    color: var(--_text);
    display: flex;
    flex-flow: column;
    position: relative;
    inline-size: min(360px, 100vw - 40px);
    block-size: min(560px, 100vh - 100px);
    margin-block-end: 12px;
    background: var(--_surface);
    border-radius: 12px;
    box-shadow: 0 8px 32px rgb(0 0 0 / 0.25);
    overflow: hidden;
  }
  @media (max-width: 480px) {
    .panel {
      position: fixed;
      inset: 0;
      inline-size: 100%;
      block-size: 100%;
      margin: 0;
      border-radius: 0;
    }
  }
  header {
    display: flex;
    align-items: center;
    gap: 4px;
    padding: 10px 12px;
    background: var(--_accent);
    color: #fff;
  }
  header h2 {
    flex: 1;
    margin: 0;
    font-size: 16px;
  }
  .icon {
    min-inline-size: 32px;
    min-block-size: 32px;
    border: 0;
    border-radius: 6px;
    background: none;
    color: inherit;
    font-size: 20px;
    line-height: 1;
  }
  .notice,
  .status,
  .typing {
    background: var(--_notice);
  }
  .typing:empty {
    display: none;
  }
  ::slotted(*) {
    margin: 0;
    padding: 6px 16px;
    font-size: 12px;
  }
  .log {
    flex: 1;
    padding: 12px;
    overflow-y: auto;
  }
  ol {
    margin: 0;
    padding: 0;
    list-style: none;
  }
  ol > li {
    max-inline-size: 80%;
    margin-block-end: 8px;
    padding: 8px 12px;
    border-radius: 12px;
    background: var(--_bubble);
    overflow-wrap: anywhere;
    inline-size: fit-content;
  }
  ol > li.status {
    max-inline-size: none;
    background: none;
    font-style: italic;
  }
  .text {
    white-space: pre-wrap;
  }
  dl.text {
    margin: 0;
    white-space: normal;
  }
  dt {
    font-weight: 600;
  }
  dd {
    margin: 0 0 4px;
  }
  ol > li.mine {
    margin-inline-start: auto;
    background: var(--_accent);
    color: #fff;
  }
  ol > li.mine a {
    color: inherit;
  }
  .meta {
    display: block;
    font-size: 11px;
  }
  .error {
    color: var(--_error);
    padding: 8px 16px;
    margin: 0;
  }
  li.mine .retry {
    border: 1px solid;
    border-radius: 6px;
    background: none;
    color: inherit;
    font-size: 12px;
    margin-inline-start: 6px;
  }
  .jump {
    position: absolute;
    inset-block-end: 76px;
    inset-inline: 0;
    margin-inline: auto;
    inline-size: fit-content;
    border: 0;
    border-radius: 999px;
    padding: 4px 12px;
    background: var(--_accent);
    color: #fff;
    font-size: 12px;
  }
  .sheet {
    display: flex;
    flex-flow: column;
    gap: 6px;
    padding: 12px 16px;
    border-block-end: 1px solid var(--_muted);
    font-size: 14px;
  }
  .sheet p {
    margin: 0;
  }
  .sheet button,
  .prechat button {
    border: 1px solid var(--_muted);
    border-radius: 8px;
    padding: 6px 10px;
    background: none;
    color: inherit;
    text-align: start;
  }
  .sheet .danger {
    color: var(--_error);
  }
  .code {
    font-size: 16px;
  }
  .prechat {
    flex: 1;
    display: flex;
    flex-flow: column;
    gap: 10px;
    padding: 16px;
  }
  .prechat h3 {
    margin: 0;
    font-size: 15px;
  }
  .prechat label {
    display: flex;
    flex-flow: column;
    gap: 4px;
    font-size: 13px;
  }
  input,
  textarea {
    font: inherit;
    padding: 8px;
    border: 1px solid #8e8e93;
    border-radius: 8px;
    background: var(--_surface);
    color: inherit;
  }
  form[part='composer'] {
    display: flex;
    gap: 8px;
    padding: 10px;
    border-block-start: 1px solid var(--_muted);
  }
  textarea {
    flex: 1;
    resize: none;
  }
  form[part='composer'] button,
  .prechat button[type='submit'] {
    border: 0;
    border-radius: 8px;
    padding: 6px 14px;
    background: var(--_accent);
    color: #fff;
    text-align: center;
  }
  button:disabled {
    opacity: 0.6;
    cursor: default;
  }
`;
