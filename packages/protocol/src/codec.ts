import { utf8Decode, utf8Encode } from './bytes.js';
import { DecodeError } from './errors.js';

/**
 * The binary codec under every structure we sign or send: fixed-width big-endian integers and
 * u32-length-prefixed byte strings. One canonical encoding per value, so "bytes that were signed"
 * and "value that was decoded" can never disagree.
 */
export class ByteWriter {
  private _chunks: Uint8Array[] = [];
  private _length = 0;

  /** @throws RangeError unless 0 <= value <= 255: `Uint8Array.of` would silently wrap 256 to 0. */
  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`u8 out of range: ${value}`);
    return this._push(Uint8Array.of(value));
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`u32 out of range: ${value}`);
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    return this._push(out);
  }

  /** Unsigned integers up to 2^53 - 1 (sequence numbers, millisecond timestamps). */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`u64 out of range: ${value}`);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(value));
    return this._push(out);
  }

  /** Exactly `length` bytes, no prefix: ids and keys of a fixed size. */
  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new RangeError(`Expected ${length} bytes, got ${bytes.length}`);
    return this._push(bytes);
  }

  bytes(bytes: Uint8Array): this {
    this.u32(bytes.length);
    return this._push(bytes);
  }

  string(text: string): this {
    return this.bytes(utf8Encode(text));
  }

  finish(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this._length);
    let offset = 0;
    for (const chunk of this._chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  private _push(bytes: Uint8Array): this {
    this._chunks.push(bytes);
    this._length += bytes.length;
    return this;
  }
}

/** Reads what {@link ByteWriter} wrote. Every read is bounds-checked and throws {@link DecodeError}. */
export class ByteReader {
  private _offset = 0;
  private readonly _view: DataView;

  constructor(private readonly _input: Uint8Array) {
    this._view = new DataView(_input.buffer, _input.byteOffset, _input.byteLength);
  }

  get position(): number {
    return this._offset;
  }

  u8(): number {
    this._need(1);
    return this._view.getUint8(this._offset++);
  }

  u32(): number {
    this._need(4);
    const value = this._view.getUint32(this._offset);
    this._offset += 4;
    return value;
  }

  u64(): number {
    this._need(8);
    const value = this._view.getBigUint64(this._offset);
    this._offset += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('Integer larger than 2^53 - 1');
    return Number(value);
  }

  fixed(length: number): Uint8Array<ArrayBuffer> {
    this._need(length);
    const out = this._input.slice(this._offset, this._offset + length);
    this._offset += length;
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
    if (this._offset !== this._input.length) {
      throw new DecodeError(`${this._input.length - this._offset} unexpected trailing bytes`);
    }
  }

  private _need(length: number): void {
    if (this._offset + length > this._input.length) throw new DecodeError('Unexpected end of input');
  }
}
