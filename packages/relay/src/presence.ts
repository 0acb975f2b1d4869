import type { RelayFrame } from '@sealchat/protocol';

type DevicePresence = Extract<RelayFrame, { kind: 'presence' }>['devices'][number];
export type PresenceStatus = DevicePresence['status'];

const RANK: Readonly<Record<PresenceStatus, number>> = { offline: 0, away: 1, online: 2 };

/**
 * Agent availability per organisation, in memory only: presence is about live sockets, so it dies
 * with them and a restart starts everyone offline. A device with several sockets shows its most
 * available status; an org is "online" for visitors when one device is `online` (`away` is not).
 */
interface Entry {
  readonly deviceHex: string;
  readonly deviceId: Uint8Array<ArrayBuffer>;
  readonly status: PresenceStatus;
}

export class PresenceBoard<C> {
  private readonly orgs = new Map<string, Map<C, Entry>>();

  /** Sets one socket's status; returns true if anything changed. */
  set(orgKey: string, conn: C, deviceId: Uint8Array<ArrayBuffer>, status: PresenceStatus): boolean {
    let org = this.orgs.get(orgKey);
    if (!org) this.orgs.set(orgKey, (org = new Map<C, Entry>()));
    const previous = org.get(conn);
    if (previous?.status === status) return false;
    org.set(conn, { deviceHex: Buffer.from(deviceId).toString('hex'), deviceId, status });
    return true;
  }

  /** Forgets a socket (closed, revoked); returns true if it had a status. */
  remove(orgKey: string, conn: C): boolean {
    const org = this.orgs.get(orgKey);
    if (!org?.delete(conn)) return false;
    if (org.size === 0) this.orgs.delete(orgKey);
    return true;
  }

  anyoneOnline(orgKey: string): boolean {
    for (const entry of this.orgs.get(orgKey)?.values() ?? []) if (entry.status === 'online') return true;
    return false;
  }

  /** Each device once, with the most available status over its sockets. */
  devices(orgKey: string): DevicePresence[] {
    const best = new Map<string, DevicePresence>();
    for (const entry of this.orgs.get(orgKey)?.values() ?? []) {
      const seen = best.get(entry.deviceHex);
      if (!seen || RANK[entry.status] > RANK[seen.status]) {
        best.set(entry.deviceHex, { deviceId: entry.deviceId, status: entry.status });
      }
    }
    return [...best.values()];
  }
}
