import { html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  exportAuditLog,
  type AuditEvent,
  type AuditLogEntry,
  type OrgAdministration,
  type OrgSettings,
} from '@sealchat/client';
import { formStyles } from './form-styles.js';
import { toHex } from './hex.js';
import { teamStyles } from './team-styles.js';

/** Retention choices offered beside a free number of days; 0 hands the decision back to the relay. */
const RETENTION_CHOICES: readonly { readonly label: string; readonly days: number }[] = [
  { label: "The relay's default", days: 0 },
  { label: '7 days', days: 7 },
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
  { label: '1 year', days: 365 },
  { label: '7 years', days: 2555 },
];

type Busy = 'load' | 'retention' | 'audit' | undefined;

/**
 * The organisation's settings and record, for supervisors: how long the relay keeps conversations
 * (pushed to the relay, which sweeps older records), and the audit log of team actions, verified
 * (hash chain, signatures, certificates under the org key) and decrypted here with the archive key,
 * with export as JSON or text. docs/audit-log.md and docs/agent-console.md describe both.
 *
 * Renders with Lit templates and static styles only, so it runs under a strict CSP.
 *
 * @csspart retention - The retention form.
 * @csspart audit - The audit log.
 * @csspart audit-warning - Why the log's length could not be confirmed (no roster head vouches for it).
 *
 * @cssprop --sealchat-accent - Button colour.
 * @cssprop --sealchat-danger - Error colour.
 */
export class SealchatOrgAdmin extends LitElement {
  static override styles = [formStyles, teamStyles];

  static override properties = {
    administration: { attribute: false },
    settings: { state: true },
    entries: { state: true },
    busy: { state: true },
    error: { state: true },
    auditError: { state: true },
    auditWarning: { state: true },
    notice: { state: true },
  };

  /** A supervisor's administration of the organisation (`OrgAdministration.connect` in @sealchat/client). */
  administration: OrgAdministration | undefined;

  protected settings: OrgSettings | undefined;
  protected entries: readonly AuditLogEntry[] | undefined;
  protected busy: Busy;
  protected error = '';
  protected auditError = '';
  /** `OrgAdministration.auditWarning` after the last read, in words (docs/audit-log.md §Heads). */
  protected auditWarning = '';
  protected notice = '';

  private listening: OrgAdministration | undefined;
  private readonly onRecorded = (): void => {
    if (this.administration && !this.busy) void this.readAudit(this.administration);
  };

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('administration') && this.listening !== this.administration) {
      // Entries recorded from elsewhere in this page (the Team panel) show up at once.
      this.listening?.removeEventListener('recorded', this.onRecorded);
      this.listening = this.administration;
      this.listening?.addEventListener('recorded', this.onRecorded);
      this.settings = undefined;
      this.entries = undefined;
      if (this.administration) void this.refresh();
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.listening?.removeEventListener('recorded', this.onRecorded);
    this.listening = undefined;
  }

  /** Reads the settings and the audit log again (after a team change, say). */
  async refresh(): Promise<void> {
    const administration = this.administration;
    if (!administration) return;
    this.busy = 'load';
    try {
      this.settings = await administration.settings();
      this.error = '';
    } catch (error) {
      this.error = messageOf(error);
    }
    await this.readAudit(administration);
    this.busy = undefined;
  }

  private async readAudit(administration: OrgAdministration): Promise<void> {
    try {
      this.entries = await administration.readAuditLog();
      this.auditError = '';
      this.auditWarning = administration.auditWarning ?? '';
    } catch (error) {
      // A log that does not verify is shown as such, never partly.
      this.entries = undefined;
      this.auditError = messageOf(error);
    }
  }

  protected override render() {
    const { settings, administration } = this;
    if (!administration) return html`<p>Only a supervisor's browser holding the organisation can change these.</p>`;
    return html`
      <div class="grid">
        <section part="retention" aria-labelledby="retention-heading">
          <h3 id="retention-heading">Retention</h3>
          <p>
            How long the relay keeps this organisation's conversations (ciphertext) before deleting them.
            ${
              settings
                ? settings.retentionDays !== undefined
                  ? html`Now: <strong id="retention-now">${days(settings.retentionDays)}</strong>.`
                  : html`Now:
                      <strong id="retention-now">the relay's default</strong>
                      (${settings.defaultRetentionDays > 0 ? days(settings.defaultRetentionDays) : 'kept until erased'}).`
                : nothing
            }
          </p>
          <form @submit=${this.onRetention}>
            <label for="retention-days">Keep conversations for</label>
            <select id="retention-days" ?disabled=${this.busy !== undefined}>
              ${RETENTION_CHOICES.map(
                (c) =>
                  html`<option value=${c.days} ?selected=${(settings?.retentionDays ?? 0) === c.days}>
                    ${c.label}
                  </option>`,
              )}
              ${
                settings?.retentionDays !== undefined &&
                !RETENTION_CHOICES.some((c) => c.days === settings.retentionDays)
                  ? html`<option value=${settings.retentionDays} selected>${days(settings.retentionDays)}</option>`
                  : nothing
              }
            </select>
            <button type="submit" ?disabled=${this.busy !== undefined}>Save retention</button>
          </form>
          ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
          <p role="status">${this.notice}</p>
        </section>
        <section part="audit" aria-labelledby="audit-heading">
          <h3 id="audit-heading">Audit log</h3>
          <p>
            Every team action, signed by the supervisor's device and encrypted to the organisation's archive key: the
            relay stores it and cannot read it.
          </p>
          ${this.renderAudit()}
        </section>
      </div>
    `;
  }

  private renderAudit() {
    const entries = this.entries;
    return html`
      ${
        this.auditError
          ? html`<p class="error" role="alert">The audit log does not verify: ${this.auditError}</p>`
          : entries
            ? html`<p id="audit-status" role="status">
                ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}; signatures and hash chain verified.
              </p>`
            : html`<p role="status">Reading…</p>`
      }
      ${
        this.auditWarning && !this.auditError
          ? html`<p class="error" role="alert" part="audit-warning">${this.auditWarning}</p>`
          : nothing
      }
      <p>
        <button type="button" class="secondary" ?disabled=${this.busy !== undefined} @click=${this.onRefresh}>
          Refresh
        </button>
        <button type="button" ?disabled=${!entries?.length} @click=${() => this.exportLog('json')}>Export JSON</button>
        <button type="button" ?disabled=${!entries?.length} @click=${() => this.exportLog('text')}>Export text</button>
      </p>
      ${
        entries?.length
          ? html`<ol class="audit" aria-label="Audit entries" reversed>
              ${[...entries].reverse().map(
                (e) =>
                  html`<li>
                    <time datetime=${new Date(e.at).toISOString()}>${new Date(e.at).toLocaleString()}</time>
                    <span class="what">${describe(e.event)}</span>
                    <span class="tag">by ${e.signer.displayName}</span>
                  </li>`,
              )}
            </ol>`
          : nothing
      }
    `;
  }

  private readonly onRefresh = (): void => {
    void this.refresh();
  };

  private readonly onRetention = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const administration = this.administration;
    if (!administration || this.busy) return;
    const value = Number(this.renderRoot.querySelector<HTMLSelectElement>('#retention-days')!.value);
    this.busy = 'retention';
    this.error = '';
    this.notice = '';
    try {
      await administration.setRetention(value);
      this.settings = await administration.settings();
      this.notice =
        value > 0
          ? `Saved: the relay deletes conversations older than ${days(value)}.`
          : "Saved: the relay's default applies.";
      await this.readAudit(administration);
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.busy = undefined;
    }
  };

  private exportLog(format: 'json' | 'text'): void {
    const administration = this.administration;
    if (!administration || !this.entries) return;
    const { json, text } = exportAuditLog(this.entries);
    const url = URL.createObjectURL(
      new Blob([format === 'json' ? json : text], { type: format === 'json' ? 'application/json' : 'text/plain' }),
    );
    const link = document.createElement('a');
    link.href = url;
    link.download = `sealchat-audit-log.${format === 'json' ? 'json' : 'txt'}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

function days(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

/** One line per action, in words; names are rendered as text by Lit, never as HTML. */
export function describe(event: AuditEvent): string {
  switch (event.action) {
    case 'org-created':
      return `Organisation “${event.name}” created`;
    case 'org-restored':
      return `Organisation “${event.name}” restored from its backup`;
    case 'invite-created':
      return `Invited ${event.name} as ${event.role}`;
    case 'invite-cancelled':
      return `Cancelled the invite for ${event.name}`;
    case 'device-approved':
      return `Approved ${event.name}'s device (${event.role}, ${toHex(event.deviceId).slice(0, 8)}…)`;
    case 'device-revoked':
      return `Revoked ${event.name}'s device (${event.role}, ${toHex(event.deviceId).slice(0, 8)}…)`;
    case 'bot-enrolled':
      return `Enrolled the bot ${event.name}`;
    case 'bot-removed':
      return `Removed the bot ${event.name}`;
    case 'roster-published':
      return `Roster version ${event.version} published`;
    case 'retention-set':
      return event.days > 0 ? `Retention set to ${days(event.days)}` : "Retention set to the relay's default";
    case 'conversation-erased':
      return `Conversation ${toHex(event.conversationId).slice(0, 6)} erased`;
    case 'transcript-exported':
      return `Transcript of conversation ${toHex(event.conversationId).slice(0, 6)} exported`;
    case 'history-policy-set':
      return event.enabled
        ? 'Agents may now read conversations from before they joined'
        : 'Agents no longer get conversations from before they joined';
    case 'history-shared':
      return `Shared ${event.conversations === 1 ? '1 past conversation' : `${event.conversations} past conversations`} with ${event.name}'s device (${toHex(event.deviceId).slice(0, 8)}…)`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
