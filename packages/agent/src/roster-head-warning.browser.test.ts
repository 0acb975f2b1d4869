import { loadOrCreateOrganisation, MemoryClientStore, type OrgAdministration } from '@sealchat/client';
import type { ClientFrame } from '@sealchat/protocol';
import { installPageRelay } from '@sealchat/protocol/testing';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import './define.js';
import type { SealchatTeam } from './sealchat-team.js';

/**
 * The supervisor's Team panel keeps the roster head fresh (docs/protocol.md §4.4) and says in words,
 * on screen, when it cannot: visitors send nothing once the head is 4 days old.
 */
const DAY = 24 * 60 * 60 * 1000;
const mounted: HTMLElement[] = [];
afterEach(() => {
  for (const el of mounted.splice(0)) el.remove();
});

/** A relay in the page that answers every request (`publish-roster-head` among them) with `answer`. */
function fakeRelay(answer: 'ok' | 'refuse'): ClientFrame['kind'][] {
  const relay = installPageRelay(({ requestId }) =>
    answer === 'ok'
      ? { kind: 'ok', requestId }
      : { kind: 'error', requestId, code: 'SEALCHAT_E_ROSTER_HEAD_REJECTED', message: 'Roster head rejected' },
  );
  onTestFinished(() => relay.restore());
  return relay.asked;
}

async function team(lastSignedAt?: number): Promise<SealchatTeam> {
  const store = new MemoryClientStore();
  const organisation = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
  if (lastSignedAt !== undefined) await store.putRecord('org/roster-head', { signedAt: lastSignedAt });
  const el = document.createElement('sealchat-team');
  el.relay = 'ws://relay.test';
  el.store = store;
  el.organisation = organisation;
  document.body.append(el);
  mounted.push(el);
  await el.updateComplete;
  return el;
}

/** The warning's text if it is on screen (in the DOM and visible), else ''. */
function warning(el: SealchatTeam): string {
  const p = el.shadowRoot!.querySelector<HTMLElement>('[part="head-warning"]');
  return p?.checkVisibility() && p.getBoundingClientRect().height > 0 ? p.textContent.trim() : '';
}

describe('<sealchat-team> roster head renewal', () => {
  it('renews the head on load, and shows no warning while that works', async () => {
    const asked = fakeRelay('ok');
    const el = await team();
    await expect.poll(() => asked).toContain('publish-roster-head');
    await el.updateComplete;
    expect(warning(el)).toBe('');
  });

  it('warns in words, visibly, when the head could not be published, and how old the last one is', async () => {
    const asked = fakeRelay('refuse');
    const el = await team(Date.now() - 3 * DAY);
    await expect.poll(() => warning(el), { timeout: 5000 }).toMatch(/roster head could not be renewed/);
    expect(asked).toContain('publish-roster-head');
    expect(warning(el)).toMatch(/last renewed 72 hours ago/);
    expect(warning(el)).toMatch(/Visitors send nothing once it is 4 days old/);
    expect(el.shadowRoot!.querySelector('[part="head-warning"]')!.getAttribute('role')).toBe('alert');
  });

  it('F8a: says beside the history policy, visibly, when no roster head vouched for the audit log', async () => {
    fakeRelay('ok');
    const el = await team();
    const words = 'No roster head vouches for the audit log’s length (the relay holds no roster head).';
    el.administration = Object.assign(new EventTarget(), {
      auditWarning: words,
      historyPolicy: () => Promise.resolve(false),
    }) as unknown as OrgAdministration;
    const shown = () => {
      const p = el.shadowRoot!.querySelector<HTMLElement>('[part="policy-warning"]');
      return p?.checkVisibility() && p.getBoundingClientRect().height > 0 ? p.textContent.trim() : '';
    };
    await expect.poll(shown).toContain(words);
    expect(shown()).toMatch(/^This setting may be out of date\./);
    expect(el.shadowRoot!.querySelector('[part="policy-warning"]')!.getAttribute('role')).toBe('alert');
  });
});
