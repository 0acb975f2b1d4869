import { readFile } from 'node:fs/promises';

/**
 * Looks for a canary string in everything the relay could have kept or seen: files (database, WAL,
 * log) and WebSocket frames. It searches the canary's UTF-8 bytes and the encodings a careless
 * relay might use on them (UTF-16, hex, base64 at each byte alignment), so "not found" means
 * "not there in any form we know", not just "not there as UTF-8".
 */
export interface CanaryHit {
  readonly source: string;
  readonly encoding: string;
  readonly offset: number;
}

interface Needle {
  readonly encoding: string;
  readonly bytes: Buffer;
}

export function canaryNeedles(canary: string): Needle[] {
  const utf8 = Buffer.from(canary, 'utf8');
  const needles: Needle[] = [
    { encoding: 'utf8', bytes: utf8 },
    { encoding: 'utf16le', bytes: Buffer.from(canary, 'utf16le') },
    { encoding: 'hex', bytes: Buffer.from(utf8.toString('hex'), 'latin1') },
    { encoding: 'HEX', bytes: Buffer.from(utf8.toString('hex').toUpperCase(), 'latin1') },
  ];
  // base64 of a substring depends on where it starts modulo 3: take the stable middle of each.
  for (const variant of ['base64', 'base64url'] as const) {
    for (let shift = 0; shift < 3; shift++) {
      const encoded = Buffer.concat([Buffer.alloc(shift), utf8]).toString(variant);
      const stable = encoded.slice(Math.ceil((shift * 4) / 3), encoded.length - 4);
      if (stable.length >= 8) needles.push({ encoding: `${variant}+${shift}`, bytes: Buffer.from(stable, 'latin1') });
    }
  }
  return needles;
}

export function scanBytes(source: string, haystack: Uint8Array, canary: string): CanaryHit[] {
  const buffer = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  const hits: CanaryHit[] = [];
  for (const needle of canaryNeedles(canary)) {
    const offset = buffer.indexOf(needle.bytes);
    if (offset >= 0) hits.push({ source, encoding: needle.encoding, offset });
  }
  return hits;
}

/** Scans files; a file that does not exist is reported as scanned-empty in `missing`. */
export async function scanFiles(
  paths: readonly string[],
  canary: string,
): Promise<{ hits: CanaryHit[]; bytesRead: number; missing: string[] }> {
  const hits: CanaryHit[] = [];
  const missing: string[] = [];
  let bytesRead = 0;
  for (const path of paths) {
    let contents: Buffer;
    try {
      contents = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        missing.push(path);
        continue;
      }
      throw error;
    }
    bytesRead += contents.length;
    hits.push(...scanBytes(path, contents, canary));
  }
  return { hits, bytesRead, missing };
}

/** Scans WebSocket frame payloads as Playwright reports them (string for text, Buffer for binary). */
export function scanFrames(frames: readonly (string | Buffer)[], canary: string, source = 'websocket'): CanaryHit[] {
  return frames.flatMap((payload, i) =>
    scanBytes(`${source}[${i}]`, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, canary),
  );
}
