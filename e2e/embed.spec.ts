import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startPlainSite, type PlainSite } from './support/plain-site.js';
import { E2E_PLAIN_ORIGIN, E2E_PLAIN_PORT, E2E_RELAY_WS } from './support/ports.js';
import { cspViolations, recordCspViolations, STRICT_CSP } from './support/strict-csp.js';

/**
 * The site owner's path: a plain HTML page with one <script type="module" integrity=...> and one
 * <sealchat-widget> tag, using the single-file bundle `npm run build` makes. Served under a strict
 * Content-Security-Policy with Trusted Types required.
 */
const cdnDir = resolve('packages/widget/dist/cdn');
const bundlePath = resolve('packages/widget/dist/cdn/sealchat-widget.js');
const panelPath = resolve('packages/widget/dist/cdn/sealchat-panel.js');

let site: PlainSite | undefined;
test.afterEach(async () => {
  await site?.close();
  site = undefined;
});

async function servePlainSite(
  orgKey: string,
  integrity: string,
  panelBody: Buffer = readFileSync(panelPath),
  requests: string[] = [],
  extraAttributes = '',
  overrides: Record<string, Buffer> = {},
): Promise<void> {
  site = await startPlainSite(
    E2E_PLAIN_PORT,
    {
      '/': {
        type: 'text/html',
        headers: { 'Content-Security-Policy': STRICT_CSP },
        body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Plain shop</title>
<script type="module" src="/sealchat-widget.js" integrity="${integrity}" crossorigin="anonymous"></script>
</head><body><h1>A plain page</h1>
<sealchat-widget relay="${E2E_RELAY_WS}" org="${orgKey}" heading="Talk to us"${extraAttributes}></sealchat-widget>
</body></html>`,
      },
      // Every file of the script-tag build (the locales too), as a CDN would serve them.
      ...Object.fromEntries(
        readdirSync(cdnDir)
          .filter((file) => file.endsWith('.js'))
          .map((file) => [`/${file}`, { type: 'text/javascript', body: readFileSync(resolve(cdnDir, file)) }]),
      ),
      '/sealchat-panel.js': { type: 'text/javascript', body: panelBody },
      ...Object.fromEntries(Object.entries(overrides).map(([path, body]) => [path, { type: 'text/javascript', body }])),
    },
    requests,
  );
}

async function demoOrgKey(page: Page): Promise<string> {
  await page.goto(`/agent.html?relay=${encodeURIComponent(E2E_RELAY_WS)}`);
  await expect(page.locator('#status')).toHaveText('');
  return (await page.locator('#org-key').textContent())!;
}

test('the script-tag bundle works on a plain page under a strict CSP with Trusted Types, with zero violations', async ({
  browser,
}) => {
  const agentContext = await browser.newContext();
  const agent = await agentContext.newPage();
  const orgKey = await demoOrgKey(agent);

  const visitorContext = await browser.newContext();
  const visitor = await visitorContext.newPage();
  await recordCspViolations(visitor);
  const integrity = readFileSync(`${bundlePath}.sri`, 'utf8').trim();
  const requests: string[] = [];
  await servePlainSite(orgKey, integrity, undefined, requests);
  await visitor.goto(`${E2E_PLAIN_ORIGIN}/`);
  // Before any click, the page loads only the tiny launcher: no chat code, no crypto.
  await expect(visitor.getByRole('button', { name: 'Talk to us' })).toBeVisible();
  await visitor.waitForTimeout(300);
  expect(requests.filter((r) => r.endsWith('.js'))).toEqual(['/sealchat-widget.js']);

  await visitor.getByRole('button', { name: 'Talk to us' }).click();
  const composer = visitor.getByRole('textbox', { name: 'Message' });
  await expect(composer).toBeEnabled();
  await composer.fill('Sent from a plain HTML page');
  await composer.press('Enter');
  await expect(agent.getByRole('log', { name: 'Messages' })).toContainText('Sent from a plain HTML page');
  // The agent's console is open and visible: the visitor sees the message delivered, then read.
  await expect(visitor.getByRole('log', { name: 'Messages' }).locator('li.mine[data-state="read"]')).toContainText(
    'plain HTML page',
  );
  // The panel and exactly one locale file (this page is in English).
  expect(requests.filter((r) => r.endsWith('.js'))).toEqual([
    '/sealchat-widget.js',
    '/sealchat-panel.js',
    '/sealchat-locale-en.js',
  ]);

  expect(await cspViolations(visitor)).toEqual([]);
  await agentContext.close();
  await visitorContext.close();
});

test('a bundle that does not match its integrity hash never runs', async ({ page }) => {
  const wrong = `sha384-${Buffer.alloc(48, 7).toString('base64')}`;
  await servePlainSite('sc1unused', wrong);
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(`${E2E_PLAIN_ORIGIN}/`);
  await expect.poll(() => errors.join('\n')).toMatch(/integrity/i);
  expect(await page.evaluate(() => customElements.get('sealchat-widget'))).toBeUndefined();
});

test('a chat panel that does not match the hash pinned in the launcher never runs, and the visitor is told', async ({
  page,
}) => {
  const integrity = readFileSync(`${bundlePath}.sri`, 'utf8').trim();
  // A compromised CDN serves the real launcher with a doctored panel.
  const doctored = Buffer.concat([readFileSync(panelPath), Buffer.from('\nwindow.__doctored = true;\n')]);
  await servePlainSite('sc1unused', integrity, doctored);
  await page.goto(`${E2E_PLAIN_ORIGIN}/`);
  await page.getByRole('button', { name: 'Talk to us' }).click();
  await expect(page.getByRole('alert')).toContainText('does not match its pinned hash');
  expect(await page.evaluate(() => customElements.get('sealchat-panel'))).toBeUndefined();
  expect(await page.evaluate(() => (window as { __doctored?: boolean }).__doctored)).toBeUndefined();
});

test('the script-tag build in Arabic, dark, with a pre-chat form, masking and the menu, still with zero CSP violations', async ({
  browser,
}) => {
  const agentContext = await browser.newContext();
  const agent = await agentContext.newPage();
  const orgKey = await demoOrgKey(agent);
  const visitor = await (await browser.newContext()).newPage();
  await recordCspViolations(visitor);
  const requests: string[] = [];
  const integrity = readFileSync(`${bundlePath}.sri`, 'utf8').trim();
  await servePlainSite(orgKey, integrity, undefined, requests, ' locale="ar" theme="dark" prechat="name" sound');
  await visitor.goto(`${E2E_PLAIN_ORIGIN}/`);
  await visitor.getByRole('button', { name: 'Talk to us' }).click();
  // Only the Arabic strings were fetched, through their pinned hash.
  await expect(visitor.getByRole('button', { name: 'بدء المحادثة' })).toBeVisible();
  expect(requests.filter((r) => r.includes('locale'))).toEqual(['/sealchat-locale-ar.js']);
  await visitor.getByLabel('الاسم').fill('Layla');
  await visitor.getByRole('button', { name: 'بدء المحادثة' }).click();
  await expect(agent.getByRole('log', { name: 'Messages' })).toContainText('Layla');
  const composer = visitor.getByRole('textbox', { name: 'الرسالة' });
  await composer.fill('بطاقتي 4111 1111 1111 1111');
  await composer.press('Enter');
  await expect(agent.getByRole('log', { name: 'Messages' })).toContainText('•••• •••• •••• 1111');
  await expect(agent.getByRole('log', { name: 'Messages' })).not.toContainText('4111 1111 1111 1111');
  await visitor.getByRole('button', { name: 'خيارات أخرى' }).click();
  await visitor.getByRole('button', { name: 'رمز الأمان' }).click();
  const code = (await visitor.locator('sealchat-widget').locator('.code').textContent())!;
  await agent.getByRole('button', { name: 'Show safety code' }).click();
  await expect(agent.locator('.safety code')).toHaveText(code);
  const panel = visitor.locator('sealchat-widget').locator('section[part="panel"]');
  await expect(panel).toHaveAttribute('dir', 'rtl');
  expect(await panel.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(28, 28, 30)');
  expect(await cspViolations(visitor)).toEqual([]);
  await agentContext.close();
});

test('a locale file that does not match the hash pinned in the panel never runs, and the visitor is told', async ({
  page,
}) => {
  const integrity = readFileSync(`${bundlePath}.sri`, 'utf8').trim();
  const doctored = Buffer.concat([
    readFileSync(resolve(cdnDir, 'sealchat-locale-de.js')),
    Buffer.from('\nwindow.__doctored = true;\n'),
  ]);
  await servePlainSite('sc1unused', integrity, undefined, [], ' locale="de"', { '/sealchat-locale-de.js': doctored });
  await page.goto(`${E2E_PLAIN_ORIGIN}/`);
  await page.getByRole('button', { name: 'Talk to us' }).click();
  await expect(page.getByRole('alert')).toContainText('do not match their pinned hash');
  expect(await page.evaluate(() => (window as { __doctored?: boolean }).__doctored)).toBeUndefined();
});
