import { css } from 'lit';

/** What only <sealchat-org-setup> needs on top of form-styles.ts. */
export const orgSetupStyles = css`
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
  pre {
    white-space: pre-wrap;
    padding: 10px;
    border: 1px solid #e5e5ea;
    border-radius: 8px;
    background: #fafafa;
  }
`;
