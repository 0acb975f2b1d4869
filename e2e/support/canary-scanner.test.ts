import { randomBytes, createCipheriv } from 'node:crypto';
import { mkdtempSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { canaryNeedles, scanBytes, scanFiles, scanFrames } from './canary-scanner.js';

/**
 * A deliberately bad relay, to show the canary check can fail: it stores what it is sent in an
 * SQLite WAL database and logs it. With `encrypt`, it stores AES-GCM ciphertext instead (and logs
 * only sizes), which is what the real relay's data looks like to the scanner.
 */
async function startFakeRelay(dir: string, options: { encrypt: boolean }) {
  const db = new Database(join(dir, 'fake.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE rows (body BLOB)');
  const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
  const key = randomBytes(32);
  const log = join(dir, 'fake.log');
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      if (options.encrypt) {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        insert.run(Buffer.concat([iv, cipher.update(data), cipher.final(), cipher.getAuthTag()]));
        appendFileSync(log, JSON.stringify({ msg: 'stored', bytes: data.length }) + '\n');
      } else {
        insert.run(data);
        appendFileSync(log, JSON.stringify({ msg: 'stored', body: data.toString('utf8') }) + '\n');
      }
      socket.send(Buffer.from('ack'));
    });
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    files: [join(dir, 'fake.db'), join(dir, 'fake.db-wal'), log],
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      db.close();
    },
  };
}

async function sendThrough(url: string, text: string): Promise<(string | Buffer)[]> {
  const frames: (string | Buffer)[] = [];
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  frames.push(Buffer.from(text, 'utf8'));
  socket.send(Buffer.from(text, 'utf8'));
  const ack = await new Promise<Buffer>((resolve) => socket.once('message', resolve));
  frames.push(ack);
  socket.close();
  return frames;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('canary scanner', () => {
  it('finds the canary in a relay that stores and logs plaintext: database/WAL, log and frames', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealchat-canary-'));
    const relay = await startFakeRelay(dir, { encrypt: false });
    cleanups.push(relay.close);
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const frames = await sendThrough(relay.url, `my card is ${canary}`);

    const { hits, bytesRead } = await scanFiles(relay.files, canary);
    expect(bytesRead).toBeGreaterThan(0);
    // The WAL holds the row before any checkpoint; the log holds it as JSON.
    expect(hits.map((h) => h.source)).toEqual(expect.arrayContaining([relay.files[1], relay.files[2]]));
    expect(scanFrames(frames, canary).length).toBeGreaterThan(0);
  });

  it('finds nothing when the relay only ever holds ciphertext', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealchat-canary-'));
    const relay = await startFakeRelay(dir, { encrypt: true });
    cleanups.push(relay.close);
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    await sendThrough(relay.url, `my card is ${canary}`);
    const { hits, bytesRead } = await scanFiles(relay.files, canary);
    expect(bytesRead).toBeGreaterThan(0);
    expect(hits).toEqual([]);
  });

  it('catches the canary in hex, UTF-16 and base64 at any alignment', () => {
    const canary = 'canary-0123456789abcdef';
    for (const prefix of ['', 'x', 'xy', 'xyz']) {
      const plain = Buffer.from(prefix + canary);
      for (const encoded of [plain.toString('base64'), plain.toString('base64url')]) {
        expect(scanBytes('t', Buffer.from(`{"body":"${encoded}"}`), canary).length).toBeGreaterThan(0);
      }
    }
    expect(scanBytes('t', Buffer.from(Buffer.from(canary).toString('hex')), canary)[0]?.encoding).toBe('hex');
    expect(scanBytes('t', Buffer.from(canary, 'utf16le'), canary)[0]?.encoding).toBe('utf16le');
    expect(canaryNeedles(canary).length).toBeGreaterThan(4);
    expect(scanBytes('t', randomBytes(4096), canary)).toEqual([]);
  });
});
