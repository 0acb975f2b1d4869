/**
 * @sealchat/widget — `<sealchat-widget>`. Import `@sealchat/widget/define` to register the tag,
 * or this module for the class alone (no side effects).
 */
export { SealchatWidget } from './sealchat-widget.js';
export { PanelLoadError } from './panel-loader.js';
export type { ChatMessage } from '@sealchat/client';
