import { ByteReader, ByteWriter } from './codec.js';
import { EnvelopeType, type MessageChainType } from './envelope.js';
import { DecodeError } from './errors.js';
import { pad, unpad } from './padding.js';

/** Longest chat text, in UTF-8 bytes. Keeps every message envelope well under the relay's frame limit. */
export const MAX_TEXT_BYTES = 16 * 1024;
/** Most fields in one form (pre-chat answers), and the longest name and value, in UTF-8 bytes. */
export const MAX_FORM_FIELDS = 16;
export const MAX_FIELD_NAME_BYTES = 64;
export const MAX_FIELD_VALUE_BYTES = 1024;
/** Most senders one receipt names (docs/protocol.md §7). */
export const MAX_RECEIPT_HEADS = 16;

/** A chat message. Text only: a receiver renders it as text, never as HTML. */
export interface MessageContent {
  readonly kind: 'text';
  readonly text: string;
  /** The sender's clock, in milliseconds since the Unix epoch. */
  readonly sentAt: number;
}

/** Answers to a form (the widget's pre-chat form), as name/value pairs in the order asked. Text only. */
export interface FormContent {
  readonly kind: 'form';
  readonly fields: readonly { readonly name: string; readonly value: string }[];
  readonly sentAt: number;
}

/**
 * "I hold every envelope of `deviceId` numbered 0 to `senderSeq`, the last one with digest
 * `digest`" (docs/protocol.md §7): a place in that sender's hash chain, which the relay cannot
 * renumber, unlike its own sequence numbers.
 */
export interface ReceiptHead {
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly senderSeq: number;
  /** The envelope digest (32 bytes) at `senderSeq`. */
  readonly digest: Uint8Array<ArrayBuffer>;
}

/**
 * "I have received (or read) these senders' envelopes up to these heads". Sent in a receipt
 * envelope; it names senders of the other side (visitor ↔ agents), never the sender's own. The
 * sender of a named envelope marks its messages only when the head's digest is exactly its own.
 */
export interface ReceiptContent {
  readonly kind: 'receipt';
  readonly status: 'delivered' | 'read';
  /** One to {@link MAX_RECEIPT_HEADS} heads, one per sender. */
  readonly heads: readonly ReceiptHead[];
  readonly sentAt: number;
}

/** "I am typing" — valid for a few seconds after `sentAt` (the receiver decides how long). */
export interface TypingContent {
  readonly kind: 'typing';
  readonly sentAt: number;
}

/**
 * A private note: text an agent writes inside a conversation for the roster's readers (and, in
 * archive mode, the archive), never for the visitor. Its plaintext is text content (kind 1), sealed
 * in a note envelope (type 7) on the sender's note chain, whose key shares never go to the visitor
 * (docs/protocol.md §7). Encoded by {@link encodeNote} and {@link decodeNote}, not {@link encodeContent}.
 */
export interface NoteContent {
  readonly kind: 'note';
  readonly text: string;
  readonly sentAt: number;
}

/** What travels on a sender's message chain, which the visitor reads: everything but notes. */
export type MessageChainContent = MessageContent | FormContent | ReceiptContent | TypingContent;

/** Everything a device may send in a conversation (control envelopes aside). */
export type Content = MessageChainContent | NoteContent;

const KIND_TEXT = 1;
const KIND_FORM = 2;
/**
 * Kind 3 named relay sequence numbers, which the relay can renumber (issue 11, finding 4); it is
 * retired and refused. Receipts by sender heads are kind 6.
 */
const KIND_RECEIPT = 6;
const KIND_TYPING = 4;
const RECEIPT_STATUS = ['delivered', 'read'] as const;

/**
 * The envelope type each content kind travels in; any other pairing is refused when decoding. A
 * note travels in type 7 ({@link encodeNote}).
 */
export function envelopeTypeOf(content: MessageChainContent): MessageChainType {
  return content.kind === 'receipt'
    ? EnvelopeType.receipt
    : content.kind === 'typing'
      ? EnvelopeType.typing
      : EnvelopeType.message;
}

/**
 * Encodes and Padmé-pads content, ready to be sealed in an envelope of type {@link envelopeTypeOf}.
 * @throws RangeError when text, a form or a field is over its limit.
 */
export function encodeContent(content: MessageChainContent): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter();
  switch (content.kind) {
    case 'text':
      if (utf8Length(content.text) > MAX_TEXT_BYTES)
        throw new RangeError(`Message text is longer than ${MAX_TEXT_BYTES} bytes`);
      w.u8(KIND_TEXT).u64(content.sentAt).string(content.text);
      break;
    case 'form':
      if (content.fields.length > MAX_FORM_FIELDS) throw new RangeError(`A form has at most ${MAX_FORM_FIELDS} fields`);
      w.u8(KIND_FORM).u64(content.sentAt).u8(content.fields.length);
      for (const { name, value } of content.fields) {
        if (utf8Length(name) > MAX_FIELD_NAME_BYTES || utf8Length(value) > MAX_FIELD_VALUE_BYTES)
          throw new RangeError(
            `A form field name is at most ${MAX_FIELD_NAME_BYTES} bytes, a value ${MAX_FIELD_VALUE_BYTES}`,
          );
        w.string(name).string(value);
      }
      break;
    case 'receipt':
      if (content.heads.length < 1 || content.heads.length > MAX_RECEIPT_HEADS)
        throw new RangeError(`A receipt names 1 to ${MAX_RECEIPT_HEADS} heads`);
      w.u8(KIND_RECEIPT)
        .u64(content.sentAt)
        .u8(RECEIPT_STATUS.indexOf(content.status) + 1)
        .u8(content.heads.length);
      for (const head of content.heads) w.fixed(head.deviceId, 16).u32(head.senderSeq).fixed(head.digest, 32);
      break;
    case 'typing':
      w.u8(KIND_TYPING).u64(content.sentAt);
      break;
  }
  return pad(w.finish());
}

/**
 * Decodes the padded plaintext of an envelope of type `type` (2–4; a note, type 7, decodes with
 * {@link decodeNote}).
 * @throws DecodeError when the bytes are not valid content, or not content that type may carry.
 */
export function decodeContent(padded: Uint8Array, type: EnvelopeType = EnvelopeType.message): MessageChainContent {
  const r = new ByteReader(unpad(padded));
  const kind = r.u8();
  const sentAt = r.u64();
  let content: MessageChainContent;
  if (kind === KIND_TEXT) content = { kind: 'text', text: r.string(MAX_TEXT_BYTES), sentAt };
  else if (kind === KIND_FORM) {
    const count = r.u8();
    if (count > MAX_FORM_FIELDS) throw new DecodeError(`A form has at most ${MAX_FORM_FIELDS} fields`);
    const fields = [];
    for (let i = 0; i < count; i++)
      fields.push({ name: r.string(MAX_FIELD_NAME_BYTES), value: r.string(MAX_FIELD_VALUE_BYTES) });
    content = { kind: 'form', fields, sentAt };
  } else if (kind === KIND_RECEIPT) {
    const status = RECEIPT_STATUS[r.u8() - 1];
    if (!status) throw new DecodeError('Unknown receipt status');
    const count = r.u8();
    if (count < 1 || count > MAX_RECEIPT_HEADS)
      throw new DecodeError(`A receipt names 1 to ${MAX_RECEIPT_HEADS} heads`);
    const heads: ReceiptHead[] = [];
    for (let i = 0; i < count; i++) heads.push({ deviceId: r.fixed(16), senderSeq: r.u32(), digest: r.fixed(32) });
    content = { kind: 'receipt', status, heads, sentAt };
  } else if (kind === KIND_TYPING) content = { kind: 'typing', sentAt };
  else throw new DecodeError(`Unknown content kind ${kind}`);
  r.end();
  if (envelopeTypeOf(content) !== type) throw new DecodeError(`Content of kind ${content.kind} in the wrong envelope`);
  return content;
}

/**
 * Encodes and pads a note for a note envelope (type 7): the same bytes as a text message with its
 * text and time. Only the envelope type and the chain tell them apart.
 * @throws RangeError when the text is over {@link MAX_TEXT_BYTES}.
 */
export function encodeNote(note: NoteContent): Uint8Array<ArrayBuffer> {
  return encodeContent({ kind: 'text', text: note.text, sentAt: note.sentAt });
}

/**
 * Decodes the padded plaintext of a note envelope (type 7): text content (kind 1) and nothing else.
 * @throws DecodeError when the bytes are not valid text content.
 */
export function decodeNote(padded: Uint8Array): NoteContent {
  const content = decodeContent(padded, EnvelopeType.message);
  if (content.kind !== 'text') throw new DecodeError(`Content of kind ${content.kind} in a note`);
  return { kind: 'note', text: content.text, sentAt: content.sentAt };
}

/** The text of decoded content that must be a text message (tests and tools). @throws DecodeError otherwise. */
export function textOf(content: Content): string {
  if (content.kind !== 'text') throw new DecodeError(`Expected a text message, got ${content.kind}`);
  return content.text;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
