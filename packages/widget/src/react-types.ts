import type { ReactWebComponent } from '@lit/react';
import type { ComponentProps, ForwardRefExoticComponent, RefAttributes } from 'react';
import type { sealchatWidgetEvents } from './react-events.js';
import type { SealchatWidget as SealchatWidgetElement } from './sealchat-widget.js';

// The exact-equality check (plain assignability ignores `readonly`); its T is only a probe.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

type Own = Exclude<keyof SealchatWidgetElement, keyof HTMLElement>;

/**
 * The element's own members that must not be props: methods, and read-only properties such as
 * `open` (@lit/react assigns every prop the element has, and assigning a getter-only property throws).
 */
type NotProps = {
  [K in Own]: SealchatWidgetElement[K] extends (...args: never[]) => unknown
    ? K
    : Equals<Pick<SealchatWidgetElement, K>, Readonly<Pick<SealchatWidgetElement, K>>> extends true
      ? K
      : never;
}[Own];

/**
 * Attributes of `<sealchat-widget>` that have no property on the element (see its JSDoc for what
 * each does). @lit/react hands them to React, which sets them as attributes. An attribute that
 * gains a property becomes a prop by itself; react.browser.test.ts fails when a documented
 * attribute is neither.
 */
export interface SealchatWidgetAttributes {
  greeting?: string;
  locale?: string;
  position?: 'bottom-right' | 'bottom-left';
  theme?: 'auto' | 'light' | 'dark';
  /** Space-separated: `name`, `email`, `topic`. */
  prechat?: string;
  /** A JSON array of regular expressions. */
  'mask-patterns'?: string;
  /** React 19 removes the attribute for `false`; React 18 would write `sound="false"`, which still counts as on. */
  sound?: boolean;
  preload?: 'interaction' | 'idle';
  /** Hours, a whole number from 1: the oldest roster head under which the chat sends. Default 96. */
  'max-roster-age'?: string;
  /** A whole number: refuse a roster below this version. */
  'min-roster-version'?: string;
}

type Wrapped = ReactWebComponent<SealchatWidgetElement, typeof sealchatWidgetEvents>;

/** Props of the `SealchatWidget` React component; its `ref` is the `<sealchat-widget>` element. */
export type SealchatWidgetProps = Omit<ComponentProps<Wrapped>, NotProps | 'ref'> &
  SealchatWidgetAttributes &
  RefAttributes<SealchatWidgetElement>;

/** The type of the `SealchatWidget` React component. */
export type SealchatWidgetComponent = ForwardRefExoticComponent<SealchatWidgetProps>;
