// What the manager knows of other devices, whatever the protocol version: device lists (bounded
// per JID), identity keys as bundles and messages reveal them, and trust in each identity.
import { isValidId, type Bundle } from './device.js';
import { OmemoError, isOmemoError } from './errors.js';
import { fingerprintHex, normalizeFingerprint } from './fingerprint.js';
import type { DeviceInfo, OmemoStore, TrustRecord, TrustState } from './store.js';
import { equalBytes } from './primitives.js';
import { decideNewIdentity, type TrustMode } from './trust.js';
import type { FetchBundle, IdentityChange } from './manager-types.js';
import type { OmemoBackend, PickedBundle } from './backend.js';
import { bareJid as bare } from '../lib/jid.js';

/**
 * Devices taken from one JID's list. Real accounts have a handful; a list of thousands only makes
 * work (a bundle fetch and a key per device and message), so the rest are ignored, as
 * Conversations and Dino bound it too.
 */
export const MAX_DEVICES_PER_JID = 50;
/** A device gone from its owner's list is forgotten after this long (its trust record stays). */
export const DEVICE_FORGET_AFTER_MS = 90 * 24 * 3600_000;
/** Bundles fetched at once. */
export const FETCH_CONCURRENCY = 8;

/**
 * The ids of a published list we take: our own device first (own JID), then devices we already
 * know an identity for, then the others in list order, up to MAX_DEVICES_PER_JID.
 */
export function capDeviceList(ids: readonly number[], known: readonly DeviceInfo[], ownId?: number): number[] {
  if (ids.length <= MAX_DEVICES_PER_JID) return [...ids];
  const withIdentity = new Set(known.filter((d) => d.identityKey).map((d) => d.deviceId));
  const out: number[] = [];
  const taken = new Set<number>();
  const take = (id: number) => {
    if (out.length < MAX_DEVICES_PER_JID && !taken.has(id)) {
      taken.add(id);
      out.push(id);
    }
  };
  if (ownId !== undefined && ids.includes(ownId)) take(ownId);
  for (const id of ids) if (withIdentity.has(id)) take(id);
  for (const id of ids) take(id);
  return out;
}

/** Promise.all with at most `limit` calls of `fn` running at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const LAST_SEEN_PRECISION_MS = 3600_000;

export function describeError(e: unknown): string {
  if (isOmemoError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

export interface IdentityBookOptions {
  store: OmemoStore;
  ownJid: string;
  now: () => number;
  mode: () => TrustMode;
  backend: OmemoBackend;
  onIdentityChange?: (change: IdentityChange) => void;
}

export class IdentityBook {
  private readonly store: OmemoStore;
  private readonly ownJid: string;
  private readonly now: () => number;
  private readonly backend: OmemoBackend;
  private readonly onIdentityChange: ((change: IdentityChange) => void) | undefined;
  private readonly currentMode: () => TrustMode;
  /**
   * Per device (jid, id): the identity key and lastSeen the store holds, as this book last read
   * or wrote them (only it writes devices), so a message from a known device costs no device
   * read. Entries of a JID go when its device list is rewritten.
   */
  private readonly storedDevices = new Map<string, { identityKey: Uint8Array; lastSeen: number; fingerprint: string }>();

  constructor(o: IdentityBookOptions) {
    this.store = o.store;
    this.ownJid = o.ownJid;
    this.now = o.now;
    this.currentMode = o.mode;
    this.backend = o.backend;
    this.onIdentityChange = o.onIdentityChange;
  }

  private get mode(): TrustMode {
    return this.currentMode();
  }

  private forgetStoredDevices(jid: string): void {
    const prefix = `${jid}\u0000`;
    for (const k of this.storedDevices.keys()) if (k.startsWith(prefix)) this.storedDevices.delete(k);
  }

  /**
   * Record a published device list for `jid`: listed ids become active (lastSeen = now), others
   * inactive (kept with their identity). For the own JID, `ownDeviceMissing` tells the caller to
   * re-add our id and republish. `newDevices` are ids we had never recorded (own device excluded).
   * Invalid ids (0, > 2^31−1) are ignored.
   */
  async processDeviceList(
    jid: string,
    ids: number[],
  ): Promise<{ ownDeviceMissing: boolean; newDevices: number[]; accepted: number[]; ignored: number }> {
    const j = bare(jid);
    const now = this.now();
    const own = await this.store.getOwnIdentity();
    const ownId = j === this.ownJid && own ? own.deviceId : undefined;
    const devices = await this.store.getDevices(j);
    const valid = [...new Set(ids.filter(isValidId))];
    const accepted = capDeviceList(valid, devices, ownId);
    const listed = new Set(accepted);
    const known = new Set(devices.map((d) => d.deviceId));
    const updated: DeviceInfo[] = [];
    for (const d of devices) {
      if (listed.has(d.deviceId)) updated.push({ ...d, active: true, lastSeen: now });
      // Gone from the list: kept while we may still see messages from it; a device we never
      // learned anything about (no identity) is not worth a byte, and nor is one gone for long.
      else if (d.identityKey && now - d.lastSeen < DEVICE_FORGET_AFTER_MS) updated.push({ ...d, active: false });
    }
    const newDevices: number[] = [];
    for (const id of listed) {
      if (known.has(id)) continue;
      updated.push({ deviceId: id, active: true, lastSeen: now });
      if (id !== ownId) newDevices.push(id);
    }
    await this.store.putDevices(j, updated);
    this.forgetStoredDevices(j);
    return { ownDeviceMissing: ownId !== undefined && !valid.includes(ownId), newDevices, accepted, ignored: valid.length - accepted.length };
  }

  /**
   * Fetch bundles of the listed devices whose identity we do not know yet and record identity and
   * trust (so `/omemo fingerprint JID` has something to show and trust). Builds no sessions.
   * Returns per-device failures.
   */
  async learnIdentities(jid: string, ids: number[], fetchBundle: FetchBundle): Promise<{ deviceId: number; reason: string }[]> {
    const j = bare(jid);
    const ownId = (await this.store.getOwnIdentity())?.deviceId;
    const devices = await this.store.getDevices(j);
    const wanted = ids.filter((id) => isValidId(id) && !(j === this.ownJid && id === ownId));
    const unknown = wanted.filter((id) => !devices.find((d) => d.deviceId === id)?.identityKey);
    const fetched = await mapLimit(unknown, FETCH_CONCURRENCY, (id) => this.fetchValid(fetchBundle, j, id));
    const failures: { deviceId: number; reason: string }[] = [];
    const batch: TrustRecord[] = [];
    for (let i = 0; i < unknown.length; i++) {
      const f = fetched[i];
      if ('error' in f) {
        failures.push({ deviceId: unknown[i], reason: f.error });
        continue;
      }
      await this.recordIdentity(j, unknown[i], f.picked.identityKey, batch, false);
    }
    return failures;
  }

  async fetchValid(
    fetchBundle: FetchBundle,
    jid: string,
    deviceId: number,
  ): Promise<{ bundle: Bundle; picked: PickedBundle } | { error: string }> {
    try {
      const bundle = await fetchBundle(jid, deviceId);
      // Validates too; picking now lets the session build skip a second signature check.
      const picked = this.backend.pickBundle(bundle);
      if (bundle.deviceId !== deviceId) {
        throw new OmemoError('bad-bundle', `bundle names device ${bundle.deviceId}, expected ${deviceId}`);
      }
      return { bundle, picked };
    } catch (e) {
      return { error: describeError(e) };
    }
  }

  /**
   * Remember a device's identity key and make sure a trust record exists for it (applying the trust
   * mode to identities never seen before). `batch` collects records created in one operation, so
   * `firstusage` treats all devices discovered on first contact alike.
   */
  async recordIdentity(
    jid: string,
    deviceId: number,
    identityKey: Uint8Array,
    batch: TrustRecord[],
    seenNow: boolean,
  ): Promise<TrustRecord> {
    const now = this.now();
    const memoKey = `${jid}\u0000${deviceId}`;
    const memo = this.storedDevices.get(memoKey);
    if (memo && equalBytes(memo.identityKey, identityKey) && !(seenNow && now - memo.lastSeen >= LAST_SEEN_PRECISION_MS)) {
      // The store already holds this identity and a recent enough lastSeen: nothing to write.
      return this.trustFor(jid, deviceId, memo.fingerprint, now, batch);
    }
    const fp = fingerprintHex(identityKey);
    const devices = await this.store.getDevices(jid);
    const idx = devices.findIndex((d) => d.deviceId === deviceId);
    let changedFrom: string | undefined;
    if (idx < 0) {
      // Not on the device list (e.g. a message from a device we never saw listed): remember it,
      // inactive, so we do not start encrypting for devices the owner did not publish.
      devices.push({ deviceId, active: false, lastSeen: now, identityKey });
      await this.store.putDevices(jid, devices);
    } else {
      const known = devices[idx].identityKey;
      const same = known !== undefined && equalBytes(known, identityKey);
      // Write only on change: this runs for every device of every message, and lastSeen needs
      // no better than hourly precision (a store write per message would dominate the cost).
      const touch = seenNow && now - devices[idx].lastSeen >= LAST_SEEN_PRECISION_MS;
      if (!same || touch) {
        devices[idx] = { ...devices[idx], identityKey, ...(touch ? { lastSeen: now } : {}) };
        await this.store.putDevices(jid, devices);
      }
      if (known !== undefined && !same) changedFrom = fingerprintHex(known);
    }
    const stored = devices[idx < 0 ? devices.length - 1 : idx];
    this.storedDevices.set(memoKey, { identityKey: identityKey.slice(), lastSeen: stored.lastSeen, fingerprint: fp });
    if (changedFrom === undefined) return this.trustFor(jid, deviceId, fp, now, batch);
    // Same device id, another key: someone else may hold this id now. Whatever the trust mode
    // would say of a new device, this one is undecided (only `blind` trusts it, as the user chose).
    const rec = (await this.store.getTrust(jid, fp)) ?? (await this.putTrust(jid, deviceId, fp, now, this.mode === 'blind' ? 'trusted' : 'undecided'));
    this.onIdentityChange?.({ jid, deviceId, oldFingerprint: changedFrom, newFingerprint: fp, state: rec.state });
    return rec;
  }

  private async putTrust(jid: string, deviceId: number, fp: string, now: number, state: TrustState): Promise<TrustRecord> {
    const rec: TrustRecord = { jid, fingerprint: fp, deviceId, state, firstSeen: now };
    await this.store.putTrust(rec);
    return rec;
  }

  /** The trust record of an identity, created by the trust mode if it is new. */
  private async trustFor(jid: string, deviceId: number, fp: string, now: number, batch: TrustRecord[]): Promise<TrustRecord> {
    const existing = await this.store.getTrust(jid, fp);
    if (existing) return existing;
    const records = await this.store.listTrust(jid);
    const state = decideNewIdentity(this.mode, records, batch);
    const rec: TrustRecord = { jid, fingerprint: fp, deviceId, state, firstSeen: now };
    await this.store.putTrust(rec);
    batch.push(rec);
    return rec;
  }

  /** Devices recorded for `jid`, with fingerprint and trust once the identity is known. */
  async listDevices(jid: string): Promise<(DeviceInfo & { fingerprint?: string; trust?: TrustState })[]> {
    const j = bare(jid);
    const out: (DeviceInfo & { fingerprint?: string; trust?: TrustState })[] = [];
    for (const d of await this.store.getDevices(j)) {
      if (!d.identityKey) {
        out.push({ ...d });
        continue;
      }
      const fingerprint = fingerprintHex(d.identityKey);
      const rec = await this.store.getTrust(j, fingerprint);
      out.push({ ...d, fingerprint, ...(rec ? { trust: rec.state } : {}) });
    }
    return out.sort((a, b) => Number(b.active) - Number(a.active) || a.deviceId - b.deviceId);
  }

  /**
   * Set the trust state of an identity of `jid`. The fingerprint may be formatted (spaces, dashes,
   * upper case, 05 prefix): it is normalised. For an identity not seen yet (e.g. from a QR code)
   * pass `deviceId`; otherwise it is looked up from the recorded devices ('invalid-input' if unknown).
   */
  async setTrust(jid: string, fingerprint: string, state: TrustState, deviceId?: number): Promise<TrustRecord> {
    const j = bare(jid);
    const fp = normalizeFingerprint(fingerprint);
    if (!fp) throw new OmemoError('invalid-input', `not a fingerprint: ${fingerprint}`);
    const existing = await this.store.getTrust(j, fp);
    let rec: TrustRecord;
    if (existing) {
      rec = { ...existing, state };
    } else {
      const dev = (await this.store.getDevices(j)).find((d) => d.identityKey && fingerprintHex(d.identityKey) === fp);
      const id = deviceId ?? dev?.deviceId;
      if (id === undefined || !isValidId(id)) {
        throw new OmemoError('invalid-input', `no device of ${j} with fingerprint ${fp} is known; fetch its devices first`);
      }
      rec = { jid: j, fingerprint: fp, deviceId: id, state, firstSeen: this.now() };
    }
    await this.store.putTrust(rec);
    return rec;
  }
}
