// The narrow storage interface src/omemo needs. Implementations: memory-store.ts (tests) and
// src/store/omemo-file-store.ts (profiles on disk). Every write must be durable when its promise
// resolves: the session cipher saves the ratchet state before returning a ciphertext.
import type { KeyPair } from './primitives.js';

export interface OwnIdentity {
  deviceId: number;
  /** Raw X25519 identity key pair; published as 0x05‖pub. */
  identityKey: KeyPair;
}

export interface PreKeyRecord {
  id: number;
  keyPair: KeyPair;
}

export interface SignedPreKeyRecord {
  id: number;
  keyPair: KeyPair;
  /** 64-byte XEdDSA signature over 0x05‖pub. */
  signature: Uint8Array;
  /** ms since epoch; drives weekly rotation and expiry of the previous key. */
  createdAt: number;
}

export interface DeviceAddress {
  jid: string; // bare JID
  deviceId: number;
}

export type TrustState = 'undecided' | 'trusted' | 'untrusted' | 'verified';

export interface TrustRecord {
  jid: string;
  /** 64 lower-case hex chars: the 32-byte Curve25519 identity key. */
  fingerprint: string;
  deviceId: number;
  state: TrustState;
  firstSeen: number;
}

export interface DeviceInfo {
  deviceId: number;
  /** In the latest published device list. */
  active: boolean;
  lastSeen: number; // ms since epoch: last list containing it or last message from it
  /** Raw 32-byte identity key once learned from a bundle or a PreKey message. */
  identityKey?: Uint8Array;
}

export interface OmemoStore {
  getOwnIdentity(): Promise<OwnIdentity | undefined>;
  setOwnIdentity(identity: OwnIdentity): Promise<void>;

  getPreKey(id: number): Promise<PreKeyRecord | undefined>;
  listPreKeys(): Promise<PreKeyRecord[]>;
  putPreKeys(records: PreKeyRecord[]): Promise<void>;
  removePreKey(id: number): Promise<void>;
  /** Highest prekey id ever issued, so ids are never reused after deletion. */
  getPreKeyCounter(): Promise<number>;
  setPreKeyCounter(n: number): Promise<void>;

  getSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined>;
  listSignedPreKeys(): Promise<SignedPreKeyRecord[]>;
  putSignedPreKey(record: SignedPreKeyRecord): Promise<void>;
  removeSignedPreKey(id: number): Promise<void>;

  /** Opaque serialized session record (all states for one remote device). */
  loadSession(addr: DeviceAddress): Promise<Uint8Array | undefined>;
  storeSession(addr: DeviceAddress, record: Uint8Array): Promise<void>;
  removeSession(addr: DeviceAddress): Promise<void>;
  listSessionDevices(jid: string): Promise<number[]>;

  getTrust(jid: string, fingerprint: string): Promise<TrustRecord | undefined>;
  listTrust(jid?: string): Promise<TrustRecord[]>;
  putTrust(record: TrustRecord): Promise<void>;

  getDevices(jid: string): Promise<DeviceInfo[]>;
  putDevices(jid: string, devices: DeviceInfo[]): Promise<void>;
}
