import { verifyRoster } from '@sealchat/protocol';
import { createTestOrganisation, installPageRelay } from '@sealchat/protocol/testing';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import './define.js';
import type { SealchatWidget } from './sealchat-widget.js';

/**
 * Issue 11, finding 3, as a visitor sees it: a relay serving a roster nobody who administers the
 * organisation has vouched for lately (docs/protocol.md §4.4) gets no message and no key, and the
 * panel says why in words instead of failing silently.
 */
const DAY = 24 * 60 * 60 * 1000;
const UNCONFIRMED = "We can't confirm who would read this chat right now, so nothing is sent. Please try again later.";

const added: Element[] = [];
afterEach(() => {
  for (const el of added.splice(0)) el.remove();
});

/** A relay in the page: it serves `roster` and answers `get-roster-head` with `head` (or "none"). */
async function fakeRelay(headAge: number | undefined) {
  const org = await createTestOrganisation();
  const rosterBytes = await org.roster(1, []);
  const roster = await verifyRoster(rosterBytes, { orgRootKey: org.rootPublic, now: Date.now() });
  const head = headAge === undefined ? undefined : await org.rosterHead(roster, Date.now() - headAge);
  const relay = installPageRelay(({ kind, requestId }) => {
    if (kind === 'get-roster') return { kind: 'roster', requestId, roster: rosterBytes };
    if (kind === 'get-roster-head' && head) return { kind: 'roster-head', requestId, head };
    if (kind === 'watch-presence')
      return { kind: 'presence', requestId, orgId: org.orgId, anyoneOnline: true, devices: [] };
    return { kind: 'error', requestId, code: 'SEALCHAT_E_NOT_FOUND', message: 'Not here' };
  });
  onTestFinished(() => relay.restore());
  return { orgKey: org.orgKey, asked: relay.asked };
}

function mount(org: string): SealchatWidget {
  const widget = document.createElement('sealchat-widget');
  for (const [name, value] of Object.entries({ relay: 'ws://relay.test', org, locale: 'en' }))
    widget.setAttribute(name, value);
  document.body.append(widget);
  added.push(widget);
  return widget;
}

function alertText(widget: SealchatWidget): string {
  const root = widget.shadowRoot!.querySelector('sealchat-panel')!.shadowRoot!;
  const alert = [...root.querySelectorAll<HTMLElement>('[role="alert"]')].find((el) => el.textContent === UNCONFIRMED);
  // In the DOM is not enough: it must be on screen.
  return alert && alert.checkVisibility() && alert.getBoundingClientRect().height > 0 ? alert.textContent : '';
}

describe('<sealchat-widget> without a fresh roster head', () => {
  it('F3: a head 5 days old: the panel says so in words, and the message is neither opened nor posted', async () => {
    const relay = await fakeRelay(5 * DAY);
    const widget = mount(relay.orgKey);
    await widget.show();
    await expect.poll(() => alertText(widget), { timeout: 5000 }).toBe(UNCONFIRMED);
    await widget.send('My card is 4111 1111 1111 1111');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(relay.asked).toContain('get-roster-head');
    expect(relay.asked).not.toContain('open-conversation');
    expect(relay.asked).not.toContain('post');
    expect(alertText(widget)).toBe(UNCONFIRMED);
  });

  it('no head at all: the same words, nothing sent', async () => {
    const relay = await fakeRelay(undefined);
    const widget = mount(relay.orgKey);
    await widget.show();
    await expect.poll(() => alertText(widget), { timeout: 5000 }).toBe(UNCONFIRMED);
    await widget.send('Hello?');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(relay.asked).not.toContain('post');
  });

  it('max-roster-age and min-roster-version take whole numbers only, and say so', async () => {
    for (const [name, value, expected] of [
      ['max-roster-age', '4d', /max-roster-age attribute must be a whole number from 1, not "4d"/],
      ['max-roster-age', '0', /from 1, not "0"/],
      ['min-roster-version', '-3', /min-roster-version attribute must be a whole number from 0/],
    ] as const) {
      const widget = mount('sc1x');
      widget.setAttribute(name, value);
      await widget.show();
      const root = widget.shadowRoot!.querySelector('sealchat-panel')!.shadowRoot!;
      await expect.poll(() => root.querySelector('[role="alert"]')?.textContent ?? '').toMatch(expected);
      widget.remove();
    }
  });

  it('a fresh head: no such words, and the chat opens its conversation', async () => {
    const relay = await fakeRelay(60_000);
    const widget = mount(relay.orgKey);
    await widget.show();
    await expect.poll(() => relay.asked, { timeout: 5000 }).toContain('watch-presence');
    expect(alertText(widget)).toBe('');
  });
});
