// The on-disk shapes of the OMEMO store's JSON documents, and the checks and encodings they use.
import type { TrustRecord, TrustState } from '../omemo/store.js';

export type B64 = string;
export interface KeyPairJson {
  priv: B64;
  pub: B64;
}
export interface IdentityDoc {
  version: 1;
  identity?: { deviceId: number } & KeyPairJson;
  preKeyCounter: number;
  signedPreKeys: ({ id: number; signature: B64; createdAt: number } & KeyPairJson)[];
}
export interface PreKeyDoc {
  version: 1;
  preKeys: Record<string, KeyPairJson>;
}
export interface DeviceJson {
  deviceId: number;
  active: boolean;
  lastSeen: number;
  identityKey?: B64;
}
export interface TrustDoc {
  version: 1;
  /** key: `${jid}\n${fingerprint}` */
  trust: Record<string, TrustRecord>;
  devices: Record<string, DeviceJson[]>;
}
export interface SessionJson {
  jid: string;
  deviceId: number;
  record: B64;
}

export const b64 = (u: Uint8Array): B64 => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
export const unb64 = (s: B64): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
export const copy = (u: Uint8Array): Uint8Array => new Uint8Array(u);
export const TRUST_STATES: readonly TrustState[] = ['undecided', 'trusted', 'untrusted', 'verified'];

export function checkDeviceId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new Error(`invalid device id ${id}`);
}
export function checkBytes(u: unknown, what: string): void {
  if (!(u instanceof Uint8Array)) throw new Error(`${what} must be a Uint8Array`);
}

