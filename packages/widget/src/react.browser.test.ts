import { act, createElement, createRef } from 'react';
import { createRoot, hydrateRoot, type Root } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import manifestText from '../custom-elements.json?raw';
import {
  SealchatWidget,
  sealchatWidgetEvents,
  type ChatMessage,
  type SealchatWidgetAttributes,
  type SealchatWidgetElement,
  type SealchatWidgetProps,
} from './react.js';
import { SealchatWidget as ServerSealchatWidget } from './react-ssr.js';

// Tell React this is a test environment, so act() flushes renders and effects synchronously.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const roots: Root[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) act(() => root.unmount());
  document.body.replaceChildren();
});

function render(props: SealchatWidgetProps): { root: Root; widget: SealchatWidgetElement } {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  roots.push(root);
  act(() => root.render(createElement(SealchatWidget, props)));
  return { root, widget: container.querySelector('sealchat-widget')! };
}

/** What the element itself does: a composed, bubbling `sealchat-*` event. */
function fire(widget: Element, type: string, detail?: unknown): CustomEvent {
  const event = new CustomEvent(type, { bubbles: true, composed: true, detail });
  widget.dispatchEvent(event);
  return event;
}

// Only what the element itself reads (it counts unread messages); the wrapper passes the event through.
const message = { id: 'm1', mine: false } as ChatMessage;

interface ManifestEntry {
  name: string;
  fieldName?: string;
  readonly?: boolean;
}
const [declaration] = (
  JSON.parse(manifestText) as {
    modules: {
      declarations?: {
        tagName?: string;
        events?: ManifestEntry[];
        attributes?: ManifestEntry[];
        members?: ManifestEntry[];
      }[];
    }[];
  }
).modules
  .flatMap((mod) => mod.declarations ?? [])
  .filter((decl) => decl.tagName === 'sealchat-widget');

describe('SealchatWidget (React)', () => {
  it('renders the registered element, with the props reaching it as attributes', () => {
    const { widget } = render({ relay: 'ws://127.0.0.1:9', org: 'sc1x', heading: 'Ask us' });
    expect(widget).toBeInstanceOf(customElements.get('sealchat-widget')!);
    expect(widget.getAttribute('relay')).toBe('ws://127.0.0.1:9');
    expect(widget.getAttribute('org')).toBe('sc1x');
    expect(widget.getAttribute('heading')).toBe('Ask us');
    expect(widget.shadowRoot!.querySelector('button.launcher')!.textContent.trim()).toBe('Ask us');
  });

  it('calls onOpen, onClose and onMessage for the matching event only', () => {
    const onOpen = vi.fn();
    const onClose = vi.fn();
    const onMessage = vi.fn();
    const { widget } = render({ relay: 'ws://127.0.0.1:9', org: 'sc1x', onOpen, onClose, onMessage });

    const opened = fire(widget, 'sealchat-open');
    expect(onOpen.mock.calls).toEqual([[opened]]);
    expect(onClose).not.toHaveBeenCalled();
    expect(onMessage).not.toHaveBeenCalled();

    const closed = fire(widget, 'sealchat-close');
    expect(onClose.mock.calls).toEqual([[closed]]);
    expect(onOpen).toHaveBeenCalledTimes(1);

    fire(widget, 'sealchat-message', message);
    expect(onMessage).toHaveBeenCalledTimes(1);
    expect((onMessage.mock.calls[0]![0] as CustomEvent<ChatMessage>).detail).toBe(message);
    expect(onOpen).toHaveBeenCalledTimes(1);
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it('follows re-renders: the new handler is called, a removed one is not', () => {
    const first = vi.fn();
    const second = vi.fn();
    const { root, widget } = render({ heading: 'One', onOpen: first });
    act(() => root.render(createElement(SealchatWidget, { heading: 'Two', onOpen: second })));
    expect(widget.getAttribute('heading')).toBe('Two');
    fire(widget, 'sealchat-open');
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);

    act(() => root.render(createElement(SealchatWidget, { heading: 'Two' })));
    fire(widget, 'sealchat-open');
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('has a handler prop for every event in custom-elements.json', () => {
    const documented = (declaration?.events ?? []).map((event) => event.name);
    expect(documented).toEqual(expect.arrayContaining(['sealchat-open', 'sealchat-close', 'sealchat-message']));
    // sealchat-request-close → onRequestClose
    const propFor = (event: string) =>
      `on${event.replace(/^sealchat-/, '').replace(/(^|-)([a-z])/g, (_, _dash, letter: string) => letter.toUpperCase())}`;
    expect(Object.entries(sealchatWidgetEvents).sort()).toEqual(
      documented.map((event) => [propFor(event), event]).sort(),
    );

    const handlers = Object.fromEntries(documented.map((event) => [propFor(event), vi.fn()]));
    const { widget } = render(handlers);
    for (const event of documented) {
      fire(widget, event, event === 'sealchat-message' ? message : undefined);
      for (const [prop, handler] of Object.entries(handlers)) {
        expect(handler, `${prop} after ${event}`).toHaveBeenCalledTimes(prop === propFor(event) ? 1 : 0);
      }
      for (const handler of Object.values(handlers)) handler.mockClear();
    }
  });

  it('gives the element through ref, with its methods typed', () => {
    const ref = createRef<SealchatWidgetElement>();
    const { widget } = render({ ref, org: 'sc1x' });
    expect(ref.current).toBe(widget);
    expect(ref.current!.open).toBe(false);
    expect(typeof ref.current!.show).toBe('function');
    expect(typeof ref.current!.send).toBe('function');
    expectTypeOf(ref.current).toEqualTypeOf<SealchatWidgetElement | null>();
    expectTypeOf<SealchatWidgetElement['show']>().toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<SealchatWidgetElement['hide']>().toEqualTypeOf<() => void>();
    expectTypeOf<SealchatWidgetElement['send']>().toEqualTypeOf<(text: string) => Promise<void>>();
    expectTypeOf<SealchatWidgetElement['open']>().toEqualTypeOf<boolean>();
  });

  it('types the handlers with the events the element fires', () => {
    expectTypeOf<NonNullable<SealchatWidgetProps['onMessage']>>()
      .parameter(0)
      .toEqualTypeOf<CustomEvent<ChatMessage>>();
    expectTypeOf<NonNullable<SealchatWidgetProps['onOpen']>>().parameter(0).toEqualTypeOf<CustomEvent<undefined>>();
    expectTypeOf<SealchatWidgetProps>().toHaveProperty('relay').toEqualTypeOf<string | undefined>();
    // Methods and the read-only `open` are not props: @lit/react would assign them, and `open` has no setter.
    expectTypeOf<SealchatWidgetProps>().not.toHaveProperty('open');
    expectTypeOf<SealchatWidgetProps>().not.toHaveProperty('show');
    expectTypeOf<SealchatWidgetProps>().not.toHaveProperty('send');
  });

  it('hydrates the server-rendered tag without a mismatch, then works as usual', () => {
    const props = { relay: 'ws://127.0.0.1:9', org: 'sc1x', heading: 'Ask us' };
    const container = document.createElement('div');
    // What the server build sends: the bare tag, its props as attributes (see react-ssr.test.ts).
    container.innerHTML = renderToString(createElement(ServerSealchatWidget, props)); // eslint-disable-line no-restricted-syntax -- our own markup, as a server would send it
    document.body.append(container);
    const recoverable: unknown[] = [];
    const errors = vi.spyOn(console, 'error');
    const onOpen = vi.fn();
    let root!: Root;
    act(() => {
      root = hydrateRoot(container, createElement(SealchatWidget, { ...props, onOpen }), {
        onRecoverableError: (error) => recoverable.push(error),
      });
    });
    roots.push(root);
    expect(recoverable).toEqual([]);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
    const widget = container.querySelector('sealchat-widget')!;
    expect(widget).toBeInstanceOf(customElements.get('sealchat-widget')!);
    expect(widget.getAttribute('heading')).toBe('Ask us');
    fire(widget, 'sealchat-open');
    expect(onOpen).toHaveBeenCalledTimes(1);
  });

  // React 19 assigns a prop to a same-named field when the element has one; the element must not
  // shadow its attributes with private fields (it once kept its language in `locale`).
  it('passes `locale` through as the attribute', () => {
    const { widget } = render({ locale: 'de' });
    expect(widget.getAttribute('locale')).toBe('de');
  });

  it('passes every attribute in custom-elements.json through, as a property or as an attribute', () => {
    // One value per attribute-only prop; `Required<...>` makes the compiler keep it equal to the type.
    const attributeOnly: Required<SealchatWidgetAttributes> = {
      greeting: 'Hello from the shop',
      locale: 'de',
      position: 'bottom-left',
      theme: 'dark',
      prechat: 'name email',
      'mask-patterns': '["CASE-\\d+"]',
      sound: true,
      preload: 'interaction',
      'max-roster-age': '48',
      'min-roster-version': '7',
    };
    const attributes = declaration?.attributes ?? [];
    expect(Object.keys(attributeOnly).filter((name) => !attributes.some((a) => a.name === name))).toEqual([]);

    const props: Record<string, unknown> = {};
    const expected: Record<string, string> = {};
    const notProps: string[] = [];
    for (const attribute of attributes) {
      const field = declaration?.members?.find((member) => member.name === attribute.fieldName);
      if (field?.readonly) continue; // state the element reflects, such as `open`
      if (field) {
        props[field.name] = `value of ${attribute.name}`;
        expected[attribute.name] = `value of ${attribute.name}`;
      } else if (attribute.name in attributeOnly) {
        const value = attributeOnly[attribute.name as keyof SealchatWidgetAttributes];
        props[attribute.name] = value;
        expected[attribute.name] = value === true ? '' : String(value);
      } else {
        notProps.push(attribute.name);
      }
    }
    expect(notProps, 'attributes with neither a property nor an entry in SealchatWidgetAttributes').toEqual([]);
    const { root, widget } = render(props);
    expect(Object.fromEntries(Object.keys(expected).map((name) => [name, widget.getAttribute(name)]))).toEqual(
      expected,
    );

    act(() => root.render(createElement(SealchatWidget, { ...(props as SealchatWidgetProps), sound: false })));
    expect(widget.hasAttribute('sound')).toBe(false);
  });
});
