import { randomBytes } from 'node:crypto';
import { CHALLENGE_LENGTH } from '@sealchat/protocol';
import type { WebSocket } from 'ws';
import type { TokenBucket } from './limits.js';
import type { PresenceStatus } from './presence.js';

/** Per-conversation delivery state of one socket. */
export interface Subscription {
  /**
   * Highest seq sent on this socket. While catching up it is the read cursor; once live, fan-out of
   * a record at or below it is skipped, so none is sent twice.
   */
  lastSent: number;
  /** False while stored records are still being paged out; fan-out leaves the socket to the pager. */
  live: boolean;
  /** Set when a commit beyond `lastSent` was announced while not live: the pager makes another pass. */
  stale: boolean;
  /** Subscribed with a revision-2 frame, so it may be told `conversation-deleted`. */
  readonly notify: boolean;
}

export interface AgentIdentity {
  readonly orgKey: string;
  readonly deviceId: Uint8Array<ArrayBuffer>;
}

/** One WebSocket and what it has proven. Its peer address stays in memory, for limits only. */
export class Connection {
  /** Random, for correlating log lines; never the peer's address. */
  readonly id = randomBytes(8).toString('hex');
  readonly challenge = new Uint8Array(randomBytes(CHALLENGE_LENGTH));
  agent: AgentIdentity | undefined;
  presence: PresenceStatus | undefined;
  /** Wire feature revision the client announced with `hello`; 1 until it does. */
  revision = 1;
  readonly subscriptions = new Map<string, Subscription>();
  /** Conversations whose capability this socket has shown (or received by opening them). */
  readonly capabilities = new Set<string>();
  /** Organisations this socket counts against (`maxConnectionsPerOrg`), origin already checked. */
  readonly orgs = new Set<string>();
  /** Organisations whose presence this socket watches. */
  readonly presenceWatches = new Set<string>();
  opened = 0;
  pendingPosts = 0;
  /** Frames refused by the rate limit in a row; a socket that ignores the limit is closed. */
  refusedInRow = 0;
  lastFrameAt: number;
  /** Cleared when a ping goes out, set by the pong; a socket still clear at the next ping is dead. */
  alive = true;
  forgotten = false;
  /** Frames are admitted one after another, so an `auth-agent` completes before the next frame is read. */
  queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ws: WebSocket,
    readonly address: string,
    readonly origin: string | undefined,
    /** The names of this relay an agent's login signature may give (docs/protocol.md §9). */
    readonly relayOrigins: readonly string[],
    readonly bucket: TokenBucket,
    now: number,
  ) {
    this.lastFrameAt = now;
  }

  /** Holds something worth keeping the socket open for, even when it sends nothing. */
  get busy(): boolean {
    return this.agent !== undefined || this.subscriptions.size > 0 || this.presenceWatches.size > 0;
  }
}
