import { expect, test } from '@playwright/test';
import { openAgent, openVisitor, say, startChat } from './support/chat-pages.js';
import { axeViolations } from './support/axe.js';

/**
 * Issue 6, team: a supervisor invites a colleague (browser context A), the colleague joins from the
 * link in their own browser (context B), A compares the device id and approves, and B's console
 * reads a visitor. Then A revokes B: the relay refuses B, and a conversation begun afterwards never
 * reaches B's console. Zero axe violations in the team panel on both sides.
 */

test('invite in A, join in B, approve, chat, revoke: B is cut off from what follows', async ({ browser }) => {
  const { agent: a, orgKey } = await openAgent(browser);
  const teamA = a.locator('sealchat-team');
  await expect(teamA.getByText('Devices on the roster')).toBeVisible();
  await teamA.getByLabel('Name').fill('Sam');
  await teamA.getByRole('button', { name: 'Create invite' }).click();
  const link = await teamA.locator('#invite-code').inputValue();
  expect(link).toMatch(/\/agent\.html\?relay=.*#invite=sci1/);
  expect(await axeViolations(a, 'sealchat-team')).toEqual([]);

  // B: the link, in another browser (its own IndexedDB). It makes its keys and shows its request.
  const b = await (await browser.newContext()).newPage();
  await b.goto(link);
  const teamB = b.locator('sealchat-team');
  await expect(teamB.getByLabel('Invite code or link')).toHaveValue(link.slice(link.indexOf('sci1')));
  await teamB.getByRole('button', { name: 'Join' }).click();
  await expect(teamB.getByText('Waiting for approval…')).toBeVisible();
  expect(new URL(b.url()).hash).toBe(''); // the code does not linger in the address bar
  const request = await teamB.locator('#join-request').inputValue();
  const fingerprint = await teamB.locator('#join-fingerprint').textContent();
  expect(await axeViolations(b, 'sealchat-team')).toEqual([]);

  // A: check the request, compare the device id, approve.
  await teamA.getByLabel('Device request').fill(request);
  await teamA.getByRole('button', { name: 'Check request' }).click();
  await expect(teamA.locator('#review-fingerprint')).toHaveText(fingerprint!);
  await teamA.getByRole('button', { name: 'Approve Sam' }).click();
  await expect(teamA.getByText('Sam is on the roster')).toBeVisible();
  await expect(teamA.getByRole('button', { name: 'Revoke Sam' })).toBeVisible();

  // B: approved, its console runs as a member of A's organisation.
  await expect(teamB.getByText('Approved: this browser is on the team.')).toBeVisible();
  await expect(b.locator('#org-key')).toHaveText(orgKey);
  await expect(b.locator('#status')).toHaveText('');

  const { visitor: ana } = await openVisitor(browser);
  await startChat(ana);
  await say(ana, 'Hello from before the revocation');
  await expect(b.getByRole('log', { name: 'Messages' }).getByText('Hello from before the revocation')).toBeVisible();

  // A revokes B (after confirming); the relay refuses B from then on.
  await teamA.getByRole('button', { name: 'Revoke Sam' }).click();
  await teamA.getByRole('button', { name: 'Revoke device' }).click();
  await expect(teamA.getByText("Sam's device was revoked")).toBeVisible();
  await expect(b.locator('#status')).toHaveText('This device was removed from the team: the relay refuses it.');

  // A new conversation: A's console reads it, B's never shows it.
  const { visitor: ben } = await openVisitor(browser);
  await startChat(ben);
  await say(ben, 'Sent after the revocation');
  // A's console keeps its selection: open the new conversation from the inbox.
  await a
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('button', { name: /^Visitor .*Sent after the revocation/ })
    .click();
  await expect(a.getByRole('log', { name: 'Messages' }).getByText('Sent after the revocation')).toBeVisible();
  await b.waitForTimeout(1000);
  await expect(b.getByText('Sent after the revocation')).toHaveCount(0);
  // After a reload B is still refused.
  await b.reload();
  await expect(b.locator('#status')).toContainText("not on the organisation's roster");
  await expect(b.getByText('Sent after the revocation')).toHaveCount(0);
});
