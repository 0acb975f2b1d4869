import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { openVisitor, q, say, startChat } from './support/chat-pages.js';
import { inviteAndApprove } from './support/team-pages.js';
import { axeViolations } from './support/axe.js';

/**
 * Issue 6's whole journey, each step in the browser a supervisor or agent would use:
 * setup → backup → invite → approve → chat (with a private note) → transfer → revoke (the revoked
 * device never reads a conversation begun afterwards) → restore the organisation from its backup in a
 * fresh browser profile, which reads the history through the archive key → export. Along the way:
 * retention pushed to the relay, and the audit log that records every team action, verified and
 * exported in the restored browser.
 */
const PASS = 'harbour lights at dusk 42';

const log = (page: Page) => page.getByRole('log', { name: 'Messages' });
const inbox = (page: Page) => page.getByRole('navigation', { name: 'Conversations' });

test('a supervisor sets up a team, works a chat with it, revokes, restores elsewhere and exports', async ({
  browser,
}) => {
  test.setTimeout(120_000);

  // 1. Setup and backup, in the supervisor's browser A.
  const a = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await a.goto(`/agent.html${q}`);
  await expect(a.locator('#status')).toHaveText('');
  const setup = a.locator('sealchat-org-setup');
  await setup.getByLabel('Organisation name').fill('Harbour Support');
  await setup.getByLabel('Backup passphrase').fill(PASS);
  await setup.getByLabel('Passphrase again').fill(PASS);
  await setup.getByRole('button', { name: 'Create organisation' }).click();
  await expect(setup.getByText('Registered with the relay.')).toBeVisible();
  const orgKey = (await setup.locator('#setup-org-key').textContent())!;
  const saving = a.waitForEvent('download');
  await setup.getByRole('link', { name: /Save backup file/ }).click();
  const backupPath = await (await saving).path();
  await a.locator('#org-setup-reload').click();
  await expect(a.locator('#org-key')).toHaveText(orgKey);
  await expect(a.locator('#status')).toHaveText('');

  // Retention, pushed to the relay; the audit log has recorded the creation and this.
  const admin = a.locator('sealchat-org-admin');
  await admin.getByLabel('Keep conversations for').selectOption({ label: '30 days' });
  await admin.getByRole('button', { name: 'Save retention' }).click();
  await expect(admin.getByText('Saved: the relay deletes conversations older than 30 days.')).toBeVisible();
  await expect(admin.locator('#retention-now')).toHaveText('30 days');
  await expect(admin.getByRole('list', { name: 'Audit entries' })).toContainText('Retention set to 30 days');
  await expect(admin.getByRole('list', { name: 'Audit entries' })).toContainText(
    'Organisation “Harbour Support” created',
  );
  expect(await axeViolations(a, 'sealchat-org-admin')).toEqual([]);

  // 2. Invite Sam; Sam joins in browser B; A compares the device id and approves.
  const teamA = a.locator('sealchat-team');
  const b = await inviteAndApprove(browser, a, 'Sam');
  await expect(teamA.getByText('Sam is on the roster')).toBeVisible();
  await expect(b.locator('#org-key')).toHaveText(orgKey);

  // 3. A visitor of the new organisation writes; A claims it and leaves a private note, then replies.
  const { visitor: ana } = await openVisitor(browser, { org: orgKey });
  await startChat(ana);
  await say(ana, 'My order 1234 arrived damaged');
  await inbox(a)
    .getByRole('button', { name: /My order 1234 arrived damaged/ })
    .click();
  await expect(log(a).getByText('My order 1234 arrived damaged')).toBeVisible();
  await a.getByRole('button', { name: 'Claim' }).click();
  await expect(a.getByText('assigned to you')).toBeVisible();
  await a.getByRole('textbox', { name: 'Reply' }).fill('Repeat customer: refund without a return');
  await a.getByRole('button', { name: 'Add note' }).click();
  await expect(log(a).locator('li.note')).toContainText('Repeat customer: refund without a return');
  await a.getByRole('textbox', { name: 'Reply' }).fill('Sorry about that! Let me pass you to Sam.');
  await a.getByRole('textbox', { name: 'Reply' }).press('Enter');
  await expect(ana.getByText('Sorry about that! Let me pass you to Sam.')).toBeVisible();

  // 4. Transfer to Sam: B's console reads the chat and the note, and answers.
  await a.getByRole('combobox', { name: 'Assign to' }).selectOption({ label: 'Sam (agent)' });
  await expect(a.getByText('assigned to Sam')).toBeVisible();
  await inbox(b)
    .getByRole('button', { name: /Visitor/ })
    .first()
    .click();
  await expect(b.getByText('assigned to you')).toBeVisible();
  await expect(log(b).locator('li.note')).toContainText('Repeat customer: refund without a return');
  await b.getByRole('textbox', { name: 'Reply' }).fill('Sam here: your refund is on its way.');
  await b.getByRole('textbox', { name: 'Reply' }).press('Enter');
  await expect(ana.getByText('Sam here: your refund is on its way.')).toBeVisible();
  // The visitor never receives the note, in any form.
  await expect(ana.getByText('Repeat customer')).toHaveCount(0);

  // 5. Revoke Sam: B is cut off, and a conversation begun afterwards never reaches it.
  await teamA.getByRole('button', { name: 'Revoke Sam' }).click();
  await teamA.getByRole('button', { name: 'Revoke device' }).click();
  await expect(teamA.getByText("Sam's device was revoked")).toBeVisible();
  await expect(b.locator('#status')).toHaveText('This device was removed from the team: the relay refuses it.');
  const { visitor: ben } = await openVisitor(browser, { org: orgKey });
  await startChat(ben);
  await say(ben, 'Question after the revocation');
  await expect(inbox(a).getByRole('button', { name: /Question after the revocation/ })).toBeVisible();
  await b.waitForTimeout(1000);
  await expect(b.getByText('Question after the revocation')).toHaveCount(0);
  await expect(admin.getByRole('list', { name: 'Audit entries' })).toContainText("Revoked Sam's device");

  // 6. Restore in a fresh profile C: a new device, which reads the history through the archive key.
  const c = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await c.goto(`/agent.html${q}`);
  await expect(c.locator('#status')).toHaveText('');
  const restore = c.locator('sealchat-org-setup');
  await restore.getByLabel('Backup file').setInputFiles(backupPath);
  await restore.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await restore.getByRole('button', { name: 'Restore' }).click();
  await expect(restore.getByText('Registered with the relay.')).toBeVisible();
  await c.locator('#org-setup-reload').click();
  await expect(c.locator('#org-key')).toHaveText(orgKey);
  await expect(c.locator('#status')).toHaveText('');
  await inbox(c)
    .getByRole('button', { name: /Sam here: your refund is on its way/ })
    .click();
  await expect(log(c).getByText('My order 1234 arrived damaged')).toBeVisible();
  await expect(log(c).locator('li.note')).toContainText('Repeat customer: refund without a return');
  // Sam's reply verifies against the roster of its time, and says Sam has left since.
  await expect(log(c).locator('li', { hasText: 'Sam here: your refund is on its way.' })).toContainText(
    'Sam (former member)',
  );
  // Sam is off the roster now: the assignment stands, under no name.
  await expect(c.getByText('assigned to a former agent')).toBeVisible();

  // 7. Export: the transcript (with the note marked) and the verified audit log.
  const exporting = c.waitForEvent('download');
  await c.locator('sealchat-agent').getByRole('button', { name: 'Export JSON' }).click();
  const transcript = JSON.parse(readFileSync(await (await exporting).path(), 'utf8')) as {
    messages: { text: string; note?: boolean }[];
  };
  expect(transcript.messages.map((m) => m.text)).toEqual(
    expect.arrayContaining([
      'My order 1234 arrived damaged',
      'Sorry about that! Let me pass you to Sam.',
      'Sam here: your refund is on its way.',
    ]),
  );
  expect(transcript.messages.find((m) => m.text.startsWith('Repeat customer'))?.note).toBe(true);

  const auditC = c.locator('sealchat-org-admin');
  const entries = auditC.getByRole('list', { name: 'Audit entries' });
  await expect(auditC.locator('#audit-status')).toContainText('signatures and hash chain verified');
  for (const line of [
    'Organisation “Harbour Support” created',
    'Retention set to 30 days',
    'Invited Sam as agent',
    "Approved Sam's device",
    "Revoked Sam's device",
    'Organisation “Harbour Support” restored from its backup',
  ])
    await expect(entries).toContainText(line);
  const exportingLog = c.waitForEvent('download');
  await auditC.getByRole('button', { name: 'Export text' }).click();
  const auditText = readFileSync(await (await exportingLog).path(), 'utf8');
  expect(auditText).toMatch(/device-revoked .*name="Sam"/);
  expect(auditText.trim().split('\n').length).toBeGreaterThanOrEqual(6);
  expect(await axeViolations(c, 'sealchat-org-admin')).toEqual([]);
});
