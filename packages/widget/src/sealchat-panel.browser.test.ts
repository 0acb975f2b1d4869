import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { randomBytes, verifyRoster, type RelayFrame } from '@sealchat/protocol';
import { createTestOrganisation, installPageRelay, type TestOrganisation } from '@sealchat/protocol/testing';
import './define.js';

/**
 * A hostile relay inside the page, installed as the global WebSocket (the panel opens its own):
 * it answers what a visitor asks, and when the visitor attaches to its conversation it serves a
 * record that no honest device wrote.
 */
function hostileRelay(org: TestOrganisation): void {
  const conversationId = randomBytes(16);
  const roster = org.roster(1, []);
  let posted = 1;

  const relay = installPageRelay(async (frame): Promise<RelayFrame | RelayFrame[]> => {
    const requestId = frame.requestId;
    switch (frame.kind) {
      case 'get-roster':
        return { kind: 'roster', requestId, roster: await roster };
      case 'get-roster-head': {
        const verified = await verifyRoster(await roster, { orgRootKey: org.rootPublic, now: Date.now() });
        return { kind: 'roster-head', requestId, head: await org.rosterHead(verified) };
      }
      case 'watch-presence':
        return { kind: 'presence', requestId, orgId: org.orgId, anyoneOnline: true, devices: [] };
      case 'open-conversation':
        return { kind: 'conversation-opened', requestId, conversationId, capability: randomBytes(32) };
      case 'resume-conversation':
        return [
          { kind: 'resumed', requestId, epoch: 1, lastSeq: 1, firstSeq: 1, reset: false },
          // Not an envelope any device of the organisation (or the visitor) wrote.
          { kind: 'record', conversationId, seq: 1, envelope: randomBytes(200) },
        ];
      case 'post':
        return { kind: 'ack', requestId, seq: ++posted };
      default:
        return { kind: 'error', requestId, code: 'SEALCHAT_E_BAD_FRAME', message: frame.kind };
    }
  });
  onTestFinished(() => relay.restore());
}

const added: Element[] = [];
afterEach(() => {
  for (const el of added.splice(0)) el.remove();
});

/** Whether a person sees `el`: rendered, not hidden by CSS, with a size. */
function seen(el: Element | undefined): boolean {
  return (
    !!el &&
    el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) &&
    el.getBoundingClientRect().height > 0
  );
}

describe('<sealchat-panel> against a hostile relay', () => {
  it('says in words, visibly, that a record was refused (not only in a `problem` event)', async () => {
    const org = await createTestOrganisation();
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase('sealchat-visitor');
      request.onsuccess = request.onerror = resolve;
    });
    hostileRelay(org);
    const widget = document.createElement('sealchat-widget');
    widget.setAttribute('relay', 'ws://relay.invalid');
    widget.setAttribute('org', org.orgKey);
    document.body.append(widget);
    added.push(widget);
    await widget.show();
    const panel = () => widget.shadowRoot!.querySelector('sealchat-panel')!;
    await expect.poll(() => panel().shadowRoot?.querySelector('textarea')?.disabled).toBe(false);
    await (panel() as unknown as { send(text: string): Promise<unknown> }).send('hello');

    const notice = () =>
      [...panel().shadowRoot!.querySelectorAll('[role="status"]')].find((p) =>
        p.textContent.includes('could not be verified'),
      );
    await expect.poll(() => seen(notice()), { timeout: 5000 }).toBe(true);
    expect(notice()!.textContent).toBe('A message could not be verified and is not shown.');
  });
});
