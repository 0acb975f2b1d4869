import { utf8Decode, utf8Encode } from './bytes.js';
import { DecodeError } from './errors.js';

/**
 * The binary codec under every structure we sign or send: fixed-width big-endian integers and
 * u32-length-prefixed byte strings. One canonical encoding per value, so "bytes that were signed"
 * and "value that was decoded" can never disagree.
 */
export class ByteWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  u8(value: number): this {
    return this.push(Uint8Array.of(value));
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`u32 out of range: ${value}`);
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    return this.push(out);
  }

  /** Unsigned integers up to 2^53 - 1 (sequence numbers, millisecond timestamps). */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`u64 out of range: ${value}`);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(value));
    return this.push(out);
  }

  /** Exactly `length` bytes, no prefix: ids and keys of a fixed size. */
  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new RangeError(`Expected ${length} bytes, got ${bytes.length}`);
    return this.push(bytes);
  }

  bytes(bytes: Uint8Array): this {
    this.u32(bytes.length);
    return this.push(bytes);
  }

  string(text: string): this {
    return this.bytes(utf8Encode(text));
  }

  finish(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  private push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }
}

/** Reads what {@link ByteWriter} wrote. Every read is bounds-checked and throws {@link DecodeError}. */
export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly input: Uint8Array) {
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  u64(): number {
    this.need(8);
    const value = this.view.getBigUint64(this.offset);
    this.offset += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('Integer larger than 2^53 - 1');
    return Number(value);
  }

  fixed(length: number): Uint8Array<ArrayBuffer> {
    this.need(length);
    const out = this.input.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  bytes(maxLength = Number.MAX_SAFE_INTEGER): Uint8Array<ArrayBuffer> {
    const length = this.u32();
    if (length > maxLength) throw new DecodeError(`Field of ${length} bytes exceeds the limit of ${maxLength}`);
    return this.fixed(length);
  }

  string(maxBytes?: number): string {
    const bytes = this.bytes(maxBytes);
    try {
      return utf8Decode(bytes);
    } catch (cause) {
      throw new DecodeError('Invalid UTF-8 in a string field', { cause });
    }
  }

  /** Rejects trailing bytes: a structure decodes from exactly its canonical encoding. */
  end(): void {
    if (this.offset !== this.input.length) {
      throw new DecodeError(`${this.input.length - this.offset} unexpected trailing bytes`);
    }
  }

  private need(length: number): void {
    if (this.offset + length > this.input.length) throw new DecodeError('Unexpected end of input');
  }
}
