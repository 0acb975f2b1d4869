import { css } from 'lit';

export const agentStyles = css`
  :host {
    display: grid !important;
    grid-template-columns: minmax(200px, 280px) 1fr;
    block-size: var(--sealchat-agent-height, 560px);
    border: 1px solid #d1d1d6;
    border-radius: 10px;
    overflow: hidden;
    font: 14px/1.4 var(--sealchat-font, system-ui, sans-serif);
    color: var(--sealchat-text, #1c1c1e);
    background: var(--sealchat-surface, #fff);
    --_accent: var(--sealchat-accent, #1f5eff);
  }
  nav {
    border-inline-end: 1px solid #d1d1d6;
    overflow-y: auto;
  }
  nav h2,
  .conversation h2 {
    margin: 0;
    padding: 12px;
    font-size: 15px;
    border-block-end: 1px solid #e5e5ea;
  }
  nav ul {
    margin: 0;
    padding: 0;
    list-style: none;
  }
  nav button {
    display: block;
    inline-size: 100%;
    padding: 10px 12px;
    border: 0;
    border-block-end: 1px solid #f0f0f3;
    background: transparent;
    text-align: start;
    font: inherit;
    cursor: pointer;
  }
  nav button[aria-current='true'] {
    background: #eef3ff;
  }
  .preview {
    display: block;
    color: #6b6b70;
    font-size: 12px;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .conversation {
    display: flex;
    flex-direction: column;
    min-inline-size: 0;
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
    max-inline-size: 75%;
    margin-block-end: 8px;
    padding: 8px 12px;
    border-radius: 10px;
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
  /* A private note: the team's only, so it must never look like something the visitor saw. */
  ol > li.note,
  ol > li.mine.note {
    background: #fff4d6;
    color: #3d2e00;
    border: 1px dashed #8a6d00;
  }
  .meta {
    display: block;
    font-size: 11px;
    opacity: 0.8;
  }
  .warning {
    margin: 0;
    padding: 6px 12px;
    background: #fff4d6;
    font-size: 13px;
  }
  .empty {
    padding: 16px;
    color: #6b6b70;
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
  }
  form button,
  .retry {
    border: 0;
    border-radius: 8px;
    padding: 0 14px;
    background: var(--_accent);
    color: #fff;
    font: inherit;
    cursor: pointer;
  }
  .unread {
    display: inline-block;
    margin-inline-start: 6px;
    padding: 0 6px;
    border-radius: 999px;
    background: var(--_accent);
    color: #fff;
    font-size: 11px;
  }
  .typing,
  .safety,
  .presence {
    margin: 0;
    padding: 4px 12px;
    font-size: 12px;
  }
  .typing:empty {
    display: none;
  }
  .presence {
    display: flex;
    gap: 6px;
    align-items: center;
  }
  dl.text {
    margin: 0;
  }
  dt {
    font-weight: 600;
  }
  dd {
    margin: 0 0 4px;
  }
  .search {
    display: block;
    box-sizing: border-box;
    inline-size: calc(100% - 24px);
    margin: 8px 12px;
    padding: 6px 8px;
    font: inherit;
  }
  .notify,
  .tools button {
    margin: 4px 12px;
    font: inherit;
    font-size: 12px;
  }
  .tools {
    margin: 0;
    padding: 4px 0;
  }
  .tools button {
    margin: 0 0 0 12px;
  }
  .open {
    display: flex;
    min-inline-size: 0;
  }
  .open > .conversation {
    flex: 1;
    min-inline-size: 0;
  }
  .open > .conversation + .conversation {
    border-inline-start: 1px solid #d1d1d6;
  }
  nav li {
    display: flex;
    align-items: stretch;
  }
  nav li > button:last-child {
    flex: 1;
  }
  nav li > .beside {
    inline-size: auto;
    padding: 0 8px;
  }
  .filters {
    display: flex;
    flex-wrap: wrap;
    gap: 4px;
    margin: 0 12px 8px;
  }
  .filters button {
    inline-size: auto;
    padding: 2px 8px;
    border: 1px solid #d1d1d6;
    border-radius: 999px;
    font-size: 12px;
  }
  .filters button[aria-pressed='true'] {
    background: #eef3ff;
  }
  .assignment {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 6px;
    margin: 0;
    padding: 4px 12px;
    font-size: 12px;
  }
`;
