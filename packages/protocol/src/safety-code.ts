import { concatBytes } from './bytes.js';
import { Context } from './contexts.js';
import { labelledHash } from './keys.js';

/** Groups of five digits in a safety code. */
const GROUPS = 4;

/**
 * The code a visitor and an agent read to each other to check that nobody is in between: a hash of
 * the organisation's root key (as the visitor's page pinned it, and as the agent's organisation
 * holds it), the visitor's signing key (as the visitor holds it, and as the conversation pinned it
 * on the agent's side) and the conversation id. If a page was served with another org key, or a
 * relay slipped in another visitor key, the two sides compute different codes.
 *
 * Four groups of five digits (each from 5 bytes of SHA-256, mod 100 000, as in Signal's safety
 * numbers): about 66 bits, too many to grind while a chat is live.
 */
export async function safetyCode(
  orgRootKey: Uint8Array,
  visitorSigningPublic: Uint8Array,
  conversationId: Uint8Array,
): Promise<string> {
  const hash = await labelledHash(Context.safetyCode, concatBytes(orgRootKey, visitorSigningPublic, conversationId));
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let n = 0;
    for (let i = 0; i < 5; i++) n = n * 256 + hash[g * 5 + i]!;
    groups.push(String(n % 100_000).padStart(5, '0'));
  }
  return groups.join(' ');
}
