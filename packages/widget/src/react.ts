/**
 * @sealchat/widget/react — `<sealchat-widget>` as a React component (React 18 or 19).
 *
 * Importing this module registers the tag. Props the element has as properties (`relay`, `org`,
 * `mode`, `heading`) are assigned to it; the attribute-only ones (`theme`, `preload`, ...) React
 * sets as attributes; `onOpen`, `onClose` and `onMessage` listen to the `sealchat-*` events; `ref`
 * is the element, for `open`, `show()`, `hide()` and `send()`. Under Node (server rendering) the
 * package's `node` export condition resolves `./react` to react-ssr.ts instead, which renders the
 * bare tag without touching the DOM. Guide: docs/react.md.
 */
import { createComponent } from '@lit/react';
import React from 'react';
import { SealchatWidget as SealchatWidgetElement } from './define.js';
import { sealchatWidgetEvents } from './react-events.js';
import type { SealchatWidgetComponent } from './react-types.js';

export const SealchatWidget: SealchatWidgetComponent = createComponent({
  react: React,
  tagName: 'sealchat-widget',
  elementClass: SealchatWidgetElement,
  events: sealchatWidgetEvents,
  displayName: 'SealchatWidget',
});

export { sealchatWidgetEvents };
export type { SealchatWidgetAttributes, SealchatWidgetComponent, SealchatWidgetProps } from './react-types.js';
export type { SealchatWidgetElement };
export type { ChatMessage } from '@sealchat/client';
