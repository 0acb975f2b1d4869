import { SealchatAgent } from './sealchat-agent.js';

export { SealchatAgent };

if (!customElements.get('sealchat-agent')) customElements.define('sealchat-agent', SealchatAgent);

declare global {
  interface HTMLElementTagNameMap {
    'sealchat-agent': SealchatAgent;
  }
  interface GlobalEventHandlersEventMap {
    'sealchat-select': CustomEvent<string>;
  }
}
