/**
 * @sealchat/relay — stores and forwards Sealchat ciphertext. It shares only wire types and
 * certificate checks with the other packages and never decrypts. docs/relay-protocol.md specifies
 * the frames it speaks.
 */
export { startRelay } from './relay-server.js';
export type { RunningRelay, RelayDependencies } from './relay-server.js';
export { parseRelayOptions, resolveRelayOptions, DEFAULT_RELAY_OPTIONS, RELAY_USAGE } from './options.js';
export type { RelayOptions, ParsedCommandLine } from './options.js';
export { SqliteStore } from './sqlite-store.js';
export { PostgresStore, parsePostgresUrl } from './postgres-store.js';
export type { PostgresLocation, PostgresStoreOptions } from './postgres-store.js';
export { InProcessFanout } from './fanout.js';
export type { Fanout, FanoutEvent, FanoutSink } from './fanout.js';
export { RedisFanout } from './redis-fanout.js';
export { StoreClosedError, UnknownConversationError } from './store.js';
export type {
  RelayStore,
  StoredOrg,
  StoredConversation,
  StoredRecord,
  AppendResult,
  OrgPolicy,
  SweepResult,
} from './store.js';
export { backupDatabase, restoreDatabase } from './backup.js';
export type { BackupResult, RestoreResult } from './backup.js';
export { DatabaseLockedError } from './db-lock.js';
export { RELAY_WIRE_REVISION } from './relay.js';
export { createJsonLogger, silentLogger } from './logger.js';
export type { RelayLogger, LogLevel, LogValue, LogSink } from './logger.js';
export { RelayErrorCode, RelayCloseCode, RelayRequestError } from './relay-error.js';
export type { RelayErrorCodeValue } from './relay-error.js';
