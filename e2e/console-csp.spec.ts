import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { build } from 'vite';
import { openVisitor, say, startChat } from './support/chat-pages.js';
import { startPlainSite, type PlainSite } from './support/plain-site.js';
import { E2E_PLAIN_ORIGIN, E2E_PLAIN_PORT, E2E_RELAY_WS } from './support/ports.js';
import { cspViolations, recordCspViolations, STRICT_CSP } from './support/strict-csp.js';

/**
 * Issue 6, quality: the agent console runs under the same strict Content-Security-Policy and
 * Trusted Types as the widget. The demo's console page is built the way a team would deploy it
 * (`vite build`: files only, no dev server), served by a plain static server with the policy on
 * every page, and worked: it makes its organisation, reads a visitor, replies, writes a note and
 * pushes a retention setting, with zero violations.
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

let outDir: string;
let site: PlainSite | undefined;

test.beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'sealchat-console-'));
  await build({
    configFile: resolve('vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });
  const routes = Object.fromEntries(
    files(outDir).map((path) => [
      `/${relative(outDir, path).split('\\').join('/')}`,
      {
        type: TYPES[extname(path)] ?? 'application/octet-stream',
        body: readFileSync(path),
        headers: { 'Content-Security-Policy': STRICT_CSP },
      },
    ]),
  );
  site = await startPlainSite(E2E_PLAIN_PORT, routes);
});

test.afterAll(async () => {
  await site?.close();
  rmSync(outDir, { recursive: true, force: true });
});

test('the built console works under a strict CSP with Trusted Types required, with zero violations', async ({
  browser,
}) => {
  const agent = await (await browser.newContext()).newPage();
  await recordCspViolations(agent);
  const response = await agent.goto(`${E2E_PLAIN_ORIGIN}/agent.html?relay=${encodeURIComponent(E2E_RELAY_WS)}`);
  expect(response?.headers()['content-security-policy']).toBe(STRICT_CSP);
  // Nothing inline: every script the page runs is a file of the build.
  expect(await agent.locator('script:not([src])').count()).toBe(0);
  await expect(agent.locator('#status')).toHaveText('');
  const orgKey = (await agent.locator('#org-key').textContent())!;

  const { visitor } = await openVisitor(browser, { org: orgKey });
  await startChat(visitor);
  await say(visitor, 'Hello <b>console</b> under a strict policy');
  const log = agent.getByRole('log', { name: 'Messages' });
  await expect(log).toContainText('Hello <b>console</b> under a strict policy');
  await expect(log.locator('b')).toHaveCount(0);

  const reply = agent.getByRole('textbox', { name: 'Reply' });
  await reply.fill('Answered from a locked-down page');
  await reply.press('Enter');
  await expect(visitor.getByText('Answered from a locked-down page')).toBeVisible();
  await reply.fill('Note written under the policy');
  await agent.getByRole('button', { name: 'Add note' }).click();
  await expect(log.locator('li.note')).toContainText('Note written under the policy');

  const admin = agent.locator('sealchat-org-admin');
  await admin.getByLabel('Keep conversations for').selectOption({ label: '90 days' });
  await admin.getByRole('button', { name: 'Save retention' }).click();
  await expect(admin.locator('#retention-now')).toHaveText('90 days');

  expect(await cspViolations(agent)).toEqual([]);
});
