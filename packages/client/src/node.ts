/**
 * @sealchat/client/node — what only Node can run: the file-backed store for bots and tests. A
 * separate entry so that browser bundles of `@sealchat/client` never reach `node:fs`.
 */
export { FileClientStore, MIN_PBKDF2_ITERATIONS } from './file-client-store.js';
export { PassphraseError } from './errors.js';
export type { FileClientStoreOptions } from './file-client-store.js';
