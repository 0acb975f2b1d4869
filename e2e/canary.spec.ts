import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { scanFiles, scanFrames } from './support/canary-scanner.js';
import { E2E_OUTPUT_DIR, E2E_RELAY_WS } from './support/ports.js';

/**
 * The product's promise in one test: a secret typed into the widget reaches the agent console in
 * plaintext, and the relay never holds it in any readable form — not in its database file, its
 * WAL, its log, nor in any WebSocket frame either browser sent or received.
 */

function recordFrames(page: Page, into: (string | Buffer)[]): void {
  page.on('websocket', (socket) => {
    socket.on('framesent', (frame) => into.push(frame.payload));
    socket.on('framereceived', (frame) => into.push(frame.payload));
  });
}

const q = `?relay=${encodeURIComponent(E2E_RELAY_WS)}`;

test('a canary typed by the visitor reaches the agent and never the relay', async ({ browser }) => {
  const canary = `canary-${randomBytes(12).toString('hex')}`;
  const replyCanary = `reply-${randomBytes(12).toString('hex')}`;
  const frames: (string | Buffer)[] = [];

  // Separate browser contexts: the agent's and the visitor's IndexedDB are as apart as two computers.
  const agentContext = await browser.newContext();
  const visitorContext = await browser.newContext();
  const agent = await agentContext.newPage();
  const visitor = await visitorContext.newPage();
  recordFrames(agent, frames);
  recordFrames(visitor, frames);

  await agent.goto(`/agent.html${q}`);
  await expect(agent.locator('#org-key')).toHaveText(/^sc1/);
  await expect(agent.locator('#status')).toHaveText('');
  const orgKey = await agent.locator('#org-key').textContent();

  // The org key is pinned in the page as served, the way a site embeds it, not set later by script.
  const served = await (await visitor.request.get(`/${q}`)).text();
  expect(served).toContain(`org="${orgKey}"`);
  await visitor.goto(`/${q}`);
  await expect(visitor.locator('sealchat-widget')).toHaveAttribute('org', orgKey!);
  await visitor.getByRole('button', { name: 'Chat with Harbour Supplies' }).click();
  const composer = visitor.getByRole('textbox', { name: 'Message' });
  await expect(composer).toBeEnabled();
  await composer.fill(`Hello, my order code is ${canary}`);
  await composer.press('Enter');
  const visitorLog = visitor.getByRole('log', { name: 'Messages' });
  await expect(visitorLog.locator('li.mine')).toContainText(canary);

  // The agent console decrypts it.
  const agentLog = agent.getByRole('log', { name: 'Messages' });
  await expect(agentLog).toContainText(canary);

  // The agent answers; the visitor reads the answer, with the agent's name from the roster.
  const reply = agent.getByRole('textbox', { name: 'Reply' });
  await reply.fill(`Thanks! ${replyCanary} Details: https://harbour.example/orders?id=7 <img src=x onerror=alert(1)>`);
  await reply.press('Enter');
  await expect(visitorLog).toContainText(replyCanary);
  await expect(visitorLog).toContainText('Alex (demo agent)');
  // The link arrives as a safe anchor; the markup arrives as text.
  const link = visitorLog.getByRole('link', { name: 'https://harbour.example/orders?id=7' });
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(link).toHaveAttribute('href', 'https://harbour.example/orders?id=7');
  await expect(visitorLog).toContainText('<img src=x onerror=alert(1)>');
  await expect(visitorLog.locator('img')).toHaveCount(0);
  // Bubbles hug their content: label + text + padding, no blank bands from template whitespace.
  for (const log of [visitorLog, agent.getByRole('log', { name: 'Messages' })]) {
    const slack = await log
      .locator('li')
      .first()
      .evaluate((li) => {
        // Every labelled line counts as content: the author line, the text, the delivery state.
        const part = (selector: string) =>
          [...li.querySelectorAll(selector)].reduce((sum, el) => sum + el.getBoundingClientRect().height, 0);
        return li.getBoundingClientRect().height - part('.meta') - part('.text');
      });
    expect(slack).toBeLessThanOrEqual(20);
  }

  // Reloading either page keeps the conversation.
  await visitor.reload();
  await visitor.getByRole('button', { name: 'Chat with Harbour Supplies' }).click();
  await expect(visitor.getByRole('log', { name: 'Messages' })).toContainText(canary);
  await expect(visitor.getByRole('log', { name: 'Messages' })).toContainText(replyCanary);
  await agent.reload();
  await expect(agent.getByRole('log', { name: 'Messages' })).toContainText(canary);
  await expect(agent.getByRole('log', { name: 'Messages' })).toContainText(replyCanary);

  // "What the relay sees" lists the stored rows: ciphertext only.
  const relayView = await agentContext.newPage();
  await relayView.goto(`/relay.html${q}`);
  await expect(relayView.locator('#rows tr')).not.toHaveCount(0);
  await expect(relayView.locator('#rows')).not.toContainText(canary);

  // Now the scan. Each source must have been read, or "not found" would prove nothing.
  const out = resolve(E2E_OUTPUT_DIR);
  const files = [resolve(out, 'relay.db'), resolve(out, 'relay.db-wal'), resolve(out, 'relay.log')];
  const scan = await scanFiles(files, canary);
  expect(scan.missing).toEqual([]);
  expect(scan.bytesRead).toBeGreaterThan(0);
  expect(frames.length).toBeGreaterThan(4);
  expect(scan.hits).toEqual([]);
  expect(scanFrames(frames, canary)).toEqual([]);
  // The reply went the other way; it must be just as invisible.
  expect((await scanFiles(files, replyCanary)).hits).toEqual([]);
  expect(scanFrames(frames, replyCanary)).toEqual([]);

  await agentContext.close();
  await visitorContext.close();
});
