import type { EventName } from '@lit/react';

/**
 * React prop → DOM event of `<sealchat-widget>`, shared by the browser and the server build of the
 * React wrapper. Each event's type comes from `GlobalEventHandlersEventMap` (declared in define.ts),
 * so a handler's argument is typed the same as with `addEventListener`.
 */
export const sealchatWidgetEvents = {
  onOpen: 'sealchat-open' as EventName<GlobalEventHandlersEventMap['sealchat-open']>,
  onClose: 'sealchat-close' as EventName<GlobalEventHandlersEventMap['sealchat-close']>,
  onMessage: 'sealchat-message' as EventName<GlobalEventHandlersEventMap['sealchat-message']>,
};
