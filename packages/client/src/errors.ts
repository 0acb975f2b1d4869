import { SealchatError } from '@sealchat/protocol';

/** The relay answered a request with an error frame; `code` is the relay's stable code. */
export class RelayRequestError extends SealchatError {}

/** The connection closed before the relay answered; the request may be retried after reconnecting. */
export class ConnectionLostError extends SealchatError {
  constructor(message = 'Connection to the relay was lost') {
    super('SEALCHAT_E_CONNECTION_LOST', message);
  }
}

/** A stored client record did not parse: the local database is corrupt or from an unknown version. */
export class StoredStateError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_STORED_STATE', message);
  }
}

/** The store file is encrypted and no passphrase, or the wrong one, was given; or it is not encrypted but one was. */
export class PassphraseError extends SealchatError {
  constructor(message: string) {
    super('SEALCHAT_E_PASSPHRASE', message);
  }
}

/** Wraps anything thrown into a SealchatError, keeping SealchatErrors as they are. */
export function toSealchatError(error: unknown): SealchatError {
  return error instanceof SealchatError
    ? error
    : new SealchatError('SEALCHAT_E_INTERNAL', error instanceof Error ? error.message : String(error), {
        cause: error,
      });
}
