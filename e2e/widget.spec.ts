import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { openAgent, openVisitor, say, startChat } from './support/chat-pages.js';
import { axeViolations } from './support/axe.js';

/**
 * The visitor widget as a visitor and a site owner meet it, against the real relay and the demo
 * agent console: delivery states, typing, away mode, the pre-chat form, masking, the menu
 * (transcript, safety code, delete), languages, themes, small screens, keyboard, sound and axe.
 */

const log = (page: Page) => page.getByRole('log', { name: 'Messages' });

test('a message goes sent → read; the agent types; away mode says so and turns into a live chat', async ({
  browser,
}) => {
  const { context: agentContext, agent } = await openAgent(browser);
  await agent.getByLabel('Status').selectOption('away');
  const { context, visitor } = await openVisitor(browser);
  await startChat(visitor);
  // No agent online: the visitor is told, and can still leave a message.
  await expect(visitor.getByRole('status').filter({ hasText: 'No one is available right now' })).toBeVisible();
  await expect(visitor.getByRole('textbox', { name: 'Message' })).toHaveAttribute('placeholder', 'Leave a message');
  await say(visitor, 'Are you there?');
  await expect(log(agent)).toContainText('Are you there?');
  // The agent's console shows it: the visitor sees it read.
  await expect(log(visitor).locator('li.mine[data-state="read"]')).toContainText('Are you there?');
  await expect(log(visitor).locator('li.mine .state')).toHaveText('Read');

  await agent.getByLabel('Status').selectOption('online');
  await expect(visitor.getByText('No one is available right now')).toHaveCount(0);
  await agent.getByRole('textbox', { name: 'Reply' }).pressSequentially('Yes', { delay: 20 });
  await expect(visitor.getByRole('status').filter({ hasText: 'is typing…' })).toContainText('Alex (demo agent)');
  await agent.getByRole('textbox', { name: 'Reply' }).press('Enter');
  await expect(log(visitor)).toContainText('Yes');
  await expect(visitor.getByText('is typing…')).toHaveCount(0);
  // The visitor has the chat open: the agent sees its reply read.
  await expect(log(agent).locator('li.mine .state')).toHaveText('Read');
  await context.close();
  await agentContext.close();
});

test('the pre-chat form checks its fields and sends the answers encrypted, shown to the agent as text', async ({
  browser,
}) => {
  const { context: agentContext, agent } = await openAgent(browser);
  const { context, visitor } = await openVisitor(browser, { prechat: 'name email topic' });
  await visitor.getByRole('button', { name: 'Chat with Harbour Supplies' }).click();
  const start = visitor.getByRole('button', { name: 'Start chat' });
  await start.click();
  await expect(visitor.getByRole('alert')).toHaveText('This field is required.');
  await visitor.getByLabel('Name').fill('Ana <b>Bold</b>');
  await visitor.getByLabel('Email').fill('not-an-email');
  await visitor.getByLabel('Topic').fill('Delivery');
  await start.click();
  await expect(visitor.getByRole('alert')).toHaveText('Enter a valid email address.');
  await expect(visitor.getByLabel('Email')).toBeFocused();
  await visitor.getByLabel('Email').fill('ana@example.org');
  await start.click();
  await expect(visitor.getByRole('textbox', { name: 'Message' })).toBeEnabled();
  const answers = log(agent).locator('dl[aria-label="Pre-chat answers"]');
  await expect(answers).toContainText('ana@example.org');
  await expect(answers.locator('dd').first()).toHaveText('Ana <b>Bold</b>');
  await expect(answers.locator('b')).toHaveCount(0);
  await context.close();
  await agentContext.close();
});

test('card numbers, IBANs and site patterns are masked in the browser before encryption', async ({ browser }) => {
  const { context: agentContext, agent } = await openAgent(browser);
  const { context, visitor } = await openVisitor(browser, { 'mask-patterns': '["CASE-\\\\d{6}"]' });
  await startChat(visitor);
  await say(
    visitor,
    'Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, ref CASE-123456, order 1234567890123',
  );
  await expect(visitor.getByRole('status').filter({ hasText: 'hidden before sending' })).toContainText('3');
  const seen = log(agent).locator('li').last();
  await expect(seen).toContainText('•••• •••• •••• 1111');
  await expect(seen).toContainText('DE••');
  // A number that is no card (Luhn fails) is left alone.
  await expect(seen).toContainText('order 1234567890123');
  for (const secret of ['4111 1111 1111 1111', '3704 0044', 'CASE-123456']) {
    await expect(seen).not.toContainText(secret);
    await expect(log(visitor)).not.toContainText(secret);
  }
  await context.close();
  await agentContext.close();
});

test('the menu: safety codes match, the transcript downloads, and delete erases the conversation', async ({
  browser,
}) => {
  const { context: agentContext, agent } = await openAgent(browser);
  const { context, visitor } = await openVisitor(browser);
  await startChat(visitor);
  await say(visitor, 'Please check my order 42');
  await expect(log(agent)).toContainText('order 42');

  await visitor.getByRole('button', { name: 'More options' }).click();
  await visitor.getByRole('button', { name: 'Safety code' }).click();
  const code = (await visitor.locator('sealchat-widget').locator('.code').textContent())!;
  expect(code).toMatch(/^\d{5} \d{5} \d{5} \d{5}$/);
  await agent.getByRole('button', { name: 'Show safety code' }).click();
  await expect(agent.locator('.safety code')).toHaveText(code);
  await visitor.keyboard.press('Escape');

  await visitor.getByRole('button', { name: 'More options' }).click();
  const download = visitor.waitForEvent('download');
  await visitor.getByRole('button', { name: 'Download transcript' }).click();
  const file = await (await download).path();
  expect(readFileSync(file, 'utf8')).toContain('You: Please check my order 42');

  await visitor.getByRole('button', { name: 'More options' }).click();
  await visitor.getByRole('button', { name: 'Delete this conversation' }).click();
  await visitor.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(log(visitor)).toContainText('This conversation was deleted.');
  await expect(log(visitor)).not.toContainText('order 42');
  await expect(agent.getByRole('navigation', { name: 'Conversations' })).not.toContainText('order 42');
  // A reload does not bring it back.
  await visitor.reload();
  await startChat(visitor);
  await expect(log(visitor)).not.toContainText('order 42');
  await context.close();
  await agentContext.close();
});

test('languages, right-to-left, dark theme and a full-screen panel on a phone, with zero axe violations', async ({
  browser,
}) => {
  const { context: agentContext } = await openAgent(browser);
  // Arabic, dark, on a phone-sized screen.
  const { context, visitor } = await openVisitor(
    browser,
    { locale: 'ar', theme: 'dark', greeting: 'مرحبا' },
    { viewport: { width: 375, height: 700 } },
  );
  await visitor.getByRole('button', { name: 'Chat with Harbour Supplies' }).click();
  const panel = visitor.locator('sealchat-widget').locator('section[part="panel"]');
  await expect(panel).toHaveAttribute('dir', 'rtl');
  await expect(visitor.getByRole('textbox', { name: 'الرسالة' })).toBeEnabled();
  const box = (await panel.boundingBox())!;
  expect([box.x, box.y, box.width, box.height]).toEqual([0, 0, 375, 700]);
  const background = await panel.evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(background).toBe('rgb(28, 28, 30)');
  await say(visitor, 'سلام', 'الرسالة');
  expect(await axeViolations(visitor)).toEqual([]);
  await context.close();

  // German, light, desktop: the launcher and the panel speak it.
  const german = await openVisitor(browser, { locale: 'de', theme: 'light', heading: 'Hilfe' });
  await german.visitor.getByRole('button', { name: 'Hilfe' }).click();
  await expect(german.visitor.getByRole('button', { name: 'Chat schließen' }).first()).toBeVisible();
  await expect(german.visitor.getByRole('textbox', { name: 'Nachricht' })).toBeEnabled();
  await say(german.visitor, 'Hallo', 'Nachricht');
  await german.visitor.getByRole('button', { name: 'Weitere Optionen' }).click();
  expect(await axeViolations(german.visitor)).toEqual([]);
  await german.context.close();
  await agentContext.close();
});

test('keyboard only: open, write two lines, send, close with Escape; focus goes where it should', async ({
  browser,
}) => {
  const { context: agentContext, agent } = await openAgent(browser);
  const { context, visitor } = await openVisitor(browser);
  const launcher = visitor.getByRole('button', { name: 'Chat with Harbour Supplies' });
  await launcher.focus();
  await visitor.keyboard.press('Enter');
  const composer = visitor.getByRole('textbox', { name: 'Message' });
  await expect(composer).toBeFocused();
  await expect(composer).toBeEnabled();
  await visitor.keyboard.type('first line');
  await visitor.keyboard.press('Shift+Enter');
  await visitor.keyboard.type('second line');
  await visitor.keyboard.press('Enter');
  await expect(log(agent)).toContainText('first line\nsecond line');
  await visitor.keyboard.press('Escape');
  await expect(visitor.locator('sealchat-widget')).not.toHaveAttribute('open');
  await expect(visitor.getByRole('button', { name: 'Chat with Harbour Supplies' })).toBeFocused();
  await context.close();
  await agentContext.close();
});

test('a reader scrolled up is not yanked down; a chime plays for a message while the chat is closed', async ({
  browser,
}) => {
  const { context: agentContext, agent } = await openAgent(browser);
  const { context, visitor } = await openVisitor(browser, { sound: '' });
  // Count the chimes the widget starts (Web Audio oscillators), without needing speakers.
  await visitor.addInitScript(() => {
    // Kept unbound on purpose: it is called below with each oscillator as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const start = OscillatorNode.prototype.start;
    (window as unknown as { __tones: number }).__tones = 0;
    OscillatorNode.prototype.start = function (...args: [number?]) {
      (window as unknown as { __tones: number }).__tones++;
      start.apply(this, args);
    };
  });
  await visitor.reload();
  await visitor.locator('sealchat-widget').evaluate((widget) => widget.setAttribute('sound', ''));
  await startChat(visitor);
  await say(visitor, 'hello');
  const reply = agent.getByRole('textbox', { name: 'Reply' });
  await expect(reply).toBeEnabled();
  for (let i = 0; i < 12; i++) await say(agent, `line ${i}\n.\n.`, 'Reply');
  await expect(log(visitor)).toContainText('line 11');
  const list = log(visitor);
  await list.evaluate((el) => (el.scrollTop = 0));
  await say(agent, 'while you read back', 'Reply');
  await expect(list).toContainText('while you read back');
  expect(await list.evaluate((el) => el.scrollTop)).toBe(0);
  await visitor.getByRole('button', { name: 'New messages ↓' }).click();
  await expect.poll(() => list.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(2);

  await visitor.getByRole('button', { name: 'Close chat' }).first().click();
  const before = await visitor.evaluate(() => (window as unknown as { __tones: number }).__tones);
  await say(agent, 'are you still there?', 'Reply');
  await expect(visitor.getByRole('button', { name: /1 unread/ })).toBeVisible();
  await expect
    .poll(() => visitor.evaluate(() => (window as unknown as { __tones: number }).__tones))
    .toBeGreaterThan(before);
  await context.close();
  await agentContext.close();
});

test("the host page's CSS cannot hide or restyle the widget, and the consent slot shows the page's own text", async ({
  browser,
}) => {
  const { context: agentContext } = await openAgent(browser);
  const { context, visitor } = await openVisitor(browser, { position: 'bottom-left' });
  await visitor.addStyleTag({
    content:
      'div:empty, button, section, ol, li { display: none !important } * { color: red !important; font-size: 2px }',
  });
  await visitor.locator('sealchat-widget').evaluate((widget) => {
    const consent = document.createElement('p');
    consent.slot = 'consent';
    consent.textContent = 'By chatting you accept our privacy notice.';
    widget.append(consent);
  });
  // position="bottom-left": the launcher sits in the left corner, above the page (z-index).
  const launcher = (await visitor.getByRole('button', { name: 'Chat with Harbour Supplies' }).boundingBox())!;
  expect(launcher.x).toBeLessThan(100);
  await startChat(visitor);
  await expect(visitor.getByRole('button', { name: 'Send' })).toBeVisible();
  await expect(visitor.getByText('By chatting you accept our privacy notice.')).toBeVisible();
  const composerFont = await visitor
    .getByRole('textbox', { name: 'Message' })
    .evaluate((el) => getComputedStyle(el).fontSize);
  expect(composerFont).toBe('15px');
  await context.close();
  await agentContext.close();
});
