/**
 * The few DOM helpers the panel renders with. No HTML strings anywhere: elements are created one by
 * one and text goes in as text nodes, so nothing a message says can become markup, and nothing
 * here is a Trusted Types sink. (The panel used lit-html; these ~40 lines do what it needs for
 * 2.5 KB gzip less, which the 32 KB budget needed.)
 */
export type Child = Node | string | false | null | undefined | readonly Child[];

type Props = Record<string, string | number | boolean | EventListener | undefined>;

/**
 * Creates `<tag>` with attributes (`true` → empty attribute, `false`/undefined → none), `on…`
 * listeners, and children (strings become text nodes).
 */
export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== undefined) element.setAttribute(name, String(value));
  }
  element.append(...flatten(children));
  return element;
}

function flatten(children: readonly Child[]): (Node | string)[] {
  return children.flatMap((child) =>
    child === false || child === null || child === undefined
      ? []
      : typeof child === 'string' || child instanceof Node
        ? [child]
        : flatten(child),
  );
}

const keys = new WeakMap<ParentNode, string>();

/**
 * Rebuilds `container`'s children with `build()` only when `key` differs from the last call's: what
 * did not change keeps its DOM nodes, and with them focus, selection and scroll position.
 */
export function patch(container: ParentNode, key: string, build: () => Child): void {
  if (keys.get(container) === key) return;
  keys.set(container, key);
  container.replaceChildren(...flatten([build()]));
}
