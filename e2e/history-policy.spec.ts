import { expect, test, type Page } from '@playwright/test';
import { openAgent, openVisitor, say, startChat } from './support/chat-pages.js';
import { inviteAndApprove } from './support/team-pages.js';
import { axeViolations } from './support/axe.js';

/**
 * Issue 6, "agents, by org policy, read past conversations": the supervisor turns the policy on in
 * the Team panel, approves Sam, and Sam's console (another browser) reads a conversation from
 * before Sam joined. The audit log records the policy and the sharing. docs/agent-console.md.
 */

const log = (page: Page) => page.getByRole('log', { name: 'Messages' });
const inbox = (page: Page) => page.getByRole('navigation', { name: 'Conversations' });

test('with the policy on, an agent approved later reads the conversations from before they joined', async ({
  browser,
}) => {
  const { agent: a } = await openAgent(browser);
  const { visitor: ana } = await openVisitor(browser);
  await startChat(ana);
  await say(ana, 'Written before Sam joined');
  await inbox(a)
    .getByRole('button', { name: /Written before Sam joined/ })
    .click();
  await a.getByRole('textbox', { name: 'Reply' }).fill('Robin answering, before Sam');
  await a.getByRole('textbox', { name: 'Reply' }).press('Enter');
  await expect(ana.getByText('Robin answering, before Sam')).toBeVisible();

  const teamA = a.locator('sealchat-team');
  const policy = teamA.getByRole('checkbox', { name: 'Agents read conversations from before they joined' });
  await expect(policy).toBeEnabled();
  await expect(policy).not.toBeChecked();
  await policy.check();
  await expect(teamA.getByText('Agents you approve from now on read the conversations')).toBeVisible();
  await expect(policy).toBeChecked();
  expect(await axeViolations(a, 'sealchat-team')).toEqual([]);

  const b = await inviteAndApprove(browser, a, 'Sam');
  await expect(teamA.getByText(/Sam is on the roster .* Shared 1 past conversation with Sam\./)).toBeVisible();

  // Sam's console reads the conversation from before, both sides of it.
  await inbox(b)
    .getByRole('button', { name: /^Visitor .*Robin answering, before Sam/ })
    .click();
  await expect(log(b).getByText('Written before Sam joined')).toBeVisible();
  await expect(log(b).getByText('Robin answering, before Sam')).toBeVisible();

  // Sharing again (the button for members already on the team) replaces the grants: still one.
  await teamA.getByRole('button', { name: 'Share past conversations with Sam' }).click();
  await expect(teamA.getByText('Shared 1 past conversation with Sam.')).toBeVisible();

  const entries = a.locator('sealchat-org-admin').getByRole('list', { name: 'Audit entries' });
  await expect(entries).toContainText('Agents may now read conversations from before they joined');
  await expect(entries).toContainText("Shared 1 past conversation with Sam's device");
});
