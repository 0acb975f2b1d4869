import { SealchatPanel } from './sealchat-panel.js';

if (!customElements.get('sealchat-panel')) customElements.define('sealchat-panel', SealchatPanel);

declare global {
  interface HTMLElementTagNameMap {
    'sealchat-panel': SealchatPanel;
  }
}
