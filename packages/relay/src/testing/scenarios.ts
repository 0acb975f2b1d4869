/** Steps several relay test files share: registering orgs, opening conversations, reading the file. */
import { request as httpRequest } from 'node:http';
import Database from 'better-sqlite3';
import type { DeviceIdentity } from '@sealchat/protocol';
import { expectKind, makeOrg, type Harness, type TestClient, type TestOrg } from './relay-harness.js';

/** Registers an org (demo mode) with a roster of the given devices. */
export async function registerOrg(h: Harness, devices: readonly DeviceIdentity[] = []): Promise<TestOrg> {
  const org = await makeOrg();
  const admin = await h.connect();
  const reply = await admin.request({
    kind: 'publish-roster',
    orgRootKey: org.rootPublic,
    roster: await org.roster(1, devices),
  });
  expectKind(reply, 'ok');
  admin.close();
  return org;
}

export async function openConversation(client: TestClient, org: TestOrg) {
  const opened = expectKind(
    await client.request({ kind: 'open-conversation', orgId: org.orgId }),
    'conversation-opened',
  );
  return { conversationId: opened.conversationId, capability: opened.capability };
}

export function rowCount(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export function httpGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export const httpUrl = (h: Harness, path: string) => h.relay.url.replace('ws://', 'http://') + path;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
