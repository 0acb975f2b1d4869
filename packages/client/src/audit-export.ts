import { toHex } from '@sealchat/protocol';
import type { AuditEvent } from './audit-entry.js';
import type { AuditLogEntry } from './audit-log.js';

/** The console's download of verified audit entries (docs/audit-log.md §Export). */

/** Quotes a name for the text export: no newline, control or bidi character can forge or reorder a line. */
function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function fieldsForExport(event: AuditEvent, id: (bytes: Uint8Array) => string, text: (s: string) => string) {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === 'action') continue;
    out[key] =
      value instanceof Uint8Array ? id(value) : typeof value === 'string' && key === 'name' ? text(value) : value;
  }
  return out;
}

/**
 * The console's export of verified entries: a JSON array (ids in hex, times as ISO 8601 and in
 * milliseconds), and plain text with one line per entry in which every name is quoted and escaped.
 */
export function exportAuditLog(entries: readonly AuditLogEntry[]): { json: string; text: string } {
  const json = entries.map((e) => ({
    index: e.index,
    at: e.at,
    time: new Date(e.at).toISOString(),
    action: e.event.action,
    ...fieldsForExport(e.event, toHex, (s) => s),
    signer: { name: e.signer.displayName, deviceId: toHex(e.signer.deviceId) },
  }));
  const lines = entries.map((e) => {
    const fields = Object.entries(fieldsForExport(e.event, toHex, quote))
      .map(([k, v]) => `${k}=${typeof v === 'number' && k === 'expiresAt' ? new Date(v).toISOString() : v}`)
      .join(' ');
    const by = `by ${quote(e.signer.displayName)} device=${toHex(e.signer.deviceId)}`;
    return `#${e.index} ${new Date(e.at).toISOString()} ${e.event.action}${fields ? ' ' + fields : ''} ${by}`;
  });
  return { json: JSON.stringify(json, null, 2), text: lines.map((l) => l + '\n').join('') };
}
