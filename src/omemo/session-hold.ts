// Session writes held in memory for one archive catch-up page. Persisting a ratchet step is one
// durable append per message (store.ts); a page of 250 messages from one contact would be 250 of
// them. While held, the newest record of each session is kept here and read back from here, and
// the page ends with one write per session that changed.
//
// The held records are also the page's entry in a write-ahead journal that the caller commits in
// the same transaction as the page's messages (src/store/history.ts), before they reach the
// session store. A crash after that commit is repaired by replayJournal(): each entry names the
// record it replaces (by hash), and is applied only over exactly that record, so a replay can
// never roll a session back past a later step (which could reuse a message key).
import { sha256 } from './primitives.js';
import type {
  DeviceAddress,
  DeviceInfo,
  OmemoStore,
  OwnIdentity,
  PreKeyRecord,
  SignedPreKeyRecord,
  TrustRecord,
} from './store.js';

/** One session's change over a page: the record it replaces and the record it became. */
export interface SessionJournalEntry {
  addr: DeviceAddress;
  /** SHA-256 of the record the page started from; undefined: the page created the session. */
  before?: Uint8Array;
  after: Uint8Array;
}

const key = (a: DeviceAddress) => `${a.jid}\u0000${a.deviceId}`;

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** An OmemoStore that passes everything through, except session writes while holding. */
export class SessionHold implements OmemoStore {
  /** While holding: per session, the hash of the stored record it started from and the newest one. */
  private held?: Map<string, { addr: DeviceAddress; before?: Uint8Array; after: Uint8Array }>;

  constructor(readonly inner: OmemoStore) {}

  get holding(): boolean {
    return this.held !== undefined;
  }

  hold(): void {
    this.held ??= new Map();
  }

  /** The sessions changed since hold(), as journal entries. */
  journal(): SessionJournalEntry[] {
    return [...(this.held?.values() ?? [])].map((h) => ({ addr: { ...h.addr }, ...(h.before ? { before: h.before } : {}), after: h.after }));
  }

  /** Writes the held sessions (each once, durable) and stops holding. */
  async flush(): Promise<void> {
    const held = [...(this.held?.values() ?? [])];
    this.held = undefined;
    // Different sessions are different files: their appends may run side by side.
    await Promise.all(held.map((h) => this.inner.storeSession(h.addr, h.after)));
  }

  /** Forgets the held sessions: reads see the stored records again. */
  drop(): void {
    this.held = undefined;
  }

  /** Applies journal entries whose session is still exactly at their `before` record. */
  async replayJournal(entries: SessionJournalEntry[]): Promise<number> {
    let applied = 0;
    for (const e of entries) {
      const now = await this.inner.loadSession(e.addr);
      if (!sameBytes(now && sha256(now), e.before)) continue; // applied already, or moved on since
      await this.inner.storeSession(e.addr, e.after);
      applied++;
    }
    return applied;
  }

  // ---- sessions: held while holding ------------------------------------------------------------

  async loadSession(addr: DeviceAddress): Promise<Uint8Array | undefined> {
    const h = this.held?.get(key(addr));
    return h ? h.after.slice() : this.inner.loadSession(addr);
  }

  async storeSession(addr: DeviceAddress, record: Uint8Array): Promise<void> {
    if (!this.held) return this.inner.storeSession(addr, record);
    const k = key(addr);
    const h = this.held.get(k);
    if (h) {
      h.after = record.slice();
      return;
    }
    const stored = await this.inner.loadSession(addr);
    this.held.set(k, { addr: { jid: addr.jid, deviceId: addr.deviceId }, ...(stored ? { before: sha256(stored) } : {}), after: record.slice() });
  }

  async removeSession(addr: DeviceAddress): Promise<void> {
    this.held?.delete(key(addr));
    return this.inner.removeSession(addr);
  }

  async listSessionDevices(jid: string): Promise<number[]> {
    const ids = new Set(await this.inner.listSessionDevices(jid));
    for (const h of this.held?.values() ?? []) if (h.addr.jid === jid) ids.add(h.addr.deviceId);
    return [...ids].sort((a, b) => a - b);
  }

  // ---- everything else passes through ----------------------------------------------------------

  getOwnIdentity(): Promise<OwnIdentity | undefined> {
    return this.inner.getOwnIdentity();
  }
  setOwnIdentity(identity: OwnIdentity): Promise<void> {
    return this.inner.setOwnIdentity(identity);
  }
  getPreKey(id: number): Promise<PreKeyRecord | undefined> {
    return this.inner.getPreKey(id);
  }
  listPreKeys(): Promise<PreKeyRecord[]> {
    return this.inner.listPreKeys();
  }
  putPreKeys(records: PreKeyRecord[]): Promise<void> {
    return this.inner.putPreKeys(records);
  }
  removePreKey(id: number): Promise<void> {
    return this.inner.removePreKey(id);
  }
  getPreKeyCounter(): Promise<number> {
    return this.inner.getPreKeyCounter();
  }
  setPreKeyCounter(n: number): Promise<void> {
    return this.inner.setPreKeyCounter(n);
  }
  getSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined> {
    return this.inner.getSignedPreKey(id);
  }
  listSignedPreKeys(): Promise<SignedPreKeyRecord[]> {
    return this.inner.listSignedPreKeys();
  }
  putSignedPreKey(record: SignedPreKeyRecord): Promise<void> {
    return this.inner.putSignedPreKey(record);
  }
  removeSignedPreKey(id: number): Promise<void> {
    return this.inner.removeSignedPreKey(id);
  }
  getTrust(jid: string, fingerprint: string): Promise<TrustRecord | undefined> {
    return this.inner.getTrust(jid, fingerprint);
  }
  listTrust(jid?: string): Promise<TrustRecord[]> {
    return this.inner.listTrust(jid);
  }
  putTrust(record: TrustRecord): Promise<void> {
    return this.inner.putTrust(record);
  }
  getDevices(jid: string): Promise<DeviceInfo[]> {
    return this.inner.getDevices(jid);
  }
  putDevices(jid: string, devices: DeviceInfo[]): Promise<void> {
    return this.inner.putDevices(jid, devices);
  }
}
