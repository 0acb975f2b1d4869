import { CLIENT_MESSAGE_ID_LENGTH, fromHex, randomBytes, toHex } from '@sealchat/protocol';
import { ConnectionLostError, RelayRequestError } from './errors.js';

/** Relay refusals that say "not now" rather than "never": wait for the reconnect or a retry. */
const TRANSIENT_CODES = new Set(['SEALCHAT_E_UNAVAILABLE', 'SEALCHAT_E_INTERNAL']);
import type { RelayConnection } from './relay-connection.js';

/** One envelope waiting for the relay's ack. */
interface Entry {
  readonly conversationId: Uint8Array<ArrayBuffer>;
  /** Hex; the relay dedupes retries by it, so resending after a lost ack is safe. */
  readonly clientMessageId: string;
  readonly envelope: Uint8Array<ArrayBuffer>;
  /** The chat message this envelope carries, if any (key shares carry none). */
  readonly messageId: string | undefined;
  deadline: number;
}

export interface OutboxOptions {
  /** How long a message may wait for its ack before it shows as failed (it keeps trying). Default 15 s. */
  readonly sendTimeoutMs?: number;
  /** Pause before sending again after the relay said SEALCHAT_E_RATE_LIMITED. Default 1 s. */
  readonly rateLimitPauseMs?: number;
}

export interface OutboxListener {
  sent(messageId: string, conversationId: Uint8Array<ArrayBuffer>, seq: number): void;
  failed(messageId: string, conversationId: Uint8Array<ArrayBuffer>): void;
}

/**
 * Posts envelopes strictly in order, one at a time, so a key share is always stored before the
 * messages that need it. An entry leaves only when the relay acked it (after its durable commit).
 * While the connection is down entries wait; past the timeout their messages show as failed but
 * stay queued, and {@link retry} (or a reconnect) sends them again under the same client message id.
 * A refusal from the relay stops the queue (later entries may need the refused one) and marks
 * everything in it failed until {@link retry}.
 */
export class Outbox {
  private readonly queue: Entry[] = [];
  private pumping = false;
  private halted = false;
  private readonly sendTimeoutMs: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private backoff: ReturnType<typeof setTimeout> | undefined;
  private readonly rateLimitPauseMs: number;

  constructor(
    private readonly connection: RelayConnection,
    private readonly listener: OutboxListener,
    options: OutboxOptions = {},
  ) {
    this.sendTimeoutMs = options.sendTimeoutMs ?? 15_000;
    this.rateLimitPauseMs = options.rateLimitPauseMs ?? 1000;
  }

  static newClientMessageId(): string {
    return toHex(randomBytes(CLIENT_MESSAGE_ID_LENGTH));
  }

  /** Number of envelopes not yet acked. */
  get size(): number {
    return this.queue.length;
  }

  enqueue(
    conversationId: Uint8Array<ArrayBuffer>,
    items: readonly { envelope: Uint8Array<ArrayBuffer>; messageId?: string }[],
  ): void {
    const deadline = Date.now() + this.sendTimeoutMs;
    for (const item of items) {
      this.queue.push({
        conversationId,
        clientMessageId: item.messageId ?? Outbox.newClientMessageId(),
        envelope: item.envelope,
        messageId: item.messageId,
        deadline,
      });
    }
    this.ensureTimer();
    void this.pump();
  }

  /** Sends everything queued again now, with fresh deadlines. */
  retry(): void {
    this.halted = false;
    const deadline = Date.now() + this.sendTimeoutMs;
    for (const entry of this.queue) entry.deadline = deadline;
    this.ensureTimer();
    void this.pump();
  }

  /** Call when the connection is back and conversations are re-attached. */
  resume(): void {
    void this.pump();
  }

  stop(): void {
    clearTimeout(this.backoff);
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.halted && this.queue.length > 0 && this.connection.state === 'open') {
        const entry = this.queue[0]!;
        try {
          const answer = await this.connection.request({
            kind: 'post',
            conversationId: entry.conversationId,
            clientMessageId: fromHex(entry.clientMessageId),
            envelope: entry.envelope,
          });
          if (answer.kind !== 'ack') throw new ConnectionLostError(`Unexpected answer ${answer.kind} to a post`);
          this.queue.shift();
          if (entry.messageId) this.listener.sent(entry.messageId, entry.conversationId, answer.seq);
        } catch (error) {
          // Transient: the socket dropped, or the relay is shutting down (it closes with 1001 next).
          // The entry stays first in line and goes again after the reconnect.
          if (error instanceof ConnectionLostError) break;
          if (error instanceof RelayRequestError && error.code === 'SEALCHAT_E_RATE_LIMITED') {
            // Sending too fast: the entry stays first in line and goes again after a pause.
            clearTimeout(this.backoff);
            this.backoff = setTimeout(() => void this.pump(), this.rateLimitPauseMs);
            break;
          }
          if (error instanceof RelayRequestError && TRANSIENT_CODES.has(error.code)) break;
          this.halted = true;
          for (const e of this.queue) if (e.messageId) this.listener.failed(e.messageId, e.conversationId);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const entry of this.queue) {
        if (entry.messageId && entry.deadline <= now) {
          entry.deadline = Number.POSITIVE_INFINITY;
          this.listener.failed(entry.messageId, entry.conversationId);
        }
      }
      if (this.queue.length === 0) this.stop();
    }, 500);
  }
}
