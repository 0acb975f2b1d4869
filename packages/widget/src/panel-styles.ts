import { css } from 'lit';

/**
 * The open panel's look. Theming goes through the documented custom properties and ::part names
 * only (parts are forwarded to <sealchat-widget> with exportparts).
 */
export const panelStyles = css`
  :host {
    display: block !important;
    --_accent: var(--sealchat-accent, #1f5eff);
  }
  :host([hidden]) {
    display: none !important;
  }
  button {
    font: inherit;
    cursor: pointer;
  }
  .panel {
    display: flex;
    flex-direction: column;
    inline-size: min(360px, calc(100vw - 40px));
    block-size: min(520px, calc(100vh - 100px));
    margin-block-end: 12px;
    background: var(--sealchat-surface, #fff);
    border-radius: 12px;
    box-shadow: 0 8px 32px rgb(0 0 0 / 0.25);
    overflow: hidden;
  }
  header {
    display: flex;
    align-items: center;
    justify-content: space-between;
    padding: 12px 16px;
    background: var(--_accent);
    color: #fff;
  }
  header h2 {
    margin: 0;
    font-size: 16px;
  }
  header button {
    border: 0;
    background: transparent;
    color: inherit;
    font-size: 20px;
  }
  .notice {
    margin: 0;
    padding: 6px 16px;
    font-size: 12px;
    background: #eef3ff;
    color: #1c1c1e;
  }
  ol {
    flex: 1;
    margin: 0;
    padding: 12px;
    list-style: none;
    overflow-y: auto;
  }
  ol > li {
    max-inline-size: 80%;
    margin-block-end: 8px;
    padding: 8px 12px;
    border-radius: 12px;
    background: #f0f0f3;
    overflow-wrap: anywhere;
  }
  .text {
    white-space: pre-wrap;
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
    opacity: 0.8;
  }
  .error {
    color: #b00020;
    padding: 8px 16px;
  }
  li.mine .retry {
    border: 1px solid currentColor;
    border-radius: 6px;
    background: transparent;
    color: inherit;
    font-size: 12px;
    margin-inline-start: 6px;
  }
  form {
    display: flex;
    gap: 8px;
    padding: 10px;
    border-block-start: 1px solid #e5e5ea;
  }
  textarea {
    flex: 1;
    resize: none;
    font: inherit;
    padding: 8px;
    border: 1px solid #c7c7cc;
    border-radius: 8px;
  }
  form button {
    border: 0;
    border-radius: 8px;
    padding: 0 14px;
    background: var(--_accent);
    color: #fff;
  }
`;
