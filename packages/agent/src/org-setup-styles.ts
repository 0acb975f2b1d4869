import { css } from 'lit';

/** Static styles only: they work under a strict CSP (no inline style attributes or elements). */
export const orgSetupStyles = css`
  :host {
    display: block;
    font: 14px/1.5 var(--sealchat-font, system-ui, sans-serif);
    color: var(--sealchat-text, #1c1c1e);
    --_accent: var(--sealchat-accent, #1f5eff);
  }
  .choices {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(260px, 1fr));
    gap: 16px;
  }
  form,
  .org {
    padding: 16px;
    border: 1px solid #d1d1d6;
    border-radius: 10px;
    background: var(--sealchat-surface, #fff);
  }
  h2,
  h3 {
    margin: 0 0 8px;
    font-size: 16px;
  }
  label {
    display: block;
    margin-block-start: 10px;
    font-weight: 600;
  }
  input {
    box-sizing: border-box;
    inline-size: 100%;
    padding: 6px 8px;
    font: inherit;
  }
  .hint {
    margin: 4px 0 0;
    color: #55555a;
    font-size: 13px;
  }
  .error {
    margin: 10px 0 0;
    color: #b00020;
  }
  .error:empty,
  .status:empty {
    display: none;
  }
  button,
  a.button {
    display: inline-block;
    margin-block-start: 12px;
    padding: 6px 14px;
    border: 0;
    border-radius: 8px;
    background: var(--_accent);
    color: #fff;
    font: inherit;
    text-decoration: none;
    cursor: pointer;
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
  code,
  pre {
    font-family: ui-monospace, monospace;
    word-break: break-all;
  }
  pre {
    white-space: pre-wrap;
    padding: 10px;
    border: 1px solid #e5e5ea;
    border-radius: 8px;
    background: #fafafa;
  }
`;
