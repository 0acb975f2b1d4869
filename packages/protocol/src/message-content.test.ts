import { describe, expect, it } from 'vitest';
import { EnvelopeType } from './envelope.js';
import { DecodeError } from './errors.js';
import {
  MAX_FORM_FIELDS,
  decodeContent,
  decodeNote,
  encodeContent,
  encodeNote,
  envelopeTypeOf,
  MAX_TEXT_BYTES,
  textOf,
  type MessageChainContent,
} from './message-content.js';
import { pad } from './padding.js';

const head = (n: number, senderSeq: number) => ({
  deviceId: new Uint8Array(16).fill(n),
  senderSeq,
  digest: new Uint8Array(32).fill(n + 100),
});

const samples: MessageChainContent[] = [
  { kind: 'text', text: 'Hello, Ünïcødé 👋', sentAt: 1_700_000_000_000 },
  {
    kind: 'form',
    fields: [
      { name: 'name', value: 'Ana' },
      { name: 'email', value: 'ana@example.org' },
    ],
    sentAt: 2,
  },
  { kind: 'receipt', status: 'read', heads: [head(1, 41)], sentAt: 3 },
  { kind: 'receipt', status: 'delivered', heads: [head(2, 2 ** 32 - 1), head(3, 0)], sentAt: 4 },
  { kind: 'typing', sentAt: 5 },
];

describe('message content', () => {
  it('round-trips every kind in its own envelope type', () => {
    for (const content of samples) {
      expect(decodeContent(encodeContent(content), envelopeTypeOf(content))).toEqual(content);
    }
  });

  it('refuses content in an envelope of another type (a receipt cannot pose as a message)', () => {
    const receipt = encodeContent({ kind: 'receipt', status: 'read', heads: [head(1, 1)], sentAt: 1 });
    expect(() => decodeContent(receipt, EnvelopeType.message)).toThrow(DecodeError);
    const text = encodeContent({ kind: 'text', text: 'hi', sentAt: 1 });
    expect(() => decodeContent(text, EnvelopeType.typing)).toThrow(DecodeError);
    expect(() => textOf(decodeContent(encodeContent(samples[1]!)))).toThrow(DecodeError);
  });

  it('a note is text content (kind 1) in a note envelope (type 7), and only there', () => {
    const note = { kind: 'note', text: 'VIP — refund approved ✓', sentAt: 7 } as const;
    const bytes = encodeNote(note);
    expect(decodeNote(bytes)).toEqual(note);
    // The same bytes as the text message: only the envelope type and the chain tell them apart.
    expect(bytes).toEqual(encodeContent({ kind: 'text', text: note.text, sentAt: 7 }));
    // decodeContent never reads a note (a note cannot be shown as a message by mistake) …
    expect(() => decodeContent(bytes, EnvelopeType.note)).toThrow(DecodeError);
    // … and a note carries text only.
    for (const other of samples.filter((c) => c.kind !== 'text'))
      expect(() => decodeNote(encodeContent(other))).toThrow(DecodeError);
    expect(() => encodeNote({ kind: 'note', text: 'x'.repeat(MAX_TEXT_BYTES + 1), sentAt: 1 })).toThrow(RangeError);
  });

  it('refuses unknown kinds, unknown receipt statuses and oversized forms', () => {
    expect(() => decodeContent(pad(Uint8Array.of(9, 0, 0, 0, 0, 0, 0, 0, 1)))).toThrow(DecodeError);
    const receipt = (status: number, n: number) => {
      const bytes = new Uint8Array(11 + n * 52);
      bytes.set([6, 0, 0, 0, 0, 0, 0, 0, 1, status, n]);
      return pad(bytes);
    };
    expect(decodeContent(receipt(2, 1), EnvelopeType.receipt)).toMatchObject({ status: 'read' });
    expect(() => decodeContent(receipt(7, 1), EnvelopeType.receipt)).toThrow(DecodeError);
    expect(() => decodeContent(receipt(1, 0), EnvelopeType.receipt)).toThrow(DecodeError);
    expect(() => decodeContent(receipt(1, 17), EnvelopeType.receipt)).toThrow(DecodeError);
    expect(() => encodeContent({ kind: 'receipt', status: 'read', heads: [], sentAt: 1 })).toThrow(RangeError);
    // Kind 3, the receipt by relay sequence number that a relay could renumber, is retired.
    const retired = pad(Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1));
    expect(() => decodeContent(retired, EnvelopeType.receipt)).toThrow(DecodeError);
    const fields = Array.from({ length: MAX_FORM_FIELDS + 1 }, (_, i) => ({ name: `f${i}`, value: 'x' }));
    expect(() => encodeContent({ kind: 'form', fields, sentAt: 1 })).toThrow(RangeError);
    expect(() => encodeContent({ kind: 'form', fields: [{ name: 'n'.repeat(65), value: '' }], sentAt: 1 })).toThrow(
      RangeError,
    );
  });
});
