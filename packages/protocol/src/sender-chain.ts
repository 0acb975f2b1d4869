import { randomBytes } from './bytes.js';
import { Context } from './contexts.js';
import { ChainIndexError } from './errors.js';
import { hkdf } from './hkdf.js';

export const CHAIN_ID_LENGTH = 16;
export const CHAIN_SEED_LENGTH = 32;
const CHAIN_KEY_LENGTH = 32;
const AES_KEY_LENGTH = 32;
const IV_LENGTH = 12;

/** A per-message AES-256-GCM key and the nonce that goes with it. Each is used exactly once. */
export interface MessageKey {
  readonly index: number;
  readonly key: CryptoKey;
  readonly iv: Uint8Array<ArrayBuffer>;
}

/**
 * One sender's hash ratchet in one conversation (the Sender Keys shape):
 *   ck[0]   = HKDF(seed, salt = chainId, "chain-init")
 *   mk[i]   = HKDF(ck[i], salt = chainId, "message-key")  → AES-256-GCM key ‖ 96-bit IV
 *   ck[i+1] = HKDF(ck[i], salt = chainId, "chain-step")
 * The seed reaches each recipient inside an HPKE key share. Because the IV is derived with the key
 * and every key encrypts a single message, (key, IV) pairs never repeat.
 */
abstract class ChainState {
  protected chainKey: Uint8Array<ArrayBuffer> | undefined;
  protected nextIndex = 0;

  protected constructor(
    readonly chainId: Uint8Array<ArrayBuffer>,
    protected readonly seed: Uint8Array<ArrayBuffer>,
  ) {}

  protected async step(): Promise<MessageKey> {
    let chainKey = this.chainKey;
    if (!chainKey) {
      chainKey = await hkdf(this.seed, this.chainId, Context.chainInit, CHAIN_KEY_LENGTH);
      // The seed would re-derive every key of the chain: once ck[0] exists it is not needed again.
      this.seed.fill(0);
    }
    const [material, next] = await Promise.all([
      hkdf(chainKey, this.chainId, Context.messageKey, AES_KEY_LENGTH + IV_LENGTH),
      hkdf(chainKey, this.chainId, Context.chainStep, CHAIN_KEY_LENGTH),
    ]);
    const key = await crypto.subtle.importKey('raw', material.slice(0, AES_KEY_LENGTH), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    material.fill(0);
    chainKey.fill(0);
    this.chainKey = next;
    return { index: this.nextIndex++, key, iv: material.slice(AES_KEY_LENGTH) };
  }
}

/** The chain this device encrypts with. */
export class SendingChain extends ChainState {
  /** Starts a chain with a fresh random id and seed. */
  static create(): SendingChain {
    return new SendingChain(randomBytes(CHAIN_ID_LENGTH), randomBytes(CHAIN_SEED_LENGTH));
  }

  /** The seed, to be put into key shares. Only before the first message key: it is wiped then. */
  get chainSeed(): Uint8Array<ArrayBuffer> {
    if (this.chainKey) throw new Error('The chain seed is wiped once the chain has started');
    return this.seed;
  }

  /** How many message keys this chain has produced. */
  get used(): number {
    return this.nextIndex;
  }

  nextMessageKey(): Promise<MessageKey> {
    return this.step();
  }
}

export interface ReceivingChainOptions {
  /**
   * How many message keys may be derived ahead and held for out-of-order messages. Bounds the work a
   * forged high index can cause. Default 1000.
   */
  readonly maxSkip?: number;
}

/** Another device's chain, as this device decrypts it. */
export class ReceivingChain extends ChainState {
  private readonly skipped = new Map<number, MessageKey>();
  private readonly maxSkip: number;

  constructor(chainId: Uint8Array<ArrayBuffer>, seed: Uint8Array<ArrayBuffer>, options: ReceivingChainOptions = {}) {
    super(chainId, seed);
    this.maxSkip = options.maxSkip ?? 1000;
  }

  /**
   * Puts back a key taken for an envelope that then failed to decrypt, so a bad envelope cannot
   * use up the index of the good one.
   */
  giveBack(key: MessageKey): void {
    this.skipped.set(key.index, key);
  }

  /**
   * The key for message `index`, usable once: asking again for the same index fails.
   * @throws ChainIndexError for an index already used, or one more than `maxSkip` ahead.
   */
  async take(index: number): Promise<MessageKey> {
    const held = this.skipped.get(index);
    if (held) {
      this.skipped.delete(index);
      return held;
    }
    if (index < this.nextIndex) throw new ChainIndexError(`Message index ${index} was already used`);
    if (index - this.nextIndex > this.maxSkip) throw new ChainIndexError(`Message index ${index} is too far ahead`);
    for (;;) {
      const key = await this.step();
      if (key.index === index) return key;
      this.skipped.set(key.index, key);
      // Keep the held keys bounded too; the oldest go first (Map keeps insertion order).
      if (this.skipped.size > this.maxSkip) this.skipped.delete(this.skipped.keys().next().value!);
    }
  }
}
