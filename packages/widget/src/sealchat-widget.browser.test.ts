import { afterEach, describe, expect, it } from 'vitest';
import './define.js';
import type { SealchatWidget } from './sealchat-widget.js';

const added: Element[] = [];
afterEach(() => {
  for (const el of added.splice(0)) el.remove();
});

/** The open panel's shadow root, inside the widget's. */
function panelRoot(widget: SealchatWidget): ShadowRoot {
  return widget.shadowRoot!.querySelector('sealchat-panel')!.shadowRoot!;
}

function mount(attributes: Record<string, string>): SealchatWidget {
  const widget = document.createElement('sealchat-widget');
  for (const [name, value] of Object.entries(attributes)) widget.setAttribute(name, value);
  document.body.append(widget);
  added.push(widget);
  return widget;
}

describe('<sealchat-widget>', () => {
  it('renders its launcher inside a shadow root, labelled by the heading', () => {
    const widget = mount({ heading: 'Ask us' });
    expect(widget.shadowRoot).not.toBeNull();
    const launcher = widget.shadowRoot!.querySelector<HTMLButtonElement>('button.launcher')!;
    expect(launcher.textContent.trim()).toBe('Ask us');
    expect(launcher.getAttribute('aria-expanded')).toBe('false');
    // Nothing leaks into the page's own DOM.
    expect(widget.children.length).toBe(0);
  });

  it('stays visible when the host page hides empty elements or the tag itself', () => {
    const style = document.createElement('style');
    style.textContent = 'div:empty, sealchat-widget { display: none; } button { visibility: hidden; }';
    document.head.append(style);
    added.push(style);
    const widget = mount({});
    expect(getComputedStyle(widget).display).toBe('block');
    const launcher = widget.shadowRoot!.querySelector('button.launcher')!;
    expect(getComputedStyle(launcher).visibility).toBe('visible');
    expect(launcher.getBoundingClientRect().width).toBeGreaterThan(0);
  });

  it('says clearly when the org key in the tag is mistyped, and does not start a chat', async () => {
    const widget = mount({ relay: 'ws://127.0.0.1:9', org: 'sc1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    const events: string[] = [];
    widget.addEventListener('sealchat-open', (event) => {
      events.push(event.type);
      expect(event.composed && event.bubbles).toBe(true);
    });
    await widget.show();
    expect(events).toEqual(['sealchat-open']);
    await expect
      .poll(() => panelRoot(widget).querySelector('[role="alert"]')?.textContent ?? '')
      .toMatch(/checksum|org key/i);
    expect(panelRoot(widget).querySelector('textarea')!.disabled).toBe(true);
  });

  it('closes on the close button and gives focus back to the launcher', async () => {
    const widget = mount({ relay: 'ws://127.0.0.1:9', org: 'bad' });
    await widget.show();
    // The panel renders once its strings have loaded.
    await expect.poll(() => panelRoot(widget).querySelector('button[aria-label="Close chat"]')).not.toBeNull();
    panelRoot(widget).querySelector<HTMLButtonElement>('button[aria-label="Close chat"]')!.click();
    expect(widget.open).toBe(false);
    await expect.poll(() => widget.shadowRoot!.activeElement?.className).toBe('launcher');
  });
});

describe('<sealchat-widget open>', () => {
  it('opens when the page sets the open attribute, and closes when it removes it', async () => {
    const widget = mount({ relay: 'ws://127.0.0.1:9', org: 'bad' });
    const opened = new Promise((resolve) => widget.addEventListener('sealchat-open', resolve));
    widget.setAttribute('open', '');
    await opened;
    expect(widget.open).toBe(true);
    expect(widget.shadowRoot!.querySelector('sealchat-panel')!.hidden).toBe(false);
    widget.removeAttribute('open');
    expect(widget.open).toBe(false);
    expect(widget.shadowRoot!.querySelector('sealchat-panel')!.hidden).toBe(true);
  });
});

describe('<sealchat-widget mode>', () => {
  it('rejects an unknown mode with a message naming the allowed values', async () => {
    const widget = mount({ relay: 'ws://127.0.0.1:9', org: 'sc1x', mode: 'secret' });
    await widget.show();
    await expect
      .poll(() => panelRoot(widget).querySelector('[role="alert"]')?.textContent ?? '')
      .toMatch(/"archive" or "ephemeral"/);
  });

  it('says plainly that an ephemeral chat keeps no transcript', async () => {
    const widget = mount({ relay: 'ws://127.0.0.1:9', org: 'sc1x', mode: 'ephemeral' });
    await widget.show();
    await expect
      .poll(() => panelRoot(widget).querySelector('.notice')?.textContent ?? '')
      .toMatch(/no transcript is kept/);
  });
});

describe('<sealchat-widget> unread badge', () => {
  it("counts the organisation's messages while closed, once each, and clears when opened", async () => {
    const widget = mount({ relay: 'ws://127.0.0.1:9', org: 'bad' });
    const launcher = widget.shadowRoot!.querySelector('button.launcher')!;
    const arrive = (id: string, mine = false) =>
      widget.dispatchEvent(
        new CustomEvent('sealchat-message', { detail: { id, mine }, bubbles: true, composed: true }),
      );
    arrive('seq:1');
    arrive('seq:1');
    arrive('mine-1', true);
    arrive('seq:2');
    expect(launcher.querySelector('.badge')?.textContent).toBe('2');
    expect(launcher.getAttribute('aria-label')).toMatch(/2 unread/);
    await widget.show();
    expect(launcher.querySelector('.badge')).toBeNull();
    widget.hide();
    arrive('seq:2');
    expect(launcher.querySelector('.badge')).toBeNull();
    arrive('seq:3');
    expect(launcher.querySelector('.badge')?.textContent).toBe('1');
  });
});
