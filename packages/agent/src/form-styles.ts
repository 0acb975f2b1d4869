import { css } from 'lit';

/**
 * What the console's form panels (organisation setup, team) share: cards, labels, fields, buttons,
 * hints, errors and notices. Static styles only: they work under a strict CSP.
 */
export const formStyles = css`
  :host {
    display: block;
    font: 14px/1.5 var(--sealchat-font, system-ui, sans-serif);
    color: var(--sealchat-text, #1c1c1e);
    --_accent: var(--sealchat-accent, #1f5eff);
    --_danger: var(--sealchat-danger, #b00020);
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
  input,
  select,
  textarea {
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
    color: var(--_danger);
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
  pre,
  textarea {
    font-family: ui-monospace, monospace;
    word-break: break-all;
  }
`;
