import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateOrganisation, MemoryClientStore, type ClientStore, type Organisation } from '@sealchat/client';
import './define.js';
import type { SealchatTeam, TeamChangedDetail } from './sealchat-team.js';

/**
 * Both sides of `<sealchat-team>` in one page, without a relay: the supervisor invites, the invitee's
 * element makes its request, the supervisor checks and approves it and later revokes the device.
 * Publishing and waiting against a real relay are covered by e2e/team.spec.ts and e2e/node/team.test.ts.
 */
const mounted: HTMLElement[] = [];
afterEach(() => {
  for (const el of mounted.splice(0)) el.remove();
});

async function mount(store: ClientStore, organisation?: Organisation, invite?: string): Promise<SealchatTeam> {
  const el = document.createElement('sealchat-team');
  if (invite) el.setAttribute('invite', invite);
  el.setAttribute('join-url', 'https://support.example/agent.html');
  el.store = store;
  el.organisation = organisation;
  document.body.append(el);
  mounted.push(el);
  await el.updateComplete;
  return el;
}

async function until(el: SealchatTeam, check: () => boolean | undefined): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    await el.updateComplete;
    if (check()) return;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the element type it expects
const $ = <T extends Element = HTMLInputElement>(el: SealchatTeam, selector: string): T =>
  el.shadowRoot!.querySelector<T>(selector)!;
const text = (el: SealchatTeam) => el.shadowRoot!.textContent.replace(/\s+/g, ' ');
const alertText = (el: SealchatTeam) => $(el, '[role="alert"]').textContent.trim();
const button = (el: SealchatTeam, name: string) =>
  [...el.shadowRoot!.querySelectorAll('button')].find(
    (b) => (b.getAttribute('aria-label') ?? b.textContent.trim()) === name,
  );

function fill(el: SealchatTeam, id: string, value: string): void {
  const input = $<HTMLInputElement | HTMLTextAreaElement>(el, `#${id}`);
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

async function supervisor(): Promise<SealchatTeam> {
  const store = new MemoryClientStore();
  const org = await loadOrCreateOrganisation(store, { agentName: 'Robin' });
  const el = await mount(store, org);
  await until(el, () => text(el).includes('Robin'));
  return el;
}

describe('<sealchat-team>', () => {
  it('invite → request → check → approve → revoke, every control labelled', async () => {
    const sup = await supervisor();
    for (const control of sup.shadowRoot!.querySelectorAll('input, select, textarea'))
      expect((control as HTMLInputElement).labels?.length).toBe(1);
    // This browser's own devices cannot be revoked.
    expect(button(sup, 'Revoke Robin')).toBeUndefined();
    expect(button(sup, 'Revoke Supervisor')).toBeUndefined();

    fill(sup, 'invite-name', 'Sam');
    $<HTMLFormElement>(sup, 'form[part="invite"]').requestSubmit();
    await until(sup, () => $(sup, '#invite-code') !== null);
    const link = $<HTMLTextAreaElement>(sup, '#invite-code').value;
    expect(link).toMatch(/^https:\/\/support\.example\/agent\.html#invite=sci1[A-Za-z0-9_-]+$/);
    expect(sup.shadowRoot!.activeElement?.id).toBe('invite-code');
    expect(text(sup)).toMatch(/Sam agent pending/);

    // The invitee, in "another browser": the link prefills the code.
    const joining = await mount(new MemoryClientStore(), undefined, link);
    expect($(joining, '#join-code').value).toBe(link);
    $<HTMLFormElement>(joining, 'form').requestSubmit();
    await until(joining, () => $(joining, '#join-request') !== null);
    const request = $<HTMLTextAreaElement>(joining, '#join-request').value;
    const fingerprint = $(joining, '#join-fingerprint').textContent;
    expect(request).toMatch(/^scj1/);
    expect(fingerprint).toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    expect(text(joining)).toContain('Waiting for approval');

    // A mistyped request is an error, with focus back on the field.
    fill(sup, 'request-code', request.slice(0, 30) + (request[30] === 'A' ? 'B' : 'A') + request.slice(31));
    $<HTMLFormElement>(sup, 'form[part="approve"]').requestSubmit();
    await until(sup, () => alertText(sup) !== '');
    expect(alertText(sup)).toMatch(/mistyped/);
    expect(sup.shadowRoot!.activeElement?.id).toBe('request-code');

    // The real one: the same device id as the invitee's screen, then approval.
    fill(sup, 'request-code', request);
    $<HTMLFormElement>(sup, 'form[part="approve"]').requestSubmit();
    await until(sup, () => $(sup, '#review-fingerprint') !== null);
    expect($(sup, '#review-fingerprint').textContent).toBe(fingerprint);
    const changed: TeamChangedDetail[] = [];
    sup.addEventListener('sealchat-team-changed', (e) => changed.push(e.detail));
    button(sup, 'Approve Sam')!.click();
    await until(sup, () => button(sup, 'Revoke Sam') !== undefined);
    expect($(sup, '[role="status"]').textContent).toContain('Sam is on the roster (version 2). Not published');
    expect(changed).toEqual([{ version: 2, published: false }]);
    expect(text(sup)).toMatch(/Sam agent used/);

    // One-time: the same request again is refused.
    fill(sup, 'request-code', request);
    $<HTMLFormElement>(sup, 'form[part="approve"]').requestSubmit();
    await until(sup, () => alertText(sup) !== '');
    expect(alertText(sup)).toMatch(/already used/);

    // Revoke asks first; the page may veto it; then it goes.
    button(sup, 'Revoke Sam')!.click();
    await until(sup, () => button(sup, 'Revoke device') !== undefined);
    const veto = (e: Event) => e.preventDefault();
    sup.addEventListener('sealchat-request-revoke', veto);
    button(sup, 'Revoke device')!.click();
    await until(sup, () => button(sup, 'Revoke device') === undefined);
    expect(button(sup, 'Revoke Sam')).toBeDefined();
    sup.removeEventListener('sealchat-request-revoke', veto);
    button(sup, 'Revoke Sam')!.click();
    await until(sup, () => button(sup, 'Revoke device') !== undefined);
    button(sup, 'Revoke device')!.click();
    await until(sup, () => !$(sup, '[part="members"] ul').textContent.includes('Sam'));
    expect($(sup, '#members-heading').textContent).toContain('version 3');
    expect(sup.shadowRoot!.activeElement?.id).toBe('members-heading');
    expect(changed.at(-1)).toEqual({ version: 3, published: false });
    expect(button(sup, 'Publish again')).toBeDefined();
  });

  it('the invitee side refuses a mistyped code, and keeps its request across a reload', async () => {
    const org = await loadOrCreateOrganisation(new MemoryClientStore());
    const store = new MemoryClientStore();
    const el = await mount(store);
    fill(el, 'join-code', 'sci1AAAA');
    $<HTMLFormElement>(el, 'form').requestSubmit();
    await until(el, () => alertText(el) !== '');
    expect(alertText(el)).toMatch(/mistyped|truncated/);
    expect(el.shadowRoot!.activeElement?.id).toBe('join-code');

    const sup = await mount(new MemoryClientStore(), org);
    fill(sup, 'invite-name', 'Kim');
    $<HTMLSelectElement>(sup, '#invite-role').value = 'supervisor';
    $<HTMLFormElement>(sup, 'form[part="invite"]').requestSubmit();
    await until(sup, () => $(sup, '#invite-code') !== null);
    fill(el, 'join-code', $<HTMLTextAreaElement>(sup, '#invite-code').value);
    $<HTMLFormElement>(el, 'form').requestSubmit();
    await until(el, () => $(el, '#join-request') !== null);
    expect(text(el)).toContain('Joining as Kim (supervisor)');
    const request = $<HTMLTextAreaElement>(el, '#join-request').value;

    el.remove();
    const again = await mount(store);
    await until(again, () => $(again, '#join-request') !== null);
    expect($<HTMLTextAreaElement>(again, '#join-request').value).toBe(request);
  });
});
