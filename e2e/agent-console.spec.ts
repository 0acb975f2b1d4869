import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openAgent, openVisitor, say, startChat } from './support/chat-pages.js';
import { axeViolations } from './support/axe.js';

/**
 * The agent console as an agent uses it: a visitor's markup arrives as inert text, the inbox is
 * searchable and keyboard-driven, the transcript exports, and axe-core finds nothing to fix.
 */

test("a visitor's markup is inert in the console; search, shortcuts and export work; zero axe violations", async ({
  browser,
}) => {
  const { context: agentContext, agent } = await openAgent(browser);
  const { context, visitor } = await openVisitor(browser);
  await startChat(visitor);
  const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script> lighthouse-42';
  await say(visitor, payload);
  const log = agent.getByRole('log', { name: 'Messages' });
  await expect(log).toContainText(payload);
  await expect(log.locator('img, script')).toHaveCount(0);
  expect(await agent.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();

  // "/" jumps to the search; the decrypted text is searched locally.
  await agent.locator('body').press('/');
  const search = agent.getByRole('searchbox', { name: 'Search conversations' });
  await expect(search).toBeFocused();
  await search.fill('lighthouse-42');
  await expect(agent.getByRole('navigation', { name: 'Conversations' }).getByRole('listitem')).toHaveCount(1);

  const download = agent.waitForEvent('download');
  await agent.locator('sealchat-agent').getByRole('button', { name: 'Export JSON' }).click();
  const exported = JSON.parse(readFileSync(await (await download).path(), 'utf8')) as { messages: { text: string }[] };
  expect(exported.messages.map((m) => m.text)).toContain(payload);

  expect(await axeViolations(agent, 'sealchat-agent')).toEqual([]);

  // Erasure on the visitor's request: gone for everyone.
  agent.once('dialog', (dialog) => void dialog.accept());
  await agent.getByRole('button', { name: 'Erase…' }).click();
  await expect(agent.getByRole('navigation', { name: 'Conversations' })).not.toContainText('lighthouse-42');
  await expect(visitor.getByRole('log', { name: 'Messages' })).toContainText('This conversation was deleted.');
  await expect(visitor.getByRole('log', { name: 'Messages' })).not.toContainText('lighthouse-42');
  await context.close();
  await agentContext.close();
});
