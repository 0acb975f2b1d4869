/**
 * Every failure a caller can act on has its own class and a stable `code`, listed in docs/errors.md.
 * Crypto failures carry detail for local logs only; what goes back over the wire is never more
 * specific than {@link OpenError}'s code, so a remote party cannot learn which check failed.
 */
export class SealchatError extends Error {
  /** Stable, machine-readable code, `SEALCHAT_E_...`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bytes that do not decode as the expected structure (truncated, trailing bytes, unknown version or kind). */
export class DecodeError extends SealchatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEALCHAT_E_DECODE', message, options);
  }
}

/** The text form of an organisation key is malformed or fails its checksum (usually a typo in `org="..."`). */
export class OrgKeyFormatError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_ORG_KEY_FORMAT', message);
  }
}

/** An Ed25519 signature did not verify. */
export class SignatureError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_SIGNATURE', message);
  }
}

/** A certificate does not chain to the pinned organisation key, or is not valid at this time. */
export class CertificateError extends SealchatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEALCHAT_E_CERTIFICATE', message, options);
  }
}

/** A roster is not signed by the organisation, is expired, or is older than one already seen (rollback). */
export class RosterError extends SealchatError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'SEALCHAT_E_ROSTER', message, options);
  }
}

/**
 * A roster skips versions after the one this verifier holds, and is not signed by the org root
 * (which alone may speak for the organisation at any version): its signer's standing cannot be
 * checked without the rosters in between (docs/protocol.md §4.3).
 */
export class RosterJumpError extends RosterError {
  constructor(message: string) {
    super(message, { code: 'SEALCHAT_E_ROSTER_JUMP' });
  }
}

/** Two rosters claim one place in the chain: the same version with other bytes, or a successor of another roster. */
export class RosterForkError extends RosterError {
  constructor(message: string) {
    super(message, { code: 'SEALCHAT_E_ROSTER_FORK' });
  }
}

/**
 * A roster's signer had no standing to sign it: neither the root nor a device that administers on
 * the roster before it, with a certificate that covers the new roster's whole life.
 */
export class RosterSignerError extends RosterError {
  constructor(message: string) {
    super(message, { code: 'SEALCHAT_E_ROSTER_SIGNER' });
  }
}

/**
 * A roster head (docs/protocol.md §4.4) that cannot vouch for the roster in hand: it does not
 * decode, names another organisation or another roster (version or digest), is signed by neither the
 * root nor a device that administers on that roster, or is dated in the future. A visitor then shares
 * no keys: it cannot tell whether the roster it holds is still the organisation's.
 */
export class RosterHeadError extends SealchatError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'SEALCHAT_E_ROSTER_HEAD', message, options);
  }
}

/**
 * A roster head that verifies but is older than the verifier's limit (`maxAgeMs`, by default
 * `DEFAULT_MAX_HEAD_AGE_MS`): nobody who administers the organisation has said for that long that
 * the roster is still current, so a newer one (a revocation) may exist that the relay is hiding.
 */
export class StaleRosterHeadError extends RosterHeadError {
  constructor(message: string) {
    super(message, { code: 'SEALCHAT_E_ROSTER_HEAD_STALE' });
  }
}

/** A key share or message could not be opened: wrong key, tampered bytes, or bound to another context. */
export class OpenError extends SealchatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEALCHAT_E_OPEN', message, options);
  }
}

/** A message index was already used, or lies too far ahead of the chain (more skipped keys than allowed). */
export class ChainIndexError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_CHAIN_INDEX', message);
  }
}

/** The same envelope arrived twice: a replay or a duplicate delivery. */
export class ReplayError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_REPLAY', message);
  }
}

/** An envelope names a conversation other than the one it was delivered in. */
export class WrongConversationError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_WRONG_CONVERSATION', message);
  }
}

/**
 * The sender is not allowed to write here: not on the current roster (never was, or revoked),
 * not the conversation's visitor, or claiming keys that are not its own.
 */
export class UntrustedSenderError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_UNTRUSTED_SENDER', message);
  }
}

/** A payload on a chain whose key share this device never received (or could not open). */
export class NoChainError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_NO_CHAIN', message);
  }
}

/** A key share claims a conversation mode other than the one the conversation started in. */
export class ConversationModeError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_MODE', message);
  }
}

/**
 * An `archive`-mode key share that does not list the roster's archive key: its chain could never
 * be read through the archive, so the conversation would silently stop being archived.
 */
export class ArchiveShareError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_ARCHIVE_SHARE', message);
  }
}

/**
 * A note broke the rule that keeps notes from the visitor (docs/protocol.md §8): a note key share
 * lists the conversation's visitor or came before the visitor was known, a note is on a message
 * chain, or a message, receipt, typing notice or control envelope is on a note chain.
 */
export class NoteChainError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_NOTE_CHAIN', message);
  }
}

/**
 * An archive key pair that cannot be used: its public key is not the roster's archive key (or the
 * roster has none), it is not an X25519 pair, or its private key is extractable.
 */
export class ArchiveKeyError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_ARCHIVE_KEY', message);
  }
}
