import { expect, type Browser, type Page } from '@playwright/test';

/**
 * The Team panel's invite → join → approve, as people do it: supervisor page `a` invites `name`, who
 * opens the link in a browser of their own (a new context) and presses Join; `a` pastes the device
 * request, checks it, compares the device id with the one the invitee sees, and approves. Resolves
 * once the invitee's panel says it is on the team, with the invitee's page.
 */
export async function inviteAndApprove(browser: Browser, a: Page, name: string): Promise<Page> {
  const teamA = a.locator('sealchat-team');
  await teamA.getByLabel('Name').fill(name);
  await teamA.getByRole('button', { name: 'Create invite' }).click();
  const link = await teamA.locator('#invite-code').inputValue();
  const b = await (await browser.newContext()).newPage();
  await b.goto(link);
  const teamB = b.locator('sealchat-team');
  await teamB.getByRole('button', { name: 'Join' }).click();
  const request = await teamB.locator('#join-request').inputValue();
  const fingerprint = await teamB.locator('#join-fingerprint').textContent();
  await teamA.getByLabel('Device request').fill(request);
  await teamA.getByRole('button', { name: 'Check request' }).click();
  await expect(teamA.locator('#review-fingerprint')).toHaveText(fingerprint!);
  await teamA.getByRole('button', { name: `Approve ${name}` }).click();
  await expect(teamB.getByText('Approved: this browser is on the team.')).toBeVisible();
  return b;
}
