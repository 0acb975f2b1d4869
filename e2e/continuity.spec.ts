import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { openAgent, q, say, startChat } from './support/chat-pages.js';

/**
 * The visitor's chat across reloads, outages and tabs, as a visitor lives it: history back at once
 * after a reload, messages typed while the relay is unreachable kept through a reload and delivered
 * once when it is back, and two tabs sharing one conversation without duplicates.
 */

const log = (page: Page) => page.getByRole('log', { name: 'Messages' });

/** Lets the test cut the visitor's pages off the relay (and restore them) without touching HTTP. */
async function relaySwitch(context: BrowserContext): Promise<{ set(up: boolean): void }> {
  let up = true;
  await context.routeWebSocket(/:8797/, (socket) => {
    if (up) socket.connectToServer();
    else void socket.close({ code: 1006, reason: 'test: relay unreachable' });
  });
  return {
    set(value: boolean) {
      up = value;
    },
  };
}

test('a reload brings the conversation back at once, and offline messages survive a reload and arrive once', async ({
  browser,
}) => {
  const { context: agentContext, agent } = await openAgent(browser);
  const context = await browser.newContext();
  const relay = await relaySwitch(context);
  const visitor = await context.newPage();
  await visitor.goto(`/${q}`);
  await startChat(visitor);
  await say(visitor, 'Before the reload');
  await expect(log(agent)).toContainText('Before the reload');
  await say(agent, 'Reply before the reload', 'Reply');
  await expect(log(visitor)).toContainText('Reply before the reload');

  // The relay becomes unreachable; a reload still shows the history (from this browser's encrypted store).
  relay.set(false);
  await visitor.reload();
  await visitor.getByRole('button', { name: 'Chat with Harbour Supplies' }).click();
  await expect(log(visitor)).toContainText('Before the reload');
  await expect(log(visitor)).toContainText('Reply before the reload');
  await expect(visitor.getByRole('status').filter({ hasText: /Reconnecting|offline/ })).toBeVisible();

  // Typed while unreachable: it waits, visibly, and survives another reload.
  await say(visitor, 'Typed while the relay was down');
  await expect(log(visitor).locator('li.mine').last()).toHaveAttribute('data-state', /sending|failed/);
  await visitor.reload();
  await visitor.getByRole('button', { name: 'Chat with Harbour Supplies' }).click();
  await expect(log(visitor)).toContainText('Typed while the relay was down');

  // The relay is back: the message goes out, exactly once.
  relay.set(true);
  await expect(log(agent)).toContainText('Typed while the relay was down');
  await expect(log(visitor).locator('li.mine').last()).toHaveAttribute('data-state', /sent|delivered|read/);
  await agent.waitForTimeout(1000);
  await expect(log(agent).getByText('Typed while the relay was down')).toHaveCount(1);
  await expect(log(visitor).getByText('Typed while the relay was down')).toHaveCount(1);
  await context.close();
  await agentContext.close();
});

test('two tabs share one conversation with no duplicates, and the second carries on when the first closes', async ({
  browser,
}) => {
  const { context: agentContext, agent } = await openAgent(browser);
  const context = await browser.newContext();
  const first = await context.newPage();
  await first.goto(`/${q}`);
  await startChat(first);
  await say(first, 'From the first tab');
  await expect(log(agent)).toContainText('From the first tab');

  const second = await context.newPage();
  await second.goto(`/${q}`);
  await startChat(second);
  await expect(log(second)).toContainText('From the first tab');
  await say(second, 'From the second tab');
  for (const page of [first, second, agent]) {
    await expect(log(page).getByText('From the second tab')).toHaveCount(1);
    await expect(log(page).getByText('From the first tab')).toHaveCount(1);
  }
  await say(agent, 'Seen in both tabs', 'Reply');
  await expect(log(first)).toContainText('Seen in both tabs');
  await expect(log(second)).toContainText('Seen in both tabs');

  // The tab that talks to the relay goes away; the other takes over the same conversation.
  await first.close();
  await say(second, 'After the first tab closed');
  await expect(log(agent).getByText('After the first tab closed')).toHaveCount(1);
  await say(agent, 'Still here', 'Reply');
  await expect(log(second)).toContainText('Still here');
  // One conversation throughout: the agent's inbox has it once, with the transcript intact (no gap or fork).
  await expect(agent.getByText('may be missing')).toHaveCount(0);
  await expect(second.getByText('may be missing')).toHaveCount(0);
  await context.close();
  await agentContext.close();
});
