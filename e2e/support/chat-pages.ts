import { expect, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from '@playwright/test';
import { E2E_RELAY_WS } from './ports.js';

/** The demo pages' query string pointing them at the e2e relay. */
export const q = `?relay=${encodeURIComponent(E2E_RELAY_WS)}`;

/** The demo agent console in its own browser context (its own IndexedDB: its own device). */
export async function openAgent(browser: Browser): Promise<{ context: BrowserContext; agent: Page; orgKey: string }> {
  const context = await browser.newContext();
  const agent = await context.newPage();
  await agent.goto(`/agent.html${q}`);
  await expect(agent.locator('#org-key')).toHaveText(/^sc1/);
  await expect(agent.locator('#status')).toHaveText('');
  return { context, agent, orgKey: (await agent.locator('#org-key').textContent())! };
}

/**
 * The demo shop as a new visitor (a fresh context), with extra attributes set on its
 * <sealchat-widget> before the chat opens, the way a site owner would write them in the tag.
 */
export async function openVisitor(
  browser: Browser,
  attributes: Record<string, string> = {},
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; visitor: Page }> {
  const context = await browser.newContext(options);
  const visitor = await context.newPage();
  await visitor.goto(`/${q}`);
  await visitor.locator('sealchat-widget').evaluate((widget, attrs) => {
    for (const [name, value] of Object.entries(attrs)) widget.setAttribute(name, value);
  }, attributes);
  return { context, visitor };
}

/** Opens the chat with the launcher and waits until the visitor can type. */
export async function startChat(visitor: Page, launcher = 'Chat with Harbour Supplies'): Promise<void> {
  await visitor.getByRole('button', { name: launcher }).click();
  await expect(visitor.getByRole('textbox', { name: 'Message' })).toBeEnabled();
}

/** Types and sends a message as the visitor. */
export async function say(page: Page, text: string, box = 'Message'): Promise<void> {
  const composer = page.getByRole('textbox', { name: box });
  await composer.fill(text);
  await composer.press('Enter');
}
