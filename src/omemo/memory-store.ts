// In-memory OmemoStore for tests and throwaway sessions. Every value is copied on the way in and
// out so a caller holding a returned object can never alias (and silently mutate) stored state.
import type {
  DeviceAddress,
  DeviceInfo,
  OmemoStore,
  OwnIdentity,
  PreKeyRecord,
  SignedPreKeyRecord,
  TrustRecord,
} from './store.js';
import type { KeyPair } from './primitives.js';

const b = (x: Uint8Array): Uint8Array => new Uint8Array(x);
const kp = (k: KeyPair): KeyPair => ({ priv: b(k.priv), pub: b(k.pub) });
const preKey = (r: PreKeyRecord): PreKeyRecord => ({ id: r.id, keyPair: kp(r.keyPair) });
const signedPreKey = (r: SignedPreKeyRecord): SignedPreKeyRecord => ({
  id: r.id,
  keyPair: kp(r.keyPair),
  signature: b(r.signature),
  createdAt: r.createdAt,
});
const device = (d: DeviceInfo): DeviceInfo => ({
  deviceId: d.deviceId,
  active: d.active,
  lastSeen: d.lastSeen,
  ...(d.identityKey ? { identityKey: b(d.identityKey) } : {}),
});
const sessionKey = (a: DeviceAddress): string => `${a.jid}\u0000${a.deviceId}`;
const trustKey = (jid: string, fp: string): string => `${jid}\u0000${fp.toLowerCase()}`;

export class MemoryOmemoStore implements OmemoStore {
  private identity: OwnIdentity | undefined;
  private readonly preKeys = new Map<number, PreKeyRecord>();
  private preKeyCounter = 0;
  private readonly signedPreKeys = new Map<number, SignedPreKeyRecord>();
  private readonly sessions = new Map<string, { addr: DeviceAddress; record: Uint8Array }>();
  private readonly trust = new Map<string, TrustRecord>();
  private readonly devices = new Map<string, DeviceInfo[]>();
  /** Number of storeSession calls (tests use it to check persistence happens per message). */
  sessionWrites = 0;

  constructor(identity?: OwnIdentity) {
    if (identity) this.identity = { deviceId: identity.deviceId, identityKey: kp(identity.identityKey) };
  }

  async getOwnIdentity(): Promise<OwnIdentity | undefined> {
    return this.identity && { deviceId: this.identity.deviceId, identityKey: kp(this.identity.identityKey) };
  }
  async setOwnIdentity(identity: OwnIdentity): Promise<void> {
    this.identity = { deviceId: identity.deviceId, identityKey: kp(identity.identityKey) };
  }

  async getPreKey(id: number): Promise<PreKeyRecord | undefined> {
    const r = this.preKeys.get(id);
    return r && preKey(r);
  }
  async listPreKeys(): Promise<PreKeyRecord[]> {
    return [...this.preKeys.values()].sort((x, y) => x.id - y.id).map(preKey);
  }
  async putPreKeys(records: PreKeyRecord[]): Promise<void> {
    for (const r of records) this.preKeys.set(r.id, preKey(r));
  }
  async removePreKey(id: number): Promise<void> {
    this.preKeys.delete(id);
  }
  async getPreKeyCounter(): Promise<number> {
    return this.preKeyCounter;
  }
  async setPreKeyCounter(n: number): Promise<void> {
    this.preKeyCounter = n;
  }

  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined> {
    const r = this.signedPreKeys.get(id);
    return r && signedPreKey(r);
  }
  async listSignedPreKeys(): Promise<SignedPreKeyRecord[]> {
    return [...this.signedPreKeys.values()].sort((x, y) => x.id - y.id).map(signedPreKey);
  }
  async putSignedPreKey(record: SignedPreKeyRecord): Promise<void> {
    this.signedPreKeys.set(record.id, signedPreKey(record));
  }
  async removeSignedPreKey(id: number): Promise<void> {
    this.signedPreKeys.delete(id);
  }

  async loadSession(addr: DeviceAddress): Promise<Uint8Array | undefined> {
    const s = this.sessions.get(sessionKey(addr));
    return s && b(s.record);
  }
  async storeSession(addr: DeviceAddress, record: Uint8Array): Promise<void> {
    this.sessionWrites++;
    this.sessions.set(sessionKey(addr), { addr: { jid: addr.jid, deviceId: addr.deviceId }, record: b(record) });
  }
  async removeSession(addr: DeviceAddress): Promise<void> {
    this.sessions.delete(sessionKey(addr));
  }
  async listSessionDevices(jid: string): Promise<number[]> {
    return [...this.sessions.values()]
      .filter((s) => s.addr.jid === jid)
      .map((s) => s.addr.deviceId)
      .sort((x, y) => x - y);
  }

  async getTrust(jid: string, fingerprint: string): Promise<TrustRecord | undefined> {
    const r = this.trust.get(trustKey(jid, fingerprint));
    return r && { ...r };
  }
  async listTrust(jid?: string): Promise<TrustRecord[]> {
    return [...this.trust.values()].filter((r) => jid === undefined || r.jid === jid).map((r) => ({ ...r }));
  }
  async putTrust(record: TrustRecord): Promise<void> {
    this.trust.set(trustKey(record.jid, record.fingerprint), { ...record });
  }

  async getDevices(jid: string): Promise<DeviceInfo[]> {
    return (this.devices.get(jid) ?? []).map(device);
  }
  async putDevices(jid: string, devices: DeviceInfo[]): Promise<void> {
    this.devices.set(jid, devices.map(device));
  }
}
