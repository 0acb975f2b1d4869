/** The part of fast-check's `Parameters` the hostile models set. */
export interface PropertyParameters {
  readonly numRuns: number;
  readonly seed?: number;
}

/**
 * fast-check parameters for the hostile models' properties (docs/security.md): 2,000 runs in Node,
 * issue 11's bar, which SEALCHAT_PROPERTY_RUNS overrides; 200 in Chromium, where the same code runs
 * to show it holds there too. fast-check prints the seed of a failure, and SEALCHAT_PROPERTY_SEED
 * replays it in Node.
 */
export function propertyParameters(): PropertyParameters {
  // Read through globalThis: this package is typed without Node's globals.
  const { process } = globalThis as { process?: { versions?: { node?: unknown }; env: Record<string, unknown> } };
  if (typeof process?.versions?.node !== 'string') return { numRuns: 200 };
  const { SEALCHAT_PROPERTY_RUNS: runs, SEALCHAT_PROPERTY_SEED: seed } = process.env;
  const numRuns = Number(runs ?? 2000);
  return seed ? { numRuns, seed: Number(seed) } : { numRuns };
}
