import {
  CLIENT_MESSAGE_ID_LENGTH,
  fromHex,
  randomBytes,
  toHex,
  type Content,
  type ControlContent,
} from '@sealchat/protocol';
import { ConnectionLostError, RelayRequestError } from './errors.js';
import type { RelayConnection } from './relay-connection.js';

/** Relay refusals that say "not now" rather than "never": wait for the reconnect or a retry. */
const TRANSIENT_CODES = new Set(['SEALCHAT_E_UNAVAILABLE', 'SEALCHAT_E_INTERNAL']);

/**
 * Something to send, as the user meant it: plaintext content, not yet sealed. Items are sealed only
 * when their turn comes (see {@link Outbox}), so they can wait offline, and across a reload, without
 * holding keys of a chain that may be gone by then.
 */
export interface OutboxItem {
  /** Client message id (hex): the relay dedupes the payload envelope by it; the ChatMessage id when shown. */
  readonly id: string;
  /** The conversation (hex); undefined means "the visitor's conversation", opened when first needed. */
  readonly conversationId: string | undefined;
  /** Control content is only ever queued (and sealed) by an AgentSession. */
  readonly content: Content | ControlContent;
}

/** An item sealed for its turn: the envelopes to post in order (key shares first, the payload last). */
export interface SealedItem {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  readonly envelopes: readonly Uint8Array<ArrayBuffer>[];
}

export interface OutboxOptions {
  /** How long a message may wait for its ack before it shows as failed (it keeps trying). Default 15 s. */
  readonly sendTimeoutMs?: number;
  /** Pause before sending again after the relay said SEALCHAT_E_RATE_LIMITED. Default 1 s. */
  readonly rateLimitPauseMs?: number;
}

export interface OutboxListener {
  /** Seals an item now, in queue order. May open the conversation. Throwing fails the item like a refusal. */
  seal(item: OutboxItem): Promise<SealedItem>;
  /** The relay stored the item's payload under `seq`. */
  sent(item: OutboxItem, conversationId: Uint8Array<ArrayBuffer>, seq: number): void;
  /** The item is late (or refused); it stays queued until {@link Outbox.retry} or a reconnect. */
  failed(item: OutboxItem): void;
  /** The set of items waiting changed (to persist them). */
  changed?(items: readonly OutboxItem[]): void;
}

interface Entry {
  readonly item: OutboxItem;
  /** Sealed once, then posted (and re-posted) byte for byte: a retry never seals twice. */
  sealed: SealedItem | undefined;
  /** Client message ids of the sealed envelopes: key shares get random ones, the payload the item's id. */
  postIds: string[];
  /** Envelopes of `sealed` already acked. */
  acked: number;
  deadline: number;
}

/**
 * Posts items strictly in order, one envelope at a time, so a key share is always stored before the
 * messages that need it, and envelopes are sealed in the order they are stored (each sender's
 * numbered hash chain then has no holes). An item leaves only when the relay acked its payload
 * (after its durable commit). While the connection is down — or before {@link resume} says the
 * session is caught up — items wait; past the timeout their messages show as failed but stay queued,
 * and {@link retry} (or a reconnect) sends them again under the same client message ids.
 * A refusal from the relay stops the queue (later items may need the refused one) and marks
 * everything in it failed until {@link retry}.
 */
export class Outbox {
  private readonly _queue: Entry[] = [];
  private _pumping = false;
  private _halted = false;
  /** Set by {@link resume} once the session re-attached; cleared when the socket drops. */
  private _ready = false;
  private readonly _sendTimeoutMs: number;
  private _timer: ReturnType<typeof setInterval> | undefined;
  private _backoff: ReturnType<typeof setTimeout> | undefined;
  private readonly _rateLimitPauseMs: number;

  constructor(
    private readonly _connection: RelayConnection,
    private readonly _listener: OutboxListener,
    options: OutboxOptions = {},
  ) {
    this._sendTimeoutMs = options.sendTimeoutMs ?? 15_000;
    this._rateLimitPauseMs = options.rateLimitPauseMs ?? 1000;
    this._connection.addEventListener('state', () => {
      if (this._connection.state !== 'open') this._ready = false;
    });
  }

  static newClientMessageId(): string {
    return toHex(randomBytes(CLIENT_MESSAGE_ID_LENGTH));
  }

  /** Number of items not yet acked. */
  get size(): number {
    return this._queue.length;
  }

  /** The items waiting, in order. */
  get items(): readonly OutboxItem[] {
    return this._queue.map((e) => e.item);
  }

  /** Whether the session is attached and items would go out now. */
  get sending(): boolean {
    return this._ready && this._connection.state === 'open';
  }

  enqueue(...items: readonly OutboxItem[]): void {
    const deadline = Date.now() + this._sendTimeoutMs;
    for (const item of items) this._queue.push({ item, sealed: undefined, postIds: [], acked: 0, deadline });
    this._listener.changed?.(this.items);
    this._ensureTimer();
    void this._pump();
  }

  /** Sends everything queued again now, with fresh deadlines. */
  retry(): void {
    this._halted = false;
    const deadline = Date.now() + this._sendTimeoutMs;
    for (const entry of this._queue) entry.deadline = deadline;
    this._ensureTimer();
    void this._pump();
  }

  /** Call when the connection is back and conversations are re-attached (caught up). */
  resume(): void {
    this._ready = true;
    void this._pump();
  }

  /**
   * Drops the items of a conversation that no longer exists (deleted); `undefined` drops those still
   * waiting for the visitor's conversation to be opened.
   */
  discard(conversationId: string | undefined): void {
    for (let i = this._queue.length - 1; i >= 0; i--) {
      const entry = this._queue[i]!;
      const id = entry.sealed ? toHex(entry.sealed.conversationId) : entry.item.conversationId;
      if (id === conversationId) this._queue.splice(i, 1);
    }
    this._listener.changed?.(this.items);
  }

  /**
   * Removes an item not sealed yet, because it turned out to be stored already (a reload lost its
   * ack, and the backlog showed it). Returns whether it was waiting.
   */
  drop(id: string): boolean {
    const index = this._queue.findIndex((e) => e.item.id === id && !e.sealed);
    if (index >= 0) {
      this._queue.splice(index, 1);
      this._listener.changed?.(this.items);
    }
    return index >= 0;
  }

  stop(): void {
    clearTimeout(this._backoff);
    clearInterval(this._timer);
    this._timer = undefined;
  }

  private async _pump(): Promise<void> {
    if (this._pumping) return;
    this._pumping = true;
    try {
      while (!this._halted && this._queue.length > 0 && this.sending) {
        const entry = this._queue[0]!;
        try {
          if (!entry.sealed) {
            entry.sealed = await this._listener.seal(entry.item);
            entry.postIds = entry.sealed.envelopes.map((_, i, all) =>
              i === all.length - 1 ? entry.item.id : Outbox.newClientMessageId(),
            );
          }
          const { conversationId, envelopes } = entry.sealed;
          const answer = await this._connection.request({
            kind: 'post',
            conversationId,
            clientMessageId: fromHex(entry.postIds[entry.acked]!),
            envelope: envelopes[entry.acked]!,
          });
          if (answer.kind !== 'ack') throw new ConnectionLostError(`Unexpected answer ${answer.kind} to a post`);
          entry.acked++;
          if (entry.acked < envelopes.length) continue;
          this._queue.shift();
          this._listener.changed?.(this.items);
          this._listener.sent(entry.item, conversationId, answer.seq);
        } catch (error) {
          // Transient: the socket dropped, or the relay is shutting down (it closes with 1001 next).
          // The entry stays first in line and goes again after the reconnect.
          if (error instanceof ConnectionLostError) break;
          if (error instanceof RelayRequestError && error.code === 'SEALCHAT_E_RATE_LIMITED') {
            // Sending too fast: the entry stays first in line and goes again after a pause.
            clearTimeout(this._backoff);
            this._backoff = setTimeout(() => void this._pump(), this._rateLimitPauseMs);
            break;
          }
          if (error instanceof RelayRequestError && TRANSIENT_CODES.has(error.code)) break;
          this._halted = true;
          for (const e of this._queue) this._listener.failed(e.item);
        }
      }
    } finally {
      this._pumping = false;
    }
  }

  private _ensureTimer(): void {
    if (this._timer) return;
    this._timer = setInterval(() => {
      const now = Date.now();
      for (const entry of this._queue) {
        if (entry.deadline <= now) {
          entry.deadline = Number.POSITIVE_INFINITY;
          this._listener.failed(entry.item);
        }
      }
      if (this._queue.length === 0) this.stop();
    }, 500);
  }
}
