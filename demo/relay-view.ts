import { keepRelayParam, relayUrls } from './demo-config.js';

keepRelayParam();
const status = document.querySelector<HTMLElement>('#status')!;
const body = document.querySelector<HTMLTableSectionElement>('#rows')!;

interface Row {
  conversationId: string;
  seq: number;
  clientMessageId: string;
  bytes: number;
  envelopeHex: string;
}

function parseRow(data: string): Row | undefined {
  const value: unknown = JSON.parse(data);
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof v['conversationId'] !== 'string' ||
    typeof v['seq'] !== 'number' ||
    typeof v['clientMessageId'] !== 'string' ||
    typeof v['bytes'] !== 'number' ||
    typeof v['envelopeHex'] !== 'string'
  ) {
    return undefined;
  }
  return v as unknown as Row;
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

const events = new EventSource(`${relayUrls().http}/demo/rows`);
events.addEventListener('open', () => (status.textContent = ''));
events.addEventListener('error', () => (status.textContent = 'Not connected to a relay in demo mode; retrying…'));
events.addEventListener('message', (event: MessageEvent<string>) => {
  const row = parseRow(event.data);
  if (!row) return;
  const tr = document.createElement('tr');
  tr.append(
    cell(row.conversationId),
    cell(String(row.seq)),
    cell(row.clientMessageId),
    cell(String(row.bytes)),
    cell(row.envelopeHex, 'hex'),
  );
  body.append(tr);
});
