import type { ConversationSummary } from '@sealchat/protocol';
import type { StoredRecord } from './store.js';

/**
 * What one relay tells the others after a commit. The database stays the durable stream (Centrifugo's
 * model, docs/deploy.md §Scale-out): an event that never arrives costs latency, not data, because a
 * relay that notices a gap, or whose broker connection came back, repairs from the store by seq.
 */
export type FanoutEvent =
  /** A record committed (sent whole: receivers push it without a database read). */
  | { readonly kind: 'record'; readonly record: StoredRecord }
  /** Records up to `seq` are committed; the receiver fetches what it lacks from the store. */
  | { readonly kind: 'committed'; readonly conversationId: Uint8Array<ArrayBuffer>; readonly seq: number }
  | {
      readonly kind: 'conversation-created';
      readonly orgId: Uint8Array<ArrayBuffer>;
      readonly conversation: ConversationSummary;
    }
  | {
      readonly kind: 'conversation-deleted';
      readonly conversationId: Uint8Array<ArrayBuffer>;
      /** Undefined when the deleting relay did not know it (retention sweep of an uncached conversation). */
      readonly orgId: Uint8Array<ArrayBuffer> | undefined;
    }
  /** A new roster is stored: receivers re-read and verify it, then revoke sockets of removed devices. */
  | { readonly kind: 'roster'; readonly orgId: Uint8Array<ArrayBuffer>; readonly version: number }
  /**
   * A history grant is stored for this device and conversation: receivers holding the device's
   * sockets read it from the store and push it. The grant itself does not cross the broker.
   */
  | {
      readonly kind: 'history-granted';
      readonly orgId: Uint8Array<ArrayBuffer>;
      readonly deviceId: Uint8Array<ArrayBuffer>;
      readonly conversationId: Uint8Array<ArrayBuffer>;
    };

/** The relay's side of a fan-out: what it does with events from other relays. */
export interface FanoutSink {
  /** An event another relay published, in its publish order. */
  deliver(event: FanoutEvent): void;
  /**
   * Events may have been lost (the broker connection dropped and is back): every live subscription
   * is repaired from the store, and watchers are told of conversations created since `since` (ms).
   */
  resync(since: number): void;
}

/** How relays tell each other about commits. Publishing never throws and never waits. */
export interface Fanout {
  /** `memory` or `redis`, for logs and metrics. */
  readonly kind: string;
  /** Starts receiving; resolves once subscribed (or at once for the in-process fan-out). */
  start(sink: FanoutSink): Promise<void>;
  /** Tells the other relays; a no-op when there are none. */
  publish(event: FanoutEvent): void;
  /** True while events flow both ways (always, in process). */
  connected(): boolean;
  close(): Promise<void>;
}

/** One relay process: local fan-out is all there is, so publishing is a no-op. The default. */
export class InProcessFanout implements Fanout {
  readonly kind = 'memory';
  start(): Promise<void> {
    return Promise.resolve();
  }
  publish(): void {
    // Nothing to tell: this process delivered locally already.
  }
  connected(): boolean {
    return true;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
