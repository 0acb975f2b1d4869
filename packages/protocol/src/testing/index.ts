/** Test fixtures built on the real protocol API: `@sealchat/protocol/testing`. Not for shipped code. */
export { createTestOrganisation } from './test-organisation.js';
export type { TestOrganisation } from './test-organisation.js';
export { installPageRelay } from './page-relay.js';
export type { PageRelay } from './page-relay.js';
export { propertyParameters } from './property-parameters.js';
export type { PropertyParameters } from './property-parameters.js';
