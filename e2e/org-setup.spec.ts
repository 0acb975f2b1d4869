import { expect, test } from '@playwright/test';
import { axeViolations } from './support/axe.js';
import { E2E_RELAY_WS } from './support/ports.js';

/**
 * A supervisor's first hour (issue 6, organisation setup): create an organisation in the console with a
 * passphrase-encrypted backup, register it with the relay, and restore it from the file in a fresh
 * browser profile; a wrong passphrase is refused and nothing is half-restored. Zero axe violations.
 */
const PASS = 'correct horse battery staple';

test('create in the panel, save the backup, reload into it, restore elsewhere', async ({ browser }) => {
  const url = `/agent.html?relay=${encodeURIComponent(E2E_RELAY_WS)}`;
  const a = await (await browser.newContext()).newPage();
  await a.goto(url);
  await expect(a.locator('#status')).toHaveText('');
  const demoKey = await a.locator('#org-key').textContent();
  const panel = a.locator('sealchat-org-setup');
  await panel.getByLabel('Organisation name').fill('Acme Support');
  await panel.getByLabel('Backup passphrase').fill(PASS);
  await panel.getByLabel('Passphrase again').fill(PASS);
  await panel.getByRole('button', { name: 'Create organisation' }).press('Enter');
  await expect(panel.getByText('Registered with the relay.')).toBeVisible();
  const newKey = await panel.locator('#setup-org-key').textContent();
  expect(newKey).not.toBe(demoKey);
  await expect(panel.locator('#setup-snippet')).toContainText('integrity="sha384-');
  await expect(a.locator('#org-setup-note')).toBeVisible();
  expect(await axeViolations(a, 'sealchat-org-setup')).toEqual([]);
  const downloading = a.waitForEvent('download');
  await panel.getByRole('link', { name: /Save backup file/ }).click();
  const download = await downloading;
  const path = await download.path();
  await a.locator('#org-setup-reload').click();
  await expect(a.locator('#org-key')).toHaveText(newKey!);
  await expect(a.locator('#status')).toHaveText('');

  const b = await (await browser.newContext()).newPage();
  await b.goto(url);
  await expect(b.locator('#status')).toHaveText('');
  const p2 = b.locator('sealchat-org-setup');
  await p2.getByLabel('Backup file').setInputFiles(path);
  await p2.getByLabel('Passphrase', { exact: true }).fill('wrong passphrase!!');
  await p2.getByRole('button', { name: 'Restore' }).click();
  await expect(p2.getByRole('alert').filter({ hasText: 'Wrong' })).toHaveText('Wrong passphrase for this backup');
  expect(await axeViolations(b, 'sealchat-org-setup')).toEqual([]);
  await p2.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await p2.getByRole('button', { name: 'Restore' }).click();
  await expect(p2.getByText('Registered with the relay.')).toBeVisible();
  await expect(p2.locator('#setup-org-key')).toHaveText(newKey!);
  await b.reload();
  await expect(b.locator('#org-key')).toHaveText(newKey!);
  await expect(b.locator('#status')).toHaveText('');
});
