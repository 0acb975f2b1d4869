import { ByteReader, ByteWriter } from './codec.js';
import { DecodeError } from './errors.js';
import { pad, unpad } from './padding.js';

/** Longest chat text, in UTF-8 bytes. Keeps every message envelope well under the relay's frame limit. */
export const MAX_TEXT_BYTES = 16 * 1024;

/** What is inside an encrypted message. Text only: a receiver renders it as text, never as HTML. */
export interface MessageContent {
  readonly kind: 'text';
  readonly text: string;
  /** The sender's clock, in milliseconds since the Unix epoch. */
  readonly sentAt: number;
}

const KIND_TEXT = 1;

/** Encodes and Padmé-pads message content, ready to be sealed. */
export function encodeContent(content: MessageContent): Uint8Array<ArrayBuffer> {
  const bytes = new ByteWriter().u8(KIND_TEXT).u64(content.sentAt).string(content.text).finish();
  if (bytes.length > MAX_TEXT_BYTES + 13) throw new RangeError(`Message text is longer than ${MAX_TEXT_BYTES} bytes`);
  return pad(bytes);
}

/** @throws DecodeError when the decrypted bytes are not valid content. */
export function decodeContent(padded: Uint8Array): MessageContent {
  const r = new ByteReader(unpad(padded));
  const kind = r.u8();
  if (kind !== KIND_TEXT) throw new DecodeError(`Unknown content kind ${kind}`);
  const sentAt = r.u64();
  const text = r.string(MAX_TEXT_BYTES);
  r.end();
  return { kind: 'text', text, sentAt };
}
