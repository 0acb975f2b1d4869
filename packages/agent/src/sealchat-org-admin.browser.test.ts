import { describe, expect, it } from 'vitest';
import type { AuditLogEntry, OrgAdministration, OrgSettings } from '@sealchat/client';
import './define.js';

const entry = (index: number, event: AuditLogEntry['event']): AuditLogEntry => ({
  index,
  at: Date.UTC(2026, 10, 29, 9, index),
  signer: { deviceId: new Uint8Array(16), displayName: 'Supervisor' },
  event,
});

/** Just enough of an OrgAdministration: settings on a fake relay, and a log that may fail to verify. */
function fakeAdministration(options: { tampered?: boolean; auditWarning?: string } = {}) {
  let settings: OrgSettings = { retentionDays: undefined, defaultRetentionDays: 0, auditCount: 1 };
  const log: AuditLogEntry[] = [entry(0, { action: 'org-created', name: '<b>Harbour</b>' })];
  const target = new EventTarget();
  return Object.assign(target, {
    auditWarning: options.auditWarning,
    settings: () => Promise.resolve(settings),
    setRetention: (days: number) => {
      settings = { ...settings, retentionDays: days || undefined };
      log.push(entry(log.length, { action: 'retention-set', days }));
      return Promise.resolve();
    },
    readAuditLog: () =>
      options.tampered
        ? Promise.reject(new Error('record 3 does not verify: its link to the record before is wrong'))
        : Promise.resolve([...log]),
  }) as unknown as OrgAdministration;
}

async function mount(administration: OrgAdministration) {
  const el = document.createElement('sealchat-org-admin');
  el.administration = administration;
  document.body.append(el);
  await el.refresh();
  await el.updateComplete;
  return el;
}

describe('<sealchat-org-admin>', () => {
  it('pushes a retention setting, and lists the audit log newest first, names as text', async () => {
    const el = await mount(fakeAdministration());
    const root = el.shadowRoot!;
    expect(root.querySelector('#retention-now')!.textContent).toBe("the relay's default");
    const select = root.querySelector<HTMLSelectElement>('#retention-days')!;
    select.value = '30';
    root.querySelector<HTMLFormElement>('form')!.requestSubmit();
    await expect.poll(() => root.querySelector('#retention-now')?.textContent).toBe('30 days');
    expect(root.querySelector('[role="status"]')!.textContent).toContain('older than 30 days');
    const lines = [...root.querySelectorAll('ol.audit li .what')].map((li) => li.textContent);
    expect(lines).toEqual(['Retention set to 30 days', 'Organisation “<b>Harbour</b>” created']);
    expect(root.querySelector('ol.audit b')).toBeNull();
    expect(root.querySelector('#audit-status')!.textContent).toContain('2 entries; signatures and hash chain verified');
    el.remove();
  });

  it('shows a log that does not verify as an alert, and none of its entries', async () => {
    const el = await mount(fakeAdministration({ tampered: true }));
    const root = el.shadowRoot!;
    expect(root.querySelector('[role="alert"]')!.textContent).toContain('does not verify: record 3');
    expect(root.querySelector('ol.audit')).toBeNull();
    el.remove();
  });

  it('F8a: says in words, visibly, when no roster head vouches for the log’s length', async () => {
    const words = 'No roster head vouches for the audit log’s length (the relay holds no roster head)';
    const el = await mount(fakeAdministration({ auditWarning: words }));
    const warning = el.shadowRoot!.querySelector<HTMLElement>('[part="audit-warning"]')!;
    expect(warning.textContent).toContain(words);
    expect(warning.getAttribute('role')).toBe('alert');
    expect(warning.checkVisibility()).toBe(true);
    expect(warning.getBoundingClientRect().height).toBeGreaterThan(0);
    // The entries still show: the log verified, only its length is unconfirmed.
    expect(el.shadowRoot!.querySelectorAll('ol.audit li')).toHaveLength(1);
    el.remove();
    const vouched = await mount(fakeAdministration());
    expect(vouched.shadowRoot!.querySelector('[part="audit-warning"]')).toBeNull();
    vouched.remove();
  });
});
