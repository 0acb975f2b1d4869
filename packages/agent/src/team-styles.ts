import { css } from 'lit';

/** Static styles only: they work under a strict CSP (no inline style attributes or elements). */
export const teamStyles = css`
  :host {
    display: block;
    font: 14px/1.5 var(--sealchat-font, system-ui, sans-serif);
    color: var(--sealchat-text, #1c1c1e);
    --_accent: var(--sealchat-accent, #1f5eff);
    --_danger: var(--sealchat-danger, #b00020);
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
    gap: 16px;
  }
  section {
    padding: 16px;
    border: 1px solid #d1d1d6;
    border-radius: 10px;
    background: var(--sealchat-surface, #fff);
  }
  h3 {
    margin: 0 0 8px;
    font-size: 16px;
  }
  label {
    display: block;
    margin-block-start: 10px;
    font-weight: 600;
  }
  input,
  select,
  textarea {
    box-sizing: border-box;
    inline-size: 100%;
    padding: 6px 8px;
    font: inherit;
  }
  textarea {
    font-family: ui-monospace, monospace;
    word-break: break-all;
    resize: vertical;
  }
  .hint {
    margin: 4px 0 0;
    color: #55555a;
    font-size: 13px;
  }
  .error {
    margin: 10px 0 0;
    color: var(--_danger);
  }
  .error:empty,
  .status:empty {
    display: none;
  }
  button {
    display: inline-block;
    margin-block-start: 12px;
    margin-inline-end: 8px;
    padding: 6px 14px;
    border: 0;
    border-radius: 8px;
    background: var(--_accent);
    color: #fff;
    font: inherit;
    cursor: pointer;
  }
  button.secondary {
    background: #e5e5ea;
    color: inherit;
  }
  button.danger {
    background: var(--_danger);
  }
  button[disabled] {
    opacity: 0.6;
    cursor: progress;
  }
  :focus-visible {
    outline: 3px solid var(--_accent);
    outline-offset: 2px;
  }
  .notice {
    padding: 8px 12px;
    border-radius: 8px;
    background: #fff4d6;
  }
  .fingerprint {
    font:
      600 16px/1.4 ui-monospace,
      monospace;
    letter-spacing: 0.05em;
  }
  code {
    font-family: ui-monospace, monospace;
    word-break: break-all;
  }
  ul {
    margin: 8px 0 0;
    padding: 0;
    list-style: none;
  }
  li {
    padding: 8px 0;
    border-block-end: 1px solid #e5e5ea;
  }
  li:last-child {
    border-block-end: 0;
  }
  .tag {
    display: inline-block;
    margin-inline-start: 6px;
    padding: 0 6px;
    border-radius: 6px;
    background: #e5e5ea;
    font-size: 12px;
  }
`;
