/**
 * Readers for the known-answer vector files (test-vectors/*.json), shared by their suites. The
 * files are a boundary like any other: parsed from `unknown`, strictly, each reader throwing a
 * TypeError that names the key. Not exported from `@sealchat/protocol/testing`.
 */
import { fromHex } from '../bytes.js';

export type Bytes = Uint8Array<ArrayBuffer>;
export type Json = Readonly<Record<string, unknown>>;

export function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError(`${where}: not an object`);
  return value as Json;
}
export function string(o: Json, key: string): string {
  const value = o[key];
  if (typeof value !== 'string') throw new TypeError(`${key}: not a string`);
  return value;
}
export function number(o: Json, key: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new TypeError(`${key}: not an integer`);
  return value;
}
export function boolean(o: Json, key: string): boolean {
  const value = o[key];
  if (typeof value !== 'boolean') throw new TypeError(`${key}: not a boolean`);
  return value;
}
export function bytes(o: Json, key: string): Bytes {
  return fromHex(string(o, key));
}
export function list(o: Json, key: string): readonly unknown[] {
  const value = o[key];
  if (!Array.isArray(value)) throw new TypeError(`${key}: not an array`);
  return value;
}
export function oneOf<T extends string>(o: Json, key: string, allowed: readonly T[]): T {
  const value = string(o, key);
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new TypeError(`${key}: ${value} is not one of ${allowed.join(', ')}`);
  return found;
}

// Keys from the vectors are imported NON-extractable, as the protocol holds its own.

export async function signingPair(pkcs8: Bytes, publicKey: Bytes): Promise<CryptoKeyPair> {
  return {
    privateKey: await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']),
    publicKey: await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, true, ['verify']),
  };
}
export async function agreementPair(pkcs8: Bytes, publicKey: Bytes): Promise<CryptoKeyPair> {
  return {
    privateKey: await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, false, ['deriveBits']),
    publicKey: await crypto.subtle.importKey('raw', publicKey, { name: 'X25519' }, true, []),
  };
}
