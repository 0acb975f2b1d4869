import { expect, test } from '@playwright/test';
import { openAgent, q, say, startChat } from './support/chat-pages.js';

const log = (page: import('@playwright/test').Page) => page.getByRole('log', { name: 'Messages' });

// When the tab that runs the chat hangs (a long task of the host page, or a background tab the
// browser froze), a message typed in another tab cannot be sent: the visitor must see that and keep
// the text, and the message must not go out behind their back when the hung tab wakes (they would
// send it again and it would arrive twice).
test('a message typed while the tab running the chat hangs fails visibly, keeps its text, and is sent once on retry', async ({
  browser,
}) => {
  test.setTimeout(90_000);
  const { context: agentContext, agent } = await openAgent(browser);
  const context = await browser.newContext();
  const first = await context.newPage();
  await first.goto(`/${q}`);
  await startChat(first);
  await say(first, 'Hello from the first tab');
  await expect(log(agent)).toContainText('Hello from the first tab');
  const second = await context.newPage();
  await second.goto(`/${q}`);
  await startChat(second);
  await expect(log(second)).toContainText('Hello from the first tab');

  // The host page's script keeps the first tab's thread busy for 24 s: past the other tab's 15 s wait,
  // with room for a slow machine.
  const hung = first.evaluate(() => {
    const end = Date.now() + 24_000;
    while (Date.now() < end);
  });
  await say(second, 'Typed while the other tab slept');
  const composer = second.getByRole('textbox', { name: 'Message' });
  await expect(second.getByRole('alert')).toContainText('did not answer', { timeout: 25_000 });
  await expect(composer).toHaveValue('Typed while the other tab slept');

  await hung;
  await composer.press('Enter');
  await expect(log(agent).getByText('Typed while the other tab slept')).toHaveCount(1);
  await expect(second.getByRole('alert')).toHaveCount(0);
  await expect(composer).toHaveValue('');
  // The woken tab did not run the stale call too: still once, for the agent and in both tabs.
  await agent.waitForTimeout(1500);
  for (const page of [agent, first, second])
    await expect(log(page).getByText('Typed while the other tab slept')).toHaveCount(1);
  await context.close();
  await agentContext.close();
});
