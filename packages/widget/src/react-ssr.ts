/**
 * The server build of @sealchat/widget/react, chosen by the package's `node` export condition.
 *
 * The element class extends `HTMLElement`, which Node does not have, so this module never imports
 * it: it renders `<sealchat-widget>` with the props as plain attributes, and the browser build
 * takes over on hydration (registering the tag, setting properties, adding the listeners).
 */
import { createComponent } from '@lit/react';
import React from 'react';
import { sealchatWidgetEvents } from './react-events.js';
import type { SealchatWidgetComponent } from './react-types.js';
import type { SealchatWidget as SealchatWidgetElement } from './sealchat-widget.js';

/** @lit/react only looks at `prototype`: with nothing on it, every prop goes to React as an attribute. */
const ServerElement = { prototype: Object.create(null) as object } as unknown as new () => SealchatWidgetElement;

export const SealchatWidget: SealchatWidgetComponent = createComponent({
  react: React,
  tagName: 'sealchat-widget',
  elementClass: ServerElement,
  events: sealchatWidgetEvents,
  displayName: 'SealchatWidget',
});

export { sealchatWidgetEvents };
export type { SealchatWidgetAttributes, SealchatWidgetComponent, SealchatWidgetProps } from './react-types.js';
export type { SealchatWidgetElement };
export type { ChatMessage } from '@sealchat/client';
