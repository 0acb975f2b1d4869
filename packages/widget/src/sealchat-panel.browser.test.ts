import { afterEach, describe, expect, it } from 'vitest';
import {
  EMPTY_AUDIT_MARK,
  decodeClientFrame,
  encodeRelayFrame,
  issueRosterHead,
  randomBytes,
  verifyRoster,
  type ClientFrame,
  type RelayFrame,
} from '@sealchat/protocol';
import { createTestOrganisation, type TestOrganisation } from '@sealchat/protocol/testing';
import './define.js';

type Listener = (event: { data?: unknown }) => void;

/**
 * A hostile relay inside the page, installed as the global WebSocket (the panel opens its own):
 * it answers what a visitor asks, and when the visitor attaches to its conversation it serves a
 * record that no honest device wrote.
 */
function hostileRelay(org: TestOrganisation) {
  const conversationId = randomBytes(16);
  const roster = org.roster(1, []);
  let posted = 1;

  return class HostileSocket {
    binaryType = 'arraybuffer';
    readyState = 0;
    private readonly listeners = new Map<string, Listener[]>();

    constructor() {
      setTimeout(() => {
        this.readyState = 1;
        this.fire('open');
        this.push({ kind: 'challenge', nonce: randomBytes(32) });
      });
    }

    addEventListener(type: string, listener: Listener): void {
      this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    }

    send(data: Uint8Array): void {
      void this.handle(decodeClientFrame(data));
    }

    close(): void {
      this.readyState = 3;
    }

    private push(frame: RelayFrame): void {
      const bytes = encodeRelayFrame(frame);
      setTimeout(() => this.readyState === 1 && this.fire('message', bytes.slice().buffer));
    }

    private fire(type: string, data?: unknown): void {
      for (const listener of this.listeners.get(type) ?? []) listener({ data });
    }

    private async handle(frame: ClientFrame): Promise<void> {
      const requestId = frame.requestId;
      switch (frame.kind) {
        case 'get-roster':
          return this.push({ kind: 'roster', requestId, roster: await roster });
        case 'get-roster-head': {
          const verified = await verifyRoster(await roster, { orgRootKey: org.rootPublic, now: Date.now() });
          const head = await issueRosterHead(
            verified,
            { privateKey: org.root.privateKey, publicKey: org.rootPublic },
            Date.now(),
            EMPTY_AUDIT_MARK,
          );
          return this.push({ kind: 'roster-head', requestId, head });
        }
        case 'watch-presence':
          return this.push({ kind: 'presence', requestId, orgId: org.orgId, anyoneOnline: true, devices: [] });
        case 'open-conversation':
          return this.push({ kind: 'conversation-opened', requestId, conversationId, capability: randomBytes(32) });
        case 'resume-conversation':
          this.push({ kind: 'resumed', requestId, epoch: 1, lastSeq: 1, firstSeq: 1, reset: false });
          // Not an envelope any device of the organisation (or the visitor) wrote.
          return this.push({ kind: 'record', conversationId, seq: 1, envelope: randomBytes(200) });
        case 'post':
          return this.push({ kind: 'ack', requestId, seq: ++posted });
        default:
          return this.push({ kind: 'error', requestId, code: 'SEALCHAT_E_BAD_FRAME', message: frame.kind });
      }
    }
  };
}

const scope = globalThis as { WebSocket: unknown };
const realWebSocket = scope.WebSocket;
const added: Element[] = [];
afterEach(() => {
  for (const el of added.splice(0)) el.remove();
  scope.WebSocket = realWebSocket;
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
    scope.WebSocket = hostileRelay(org);
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
