/**
 * The codes the relay answers with in `error` frames, and the WebSocket close codes it uses. Both
 * are stable: clients switch on them. docs/relay-protocol.md lists what a client should do for each.
 */
export const RelayErrorCode = {
  /** Not one well-formed binary client frame (text frame, truncated, unknown version or kind). */
  badFrame: 'SEALCHAT_E_BAD_FRAME',
  /** The organisation is not registered on this relay. */
  unknownOrg: 'SEALCHAT_E_UNKNOWN_ORG',
  /**
   * Nothing stored under that id: no roster published yet; for `put-history-grant`, a device not on
   * the org's current roster or a conversation the org does not have.
   */
  notFound: 'SEALCHAT_E_NOT_FOUND',
  /** Wrong or missing capability, failed agent authentication, or a conversation that does not exist. */
  unauthorized: 'SEALCHAT_E_UNAUTHORIZED',
  /** A roster that does not verify, belongs to another org, has expired, or is not newer than the stored one. */
  rosterRejected: 'SEALCHAT_E_ROSTER_REJECTED',
  /** A roster that skips versions after the stored one (docs/protocol.md §4.3). */
  rosterJump: 'SEALCHAT_E_ROSTER_JUMP',
  /** A roster that contradicts the stored one: same version, other bytes, or a successor of another roster. */
  rosterFork: 'SEALCHAT_E_ROSTER_FORK',
  /** A roster signed by neither the root nor a device that administers on the stored roster. */
  rosterSigner: 'SEALCHAT_E_ROSTER_SIGNER',
  /**
   * A roster head (docs/protocol.md §4.4) that does not verify against the org's current roster, or
   * is older than the head the relay holds for it.
   */
  rosterHeadRejected: 'SEALCHAT_E_ROSTER_HEAD_REJECTED',
  /**
   * A write lost a race: the audit log's next index is not the one sent (re-read, then retry), or the
   * roster changed twice while a history grant was being stored (retry).
   */
  conflict: 'SEALCHAT_E_CONFLICT',
  /** A per-socket or per-org limit of the relay's options was reached. */
  limit: 'SEALCHAT_E_LIMIT',
  /** A token bucket is empty (frames per socket, posts per capability, opens per address); wait. */
  rateLimited: 'SEALCHAT_E_RATE_LIMITED',
  /** The page's Origin is not on the organisation's allow-list. */
  forbiddenOrigin: 'SEALCHAT_E_FORBIDDEN_ORIGIN',
  /** The relay is shutting down; retry on a new connection. */
  unavailable: 'SEALCHAT_E_UNAVAILABLE',
  /** Storage or another internal failure; nothing was acknowledged, retry later. */
  internal: 'SEALCHAT_E_INTERNAL',
} as const;

/** One of {@link RelayErrorCode}'s values. */
export type RelayErrorCodeValue = (typeof RelayErrorCode)[keyof typeof RelayErrorCode];

/** WebSocket close codes the relay sends (RFC 6455 §7.4; 4000–4999 are application codes). */
export const RelayCloseCode = {
  /** The relay is shutting down (RFC 6455 §7.4.1). Reconnect with backoff. */
  goingAway: 1001,
  /** A frame larger than `maxFrameBytes` (RFC 6455 §7.4.1, sent by ws itself). */
  messageTooBig: 1009,
  /** The socket kept sending after its rate limit answered SEALCHAT_E_RATE_LIMITED (RFC 6455 §7.4.1). */
  policyViolation: 1008,
  /** The socket did not read its data fast enough (RFC 6455 "Try Again Later", IANA registry). */
  tryAgainLater: 1013,
  /** The socket sent nothing and held nothing for `idleTimeoutMs`. */
  idle: 4001,
  /** The agent's device is no longer on the organisation's roster. Do not reconnect as this device. */
  revoked: 4003,
} as const;

/** A request the relay refuses; turned into an `error` frame carrying `code`, never a crash. */
export class RelayRequestError extends Error {
  readonly code: RelayErrorCodeValue;

  constructor(code: RelayErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
