import { afterEach, describe, expect, it } from 'vitest';
import { MemoryClientStore, type ClientStore } from '@sealchat/client';
import './define.js';
import type { OrgReadyDetail, SealchatOrgSetup } from './sealchat-org-setup.js';

const PASSPHRASE = 'correct horse battery staple';
const INTEGRITY = 'sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC';

/** Counts writes, to show a failed restore stored nothing. */
class WatchedStore extends MemoryClientStore {
  writes = 0;
  override putRecord(key: string, value: unknown): Promise<void> {
    this.writes++;
    return super.putRecord(key, value);
  }
  override generateKeyPair(
    name: string,
    algorithm: Parameters<ClientStore['generateKeyPair']>[1],
  ): Promise<CryptoKeyPair> {
    this.writes++;
    return super.generateKeyPair(name, algorithm);
  }
}

const mounted: HTMLElement[] = [];
afterEach(() => {
  for (const el of mounted.splice(0)) el.remove();
});

async function mount(store: ClientStore): Promise<SealchatOrgSetup> {
  const el = document.createElement('sealchat-org-setup');
  el.setAttribute('cdn-base', 'https://cdn.example/sealchat');
  el.setAttribute('launcher-integrity', INTEGRITY);
  // Unreachable on purpose: these tests are about the page, not the relay (org-setup.test.ts covers registering).
  el.setAttribute('relay', 'wss://relay.invalid');
  el.store = store;
  document.body.append(el);
  mounted.push(el);
  await until(el, () => !el.shadowRoot!.querySelector('p[role="status"]')?.textContent?.includes('Loading'));
  return el;
}

/** Waits until `check` holds after a render, for up to 10 s (PBKDF2 at 600,000 iterations takes a moment). */
async function until(el: SealchatOrgSetup, check: () => boolean | undefined): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await el.updateComplete;
    if (check()) return;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the element type it expects
const $ = <T extends Element = HTMLInputElement>(el: SealchatOrgSetup, selector: string): T =>
  el.shadowRoot!.querySelector<T>(selector)!;

function type(el: SealchatOrgSetup, id: string, value: string): void {
  const input = $(el, `#${id}`);
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

function chooseFile(el: SealchatOrgSetup, text: string): void {
  const input = $(el, '#restore-file');
  const transfer = new DataTransfer();
  transfer.items.add(new File([text], 'backup.json', { type: 'application/json' }));
  input.files = transfer.files;
}

async function createOrg(el: SealchatOrgSetup, name = 'Acme Support'): Promise<void> {
  type(el, 'create-name', name);
  type(el, 'create-passphrase', PASSPHRASE);
  type(el, 'create-again', PASSPHRASE);
  $<HTMLFormElement>(el, 'form[part="create"]').requestSubmit();
  await until(el, () => el.shadowRoot!.querySelector('#setup-org-key') !== null);
}

describe('<sealchat-org-setup>', () => {
  it('creates an organisation, offers its backup, and restores it in a fresh store with the same org key', async () => {
    const el = await mount(new MemoryClientStore());
    // Every form control has a label.
    for (const input of el.shadowRoot!.querySelectorAll('input')) expect(input.labels?.length).toBe(1);

    const ready: OrgReadyDetail[] = [];
    document.addEventListener('sealchat-org-ready', (event) => ready.push(event.detail), { once: true });
    await createOrg(el);
    const orgKey = $(el, '#setup-org-key').textContent;
    expect(orgKey).toMatch(/^sc1[A-Za-z0-9_-]{48}$/);
    expect(ready).toEqual([{ orgKey, how: 'created' }]);
    expect(el.shadowRoot!.activeElement?.id).toBe('org-heading');

    // The snippet pins the org key and the launcher's hash.
    expect($(el, '#setup-snippet').textContent).toContain(`org="${orgKey}"`);
    expect($(el, '#setup-snippet').textContent).toContain(`integrity="${INTEGRITY}"`);

    // The backup is a blob: download link (never a data: URL) holding the encrypted file.
    const link = $<HTMLAnchorElement>(el, 'a[part="backup-link"]');
    expect(link.href).toMatch(/^blob:/);
    expect(link.download).toMatch(/^sealchat-org-acme-support-.*\.json$/);
    const text = await (await fetch(link.href)).text();
    const file = JSON.parse(text) as { format: string; orgKey: string; kdf: { iterations: number } };
    expect(file).toMatchObject({ format: 'sealchat-org-backup', orgKey, kdf: { iterations: 600_000 } });
    expect(text).not.toContain('Acme');

    // Another browser: a fresh store, the file and the passphrase.
    const other = await mount(new MemoryClientStore());
    chooseFile(other, text);
    type(other, 'restore-passphrase', PASSPHRASE);
    $<HTMLFormElement>(other, 'form[part="restore"]').requestSubmit();
    await until(other, () => other.shadowRoot!.querySelector('#setup-org-key') !== null);
    expect($(other, '#setup-org-key').textContent).toBe(orgKey);
    expect($(other, '#org-heading').textContent).toBe('Acme Support');
  });

  it('shows a wrong passphrase as an error, focuses the passphrase, and stores nothing', async () => {
    const source = await mount(new MemoryClientStore());
    await createOrg(source);
    const text = await (await fetch($<HTMLAnchorElement>(source, 'a[part="backup-link"]').href)).text();

    const store = new WatchedStore();
    const el = await mount(store);
    chooseFile(el, text);
    type(el, 'restore-passphrase', 'not the right passphrase');
    $<HTMLFormElement>(el, 'form[part="restore"]').requestSubmit();
    const alert = () => $(el, 'form[part="restore"] [role="alert"]').textContent ?? '';
    await until(el, () => alert() !== '');
    expect(alert()).toBe('Wrong passphrase for this backup');
    expect(el.shadowRoot!.activeElement?.id).toBe('restore-passphrase');
    expect(store.writes).toBe(0);

    // A damaged file says so, and stores nothing either.
    chooseFile(
      el,
      text.replace(/"ciphertext": "(.)/, (_, c: string) => `"ciphertext": "${c === 'A' ? 'B' : 'A'}`),
    );
    type(el, 'restore-passphrase', PASSPHRASE);
    $<HTMLFormElement>(el, 'form[part="restore"]').requestSubmit();
    await until(el, () => alert().includes('damaged'));
    expect(el.shadowRoot!.activeElement?.id).toBe('restore-file');
    expect(store.writes).toBe(0);
  });

  it('checks the create form before creating anything', async () => {
    const store = new WatchedStore();
    const el = await mount(store);
    const alert = () => $(el, 'form[part="create"] [role="alert"]').textContent ?? '';
    type(el, 'create-name', 'Acme');
    type(el, 'create-passphrase', 'too short');
    type(el, 'create-again', 'too short');
    $<HTMLFormElement>(el, 'form[part="create"]').requestSubmit();
    await until(el, () => alert() !== '');
    expect(alert()).toMatch(/at least 12 characters/);
    expect(el.shadowRoot!.activeElement?.id).toBe('create-passphrase');
    type(el, 'create-passphrase', PASSPHRASE);
    type(el, 'create-again', `${PASSPHRASE}!`);
    $<HTMLFormElement>(el, 'form[part="create"]').requestSubmit();
    await until(el, () => alert().includes('differ'));
    expect(el.shadowRoot!.activeElement?.id).toBe('create-again');
    expect(store.writes).toBe(0);
  });

  it('shows an existing organisation with its backup, without the forms', async () => {
    const store = new MemoryClientStore();
    const first = await mount(store);
    await createOrg(first, 'Acme');
    const orgKey = $(first, '#setup-org-key').textContent;
    first.remove();
    const again = await mount(store);
    expect($(again, '#setup-org-key').textContent).toBe(orgKey);
    expect(again.shadowRoot!.querySelector('form')).toBeNull();
    expect($<HTMLAnchorElement>(again, 'a[part="backup-link"]').href).toMatch(/^blob:/);
  });

  it('says so when the store cannot be read, instead of offering to create into it', async () => {
    const store = new MemoryClientStore();
    await store.putRecord('org/keys', { format: 'something else' });
    const el = await mount(store);
    expect($(el, '[role="alert"]').textContent).toMatch(/could not be read: Stored organisation keys are malformed/);
    expect(el.shadowRoot!.querySelector('form')).toBeNull();
  });
});
