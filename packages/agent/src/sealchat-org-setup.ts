import { html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  createOrganisation,
  embedSnippet,
  loadBackupFile,
  loadOrganisation,
  OrgAdministration,
  registerOrganisation,
  restoreOrganisation,
  type ClientStore,
  type OrgBackupFile,
  type RecoverableOrganisation,
} from '@sealchat/client';
import { formStyles } from './form-styles.js';
import { orgSetupStyles } from './org-setup-styles.js';

/** A backup is about 1 KB; anything much larger is not one, and is not read into memory. */
const MAX_BACKUP_FILE_BYTES = 64 * 1024;

type Registration =
  { readonly state: 'pending' } | { readonly state: 'done' } | { readonly state: 'failed'; readonly message: string };

/** What `sealchat-org-ready` carries. */
export interface OrgReadyDetail {
  readonly orgKey: string;
  readonly how: 'created' | 'restored';
}

/**
 * Organisation setup for a supervisor. With no organisation in `store` yet, it offers to create
 * one (its root and archive keys generated in this browser; the backup file, encrypted under a
 * passphrase, offered for download) or to restore one from its backup file. Once there is one, it
 * shows the org key, the embed snippet with a copy button, and the backup to save again. After a
 * create or restore it registers the organisation with the relay named by `relay`.
 *
 * Renders with Lit templates and static styles only: no inline script or style, no HTML strings,
 * so it works under a strict Content-Security-Policy.
 *
 * @event sealchat-org-ready - An organisation was created or restored in `store`; `detail` is an {@link OrgReadyDetail}.
 *
 * @csspart create - The create form.
 * @csspart restore - The restore form.
 * @csspart backup-link - The link that saves the backup file.
 * @csspart snippet - The embed snippet.
 *
 * @cssprop --sealchat-accent - Button colour.
 */
export class SealchatOrgSetup extends LitElement {
  static override styles = [formStyles, orgSetupStyles];

  static override properties = {
    store: { attribute: false },
    relay: { type: String },
    cdnBase: { type: String, attribute: 'cdn-base' },
    launcherIntegrity: { type: String, attribute: 'launcher-integrity' },
    organisation: { state: true },
    loading: { state: true },
    loadError: { state: true },
    busy: { state: true },
    createError: { state: true },
    restoreError: { state: true },
    registration: { state: true },
    backup: { state: true },
    justCreated: { state: true },
    copyStatus: { state: true },
  };

  /** Where the organisation's keys are kept (an `IdbClientStore` in a browser). */
  store: ClientStore | undefined;
  /** The relay's WebSocket URL: the organisation is registered there, and the snippet points at it. */
  relay: string | undefined;
  /** Where the widget's script-tag build is hosted, for the embed snippet. */
  cdnBase: string | undefined;
  /** The launcher's SRI hash (`sealchat-widget.js.sri`), for the embed snippet. */
  launcherIntegrity: string | undefined;

  protected organisation: RecoverableOrganisation | undefined;
  protected loading = true;
  protected loadError = '';
  protected busy: 'create' | 'restore' | undefined;
  protected createError = '';
  protected restoreError = '';
  protected registration: Registration | undefined;
  /** An organisation created or restored here whose audit entry is not recorded yet (it needs the relay). */
  private unaudited: 'created' | 'restored' | undefined;
  protected backup: { readonly file: OrgBackupFile; readonly url: string } | undefined;
  protected justCreated = false;
  protected copyStatus = '';
  private loadedStore: ClientStore | undefined;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('store') && this.store !== this.loadedStore) {
      this.loadedStore = this.store;
      void this.load();
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.setBackup(undefined);
  }

  private async load(): Promise<void> {
    const store = this.store;
    this.organisation = undefined;
    this.loadError = '';
    this.setBackup(undefined);
    this.loading = store !== undefined;
    if (!store) return;
    try {
      const [organisation, backup] = await Promise.all([loadOrganisation(store), loadBackupFile(store)]);
      if (store !== this.store) return;
      this.organisation = organisation;
      this.setBackup(backup);
    } catch (error) {
      // Offering to create or restore into a store that cannot be read would only fail again, or worse.
      if (store === this.store)
        this.loadError = `The organisation in this browser could not be read: ${messageOf(error)}`;
    } finally {
      if (store === this.store) this.loading = false;
    }
  }

  /** Keeps one object URL for the backup, and revokes the one it replaces. */
  private setBackup(file: OrgBackupFile | undefined): void {
    if (this.backup) URL.revokeObjectURL(this.backup.url);
    this.backup = file && {
      file,
      url: URL.createObjectURL(new Blob([file.text], { type: 'application/json' })),
    };
  }

  private async onCreate(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const store = this.store;
    if (!store || this.busy) return;
    const form = event.currentTarget as HTMLFormElement;
    const name = this.input('create-name').value;
    const passphrase = this.input('create-passphrase');
    const again = this.input('create-again');
    if (!name.trim()) return this.failCreate('Enter a name for the organisation.', 'create-name');
    // Length and name rules are createOrganisation's, which refuses before storing anything.
    if (passphrase.value !== again.value) return this.failCreate('The two passphrases differ.', 'create-again');
    this.busy = 'create';
    this.createError = '';
    let failure: { message: string; focus: string } | undefined;
    try {
      const { organisation, backup } = await createOrganisation(store, { name, passphrase: passphrase.value });
      form.reset();
      this.justCreated = true;
      this.ready(organisation, backup, 'created');
    } catch (error) {
      // TypeError: only the name can be out of range here.
      failure = { message: messageOf(error), focus: error instanceof TypeError ? 'create-name' : 'create-passphrase' };
    } finally {
      this.busy = undefined;
    }
    if (failure) await this.failCreate(failure.message, failure.focus);
  }

  private async onRestore(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const store = this.store;
    if (!store || this.busy) return;
    const form = event.currentTarget as HTMLFormElement;
    const file = this.input('restore-file').files?.[0];
    const passphrase = this.input('restore-passphrase').value;
    if (!file) return this.failRestore('Choose the backup file.', 'restore-file');
    if (file.size > MAX_BACKUP_FILE_BYTES) {
      return this.failRestore('This file is too large to be a Sealchat organisation backup.', 'restore-file');
    }
    if (!passphrase) return this.failRestore('Enter the passphrase of this backup.', 'restore-passphrase');
    this.busy = 'restore';
    this.restoreError = '';
    let failure: { message: string; focus: string } | undefined;
    try {
      const text = await file.text();
      const organisation = await restoreOrganisation(store, text, passphrase);
      form.reset();
      this.ready(organisation, await loadBackupFile(store), 'restored');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const focus = code === 'SEALCHAT_E_BACKUP_PASSPHRASE' ? 'restore-passphrase' : 'restore-file';
      failure = { message: messageOf(error), focus };
    } finally {
      this.busy = undefined;
    }
    if (failure) await this.failRestore(failure.message, failure.focus);
  }

  private ready(organisation: RecoverableOrganisation, backup: OrgBackupFile | undefined, how: 'created' | 'restored') {
    this.organisation = organisation;
    this.setBackup(backup);
    this.dispatchEvent(
      new CustomEvent<OrgReadyDetail>('sealchat-org-ready', {
        detail: { orgKey: organisation.orgKey, how },
        bubbles: true,
        composed: true,
      }),
    );
    this.unaudited = how;
    void this.register();
    // The forms are gone: move focus to what replaced them, so keyboard and screen reader users follow.
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#org-heading')?.focus());
  }

  private async register(): Promise<void> {
    const { store, relay, organisation } = this;
    if (!store || !relay || !organisation) return;
    this.registration = { state: 'pending' };
    try {
      this.organisation = await registerOrganisation(relay, store, organisation);
      if (this.unaudited) await this.audit(relay, store, this.organisation, this.unaudited);
      this.registration = { state: 'done' };
    } catch (error) {
      this.registration = { state: 'failed', message: messageOf(error) };
    }
  }

  /** Records the creation or restore in the organisation's audit log (docs/audit-log.md), once. */
  private async audit(
    relay: string,
    store: ClientStore,
    organisation: RecoverableOrganisation,
    how: 'created' | 'restored',
  ): Promise<void> {
    const administration = await OrgAdministration.connect({ relayUrl: relay, organisation, store });
    try {
      await administration.record({
        action: how === 'created' ? 'org-created' : 'org-restored',
        name: organisation.name,
      });
      this.unaudited = undefined;
    } finally {
      administration.close();
    }
  }

  private async copySnippet(snippet: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(snippet);
      this.copyStatus = 'Copied.';
    } catch {
      // No clipboard access (permissions, an insecure context): select it for the user to copy.
      const pre = this.renderRoot.querySelector('#setup-snippet');
      if (pre) getSelection()?.selectAllChildren(pre);
      this.copyStatus = 'Selected: press Ctrl+C (⌘C on a Mac) to copy.';
    }
  }

  /** Shows the error and moves focus to the field to fix, once the form is enabled again. */
  private async failCreate(message: string, focus: string): Promise<void> {
    this.createError = message;
    await this.updateComplete;
    this.input(focus).focus();
  }

  private async failRestore(message: string, focus: string): Promise<void> {
    this.restoreError = message;
    await this.updateComplete;
    this.input(focus).focus();
  }

  private input(id: string): HTMLInputElement {
    return this.renderRoot.querySelector<HTMLInputElement>(`#${id}`)!;
  }

  protected override render() {
    if (this.loading) return html`<p role="status">Loading the organisation…</p>`;
    if (this.loadError) return html`<p class="error" role="alert">${this.loadError}</p>`;
    return this.organisation ? this.renderOrganisation(this.organisation) : this.renderChoices();
  }

  private renderChoices() {
    const busy = this.busy !== undefined;
    return html`
      <p>
        No organisation in this browser yet. Create one: its keys are made here, and leave this browser only in a backup
        file encrypted under your passphrase. Or restore one from its backup file.
      </p>
      <div class="choices">
        <form
          part="create"
          novalidate
          aria-labelledby="create-heading"
          aria-busy=${this.busy === 'create'}
          @submit=${(event: SubmitEvent) => this.onCreate(event)}
        >
          <h3 id="create-heading">Create organisation</h3>
          <label for="create-name">Organisation name</label>
          <input id="create-name" name="name" autocomplete="organization" maxlength="100" required ?disabled=${busy} />
          <label for="create-passphrase">Backup passphrase</label>
          <input
            id="create-passphrase"
            type="password"
            autocomplete="new-password"
            minlength="12"
            required
            aria-describedby="create-hint"
            ?disabled=${busy}
          />
          <p class="hint" id="create-hint">
            At least 12 characters; several unrelated words work well. Nobody can reset it: without it the backup cannot
            be opened.
          </p>
          <label for="create-again">Passphrase again</label>
          <input id="create-again" type="password" autocomplete="new-password" required ?disabled=${busy} />
          <p class="error" role="alert">${this.createError}</p>
          <button type="submit" ?disabled=${busy}>
            ${this.busy === 'create' ? 'Creating…' : 'Create organisation'}
          </button>
        </form>
        <form
          part="restore"
          novalidate
          aria-labelledby="restore-heading"
          aria-busy=${this.busy === 'restore'}
          @submit=${(event: SubmitEvent) => this.onRestore(event)}
        >
          <h3 id="restore-heading">Restore from backup</h3>
          <label for="restore-file">Backup file</label>
          <input id="restore-file" type="file" accept=".json,application/json" required ?disabled=${busy} />
          <label for="restore-passphrase">Passphrase</label>
          <input id="restore-passphrase" type="password" autocomplete="current-password" required ?disabled=${busy} />
          <p class="error" role="alert">${this.restoreError}</p>
          <button type="submit" ?disabled=${busy}>${this.busy === 'restore' ? 'Restoring…' : 'Restore'}</button>
        </form>
      </div>
    `;
  }

  private renderOrganisation(organisation: RecoverableOrganisation) {
    let snippet: string | undefined;
    let snippetProblem = '';
    try {
      snippet = embedSnippet({
        cdnBase: this.cdnBase ?? '',
        launcherIntegrity: this.launcherIntegrity ?? '',
        relayUrl: this.relay ?? '',
        orgKey: organisation.orgKey,
      });
    } catch (error) {
      snippetProblem = messageOf(error);
    }
    return html`
      <div class="org">
        <h3 id="org-heading" tabindex="-1">${organisation.name}</h3>
        ${
          this.justCreated
            ? html`<p class="notice">
                Save the backup file now and keep it with its passphrase somewhere apart from this computer. It is the
                only way to move this organisation to another browser or to recover it.
              </p>`
            : nothing
        }
        ${
          this.backup
            ? html`<a class="button" part="backup-link" href=${this.backup.url} download=${this.backup.file.fileName}
                >Save backup file (${this.backup.file.fileName})</a
              >`
            : nothing
        }
        ${this.renderRegistration()}
        <h4>Org key</h4>
        <p><code id="setup-org-key">${organisation.orgKey}</code></p>
        <h4>Embed snippet</h4>
        ${
          snippet
            ? html`<pre part="snippet" id="setup-snippet">${snippet}</pre>
                <button type="button" @click=${() => this.copySnippet(snippet)}>Copy snippet</button>
                <span class="status" role="status">${this.copyStatus}</span>`
            : html`<p class="hint">
                Set the <code>relay</code>, <code>cdn-base</code> and <code>launcher-integrity</code> attributes to show
                the snippet: ${snippetProblem}
              </p>`
        }
      </div>
    `;
  }

  private renderRegistration() {
    const registration = this.registration;
    if (!registration) return nothing;
    if (registration.state === 'failed') {
      return html`<p class="error" role="alert">Not registered with the relay: ${registration.message}</p>
        <button type="button" @click=${() => this.register()}>Try again</button>`;
    }
    return html`<p role="status">
      ${registration.state === 'pending' ? 'Registering with the relay…' : 'Registered with the relay.'}
    </p>`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
