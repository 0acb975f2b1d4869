import { css } from 'lit';

/** What <sealchat-team> and <sealchat-org-admin> need on top of form-styles.ts. */
export const teamStyles = css`
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
  textarea {
    resize: vertical;
  }
  button {
    margin-inline-end: 8px;
  }
  button.secondary {
    background: #e5e5ea;
    color: inherit;
  }
  button.danger {
    background: var(--_danger);
  }
  .policy {
    margin-top: 16px;
  }
  .policy input {
    width: auto;
    margin-inline-end: 8px;
  }
  .fingerprint {
    font:
      600 16px/1.4 ui-monospace,
      monospace;
    letter-spacing: 0.05em;
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
  ol.audit {
    margin: 8px 0 0;
    padding: 0;
    list-style: none;
  }
  ol.audit li {
    display: flex;
    flex-wrap: wrap;
    gap: 0 8px;
    padding: 6px 0;
    border-block-end: 1px solid #e5e5ea;
  }
  ol.audit time {
    color: #595959;
    font-size: 13px;
  }
`;
