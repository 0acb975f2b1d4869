import { SealchatWidget } from './sealchat-widget.js';

export { SealchatWidget };

if (!customElements.get('sealchat-widget')) customElements.define('sealchat-widget', SealchatWidget);

declare global {
  interface HTMLElementTagNameMap {
    'sealchat-widget': SealchatWidget;
  }
  interface GlobalEventHandlersEventMap {
    'sealchat-open': CustomEvent<undefined>;
    'sealchat-close': CustomEvent<undefined>;
    'sealchat-message': CustomEvent<import('@sealchat/client').ChatMessage>;
  }
}
