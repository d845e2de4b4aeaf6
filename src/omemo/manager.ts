// OmemoManager: the one entry point core uses. It encrypts one body for many devices, decrypts one
// <encrypted> element, and keeps the bookkeeping around that (device lists, identities, trust,
// prekey consumption, signed prekey rotation). Pure: no network, the caller passes fetchBundle.
// Not re-entrant: callers serialize calls (core runs everything through one SerialQueue), since
// sessions are read-modify-write.
import {
  DEFAULT_SIGNED_PREKEY_GRACE_MS,
  DEFAULT_SIGNED_PREKEY_ROTATION_MS,
  generateIdentity,
  isValidId,
  ownBundle,
  pickPreKeyBundle,
  refillPreKeys,
  rotateSignedPreKeyIfDue,
  type Bundle,
} from './device.js';
import { OmemoError, isOmemoError } from './errors.js';
import { fingerprintHex, normalizeFingerprint } from './fingerprint.js';
import { decodeUtf8, decryptPayload, encodeUtf8, encryptPayload, keyTransportMaterial } from './payload.js';
import { encryptForDevice, hasSession, initSessionFromBundle, openFromDevice, type PreKeyBundle } from './session-cipher.js';
import type { DeviceAddress, DeviceInfo, OmemoStore, TrustRecord, TrustState } from './store.js';
import { equalBytes } from './primitives.js';
import { DEFAULT_TRUST_MODE, decideNewIdentity, isUsable, type TrustMode } from './trust.js';
import { bareJid as bare } from '../lib/jid.js';

export type { Bundle } from './device.js';
export type { TrustMode } from './trust.js';

/** XML-free <encrypted> model; src/xmpp/omemo-xml.ts converts it to and from stanzas. */
export interface EncryptedElement {
  /** Sender device id (<header sid>). */
  sid: number;
  keys: { rid: number; prekey: boolean; data: Uint8Array }[];
  iv: Uint8Array;
  /** Absent for key-transport / empty messages. */
  payload?: Uint8Array;
}

export type RecipientStatus = 'ok' | 'untrusted' | 'no-session' | 'bundle-error';

export interface RecipientReport {
  jid: string;
  deviceId: number;
  fingerprint?: string;
  status: RecipientStatus;
  reason?: string;
}

export interface EncryptResult {
  element: EncryptedElement;
  /** One entry per device considered (every active device of every recipient, minus ours). */
  recipients: RecipientReport[];
}

export interface DecryptResult {
  /** null = key-transport/empty message: never show it. */
  plaintext: string | null;
  senderDevice: number;
  fingerprint: string;
  trust: TrustState;
  /** A prekey was consumed and replaced: republish the bundle. */
  bundleChanged: boolean;
  /** Send an empty (key-transport) message back: new session completed or heartbeat due. */
  sendEmptyReply: boolean;
}

export interface ManagerOptions {
  /** Own bare JID. */
  ownJid: string;
  trustMode?: TrustMode;
  /** Clock (ms since epoch); tests inject one. */
  now?: () => number;
  signedPreKeyRotationMs?: number;
  signedPreKeyGraceMs?: number;
  /**
   * A known device id came with a different identity key (from its bundle or a PreKey message).
   * The new key is recorded as a new, undecided identity (the old one's trust record stays);
   * the caller must tell the user loudly.
   */
  onIdentityChange?: (change: IdentityChange) => void;
}

export interface IdentityChange {
  jid: string;
  deviceId: number;
  oldFingerprint: string;
  newFingerprint: string;
  /** The trust state the new identity starts in (undecided unless the trust mode is blind). */
  state: TrustState;
}

export type FetchBundle = (jid: string, deviceId: number) => Promise<Bundle>;

/**
 * Devices taken from one JID's list. Real accounts have a handful; a list of thousands only makes
 * work (a bundle fetch and a key per device and message), so the rest are ignored, as
 * Conversations and Dino bound it too.
 */
export const MAX_DEVICES_PER_JID = 50;
/** A device gone from its owner's list is forgotten after this long (its trust record stays). */
export const DEVICE_FORGET_AFTER_MS = 90 * 24 * 3600_000;
/** Bundles fetched at once. */
const FETCH_CONCURRENCY = 8;

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
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
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

/** XEP-0384 heartbeat: after this many messages received without replying, send an empty one. */
export const HEARTBEAT_AFTER = 53;
const LAST_SEEN_PRECISION_MS = 3600_000;

const NO_KEY_TEXT =
  'the message was not encrypted for this device: the sender does not know or does not trust it yet ' +
  '(ask them to refresh your devices and trust this fingerprint)';


function describeError(e: unknown): string {
  if (isOmemoError(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}

export class OmemoManager {
  private readonly store: OmemoStore;
  private readonly ownJid: string;
  private mode: TrustMode;
  private readonly now: () => number;
  private readonly rotationMs: number;
  private readonly graceMs: number;
  private readonly onIdentityChange: ((change: IdentityChange) => void) | undefined;
  /** Prekeys used during MAM catch-up: deleted in finishCatchUp (the archive may hold retransmissions). */
  private readonly consumedDuringCatchUp = new Set<number>();
  /** Empty replies deferred during catch-up, one per device. */
  private readonly deferredReplies = new Map<string, DeviceAddress>();
  /**
   * Per device (jid, id): the identity key and lastSeen the store holds, as this manager last read
   * or wrote them (only the manager writes devices), so a message from a known device costs no
   * device read. Entries of a JID go when its device list is rewritten.
   */
  private readonly storedDevices = new Map<string, { identityKey: Uint8Array; lastSeen: number; fingerprint: string }>();
  /** The own device id once read: an identity is never replaced. */
  private ownId?: number;

  constructor(store: OmemoStore, opts: ManagerOptions) {
    this.store = store;
    this.ownJid = bare(opts.ownJid);
    this.mode = opts.trustMode ?? DEFAULT_TRUST_MODE;
    this.now = opts.now ?? Date.now;
    this.rotationMs = opts.signedPreKeyRotationMs ?? DEFAULT_SIGNED_PREKEY_ROTATION_MS;
    this.graceMs = opts.signedPreKeyGraceMs ?? DEFAULT_SIGNED_PREKEY_GRACE_MS;
    this.onIdentityChange = opts.onIdentityChange;
  }

  get trustMode(): TrustMode {
    return this.mode;
  }
  setTrustMode(mode: TrustMode): void {
    this.mode = mode;
  }

  // ---- own device ------------------------------------------------------------------------------

  /**
   * Create identity, device id (avoiding `existingDeviceIds`, our published list), signed prekey
   * and 100 prekeys if none exist; otherwise top prekeys up to 100. Never replaces an identity.
   */
  async ensureIdentity(existingDeviceIds: number[]): Promise<{ created: boolean; deviceId: number }> {
    const existing = await this.store.getOwnIdentity();
    if (existing) {
      await refillPreKeys(this.store);
      if ((await this.store.listSignedPreKeys()).length === 0) {
        await rotateSignedPreKeyIfDue(this.store, this.now(), this.rotationMs, this.graceMs);
      }
      return { created: false, deviceId: existing.deviceId };
    }
    const id = await generateIdentity(this.store, existingDeviceIds, { now: this.now() });
    return { created: true, deviceId: id.deviceId };
  }

  private async identity() {
    const id = await this.store.getOwnIdentity();
    if (!id) throw new OmemoError('invalid-input', 'no OMEMO identity yet: run /omemo gen');
    return id;
  }

  async ownDeviceId(): Promise<number> {
    this.ownId ??= (await this.identity()).deviceId;
    return this.ownId;
  }

  private forgetStoredDevices(jid: string): void {
    const prefix = `${jid}\u0000`;
    for (const k of this.storedDevices.keys()) if (k.startsWith(prefix)) this.storedDevices.delete(k);
  }

  /** 64 lower-case hex characters. */
  async ownFingerprint(): Promise<string> {
    return fingerprintHex((await this.identity()).identityKey.pub);
  }

  ownBundle(): Promise<Bundle> {
    return ownBundle(this.store);
  }

  /** Rotate the signed prekey when due (weekly by default) and expire replaced ones. */
  async rotateSignedPreKeyIfDue(): Promise<{ bundleChanged: boolean }> {
    const bundleChanged = await rotateSignedPreKeyIfDue(this.store, this.now(), this.rotationMs, this.graceMs);
    return { bundleChanged };
  }

  // ---- device lists and identities -------------------------------------------------------------

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
      await this.recordIdentity(j, unknown[i], f.bundle.identityKey, batch, false);
    }
    return failures;
  }

  private async fetchValid(
    fetchBundle: FetchBundle,
    jid: string,
    deviceId: number,
  ): Promise<{ bundle: Bundle; picked: PreKeyBundle } | { error: string }> {
    try {
      const bundle = await fetchBundle(jid, deviceId);
      // Validates too; picking now lets the session build skip a second signature check.
      const picked = pickPreKeyBundle(bundle);
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
  private async recordIdentity(
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

  // ---- encrypt ---------------------------------------------------------------------------------

  /**
   * Encrypt `plaintext` (or, with null, a key-transport/empty message) for every active device of
   * the given bare JIDs. Pass the contact AND the own JID so our other devices can read it; our
   * sending device never gets a key. Devices without a session get one from `fetchBundle` (fetched
   * in parallel); bad bundles are reported as 'bundle-error'. Only devices whose identity is
   * trusted or verified get a key, unless `includeUntrusted` (use it for key transport only).
   * The caller must check the report: a message with no 'ok' device of the contact is unreadable.
   */
  async encrypt(
    plaintext: string | null,
    recipients: string[],
    fetchBundle: FetchBundle,
    opts: { includeUntrusted?: boolean } = {},
  ): Promise<EncryptResult> {
    const me = await this.identity();
    const jids = [...new Set(recipients.map(bare))];

    type Target = { jid: string; deviceId: number };
    const targets: Target[] = [];
    for (const jid of jids) {
      for (const d of await this.store.getDevices(jid)) {
        if (!d.active) continue;
        if (jid === this.ownJid && d.deviceId === me.deviceId) continue;
        targets.push({ jid, deviceId: d.deviceId });
      }
    }

    const needBundle: Target[] = [];
    for (const t of targets) if (!(await hasSession(this.store, t))) needBundle.push(t);
    const fetched = new Map<string, { bundle: Bundle; picked: PreKeyBundle } | { error: string }>();
    const results = await mapLimit(needBundle, FETCH_CONCURRENCY, (t) => this.fetchValid(fetchBundle, t.jid, t.deviceId));
    needBundle.forEach((t, i) => fetched.set(`${t.jid}\u0000${t.deviceId}`, results[i]));

    const reports: RecipientReport[] = [];
    const ready: Target[] = [];
    const batches = new Map<string, TrustRecord[]>();
    for (const t of targets) {
      const batch = batches.get(t.jid) ?? [];
      batches.set(t.jid, batch);
      const f = fetched.get(`${t.jid}\u0000${t.deviceId}`);
      let identityKey: Uint8Array | undefined;
      if (f) {
        if ('error' in f) {
          reports.push({ ...t, status: 'bundle-error', reason: f.error });
          continue;
        }
        identityKey = f.bundle.identityKey;
      } else {
        identityKey = (await this.store.getDevices(t.jid)).find((d) => d.deviceId === t.deviceId)?.identityKey;
        if (!identityKey) {
          reports.push({ ...t, status: 'untrusted', reason: 'identity key unknown' });
          continue;
        }
      }
      const rec = await this.recordIdentity(t.jid, t.deviceId, identityKey, batch, false);
      if (!isUsable(rec.state) && !opts.includeUntrusted) {
        reports.push({ ...t, fingerprint: rec.fingerprint, status: 'untrusted', reason: `identity is ${rec.state}` });
        continue;
      }
      if (f && 'bundle' in f) {
        try {
          await initSessionFromBundle(this.store, t, f.picked);
        } catch (e) {
          reports.push({ ...t, fingerprint: rec.fingerprint, status: 'bundle-error', reason: describeError(e) });
          continue;
        }
      }
      reports.push({ ...t, fingerprint: rec.fingerprint, status: 'ok' });
      ready.push(t);
    }

    let iv: Uint8Array;
    let keyMaterial: Uint8Array;
    let payload: Uint8Array | undefined;
    if (plaintext === null) {
      ({ iv, keyMaterial } = keyTransportMaterial());
    } else {
      ({ iv, keyMaterial, payload } = encryptPayload(encodeUtf8(plaintext)));
    }
    const keys: EncryptedElement['keys'] = [];
    for (const t of ready) {
      try {
        const { prekey, data } = await encryptForDevice(this.store, t, keyMaterial);
        keys.push({ rid: t.deviceId, prekey, data });
      } catch (e) {
        const r = reports.find((x) => x.jid === t.jid && x.deviceId === t.deviceId)!;
        r.status = 'no-session';
        r.reason = describeError(e);
      }
    }
    const element: EncryptedElement = { sid: me.deviceId, keys, iv, ...(payload ? { payload } : {}) };
    return { element, recipients: reports };
  }

  /**
   * Key-transport message for specific devices we already have sessions with, regardless of trust
   * (it carries only random bytes): completes a session after a PreKey message, or is a heartbeat.
   */
  async emptyMessage(targets: DeviceAddress[]): Promise<EncryptedElement> {
    const me = await this.identity();
    const { iv, keyMaterial } = keyTransportMaterial();
    const keys: EncryptedElement['keys'] = [];
    for (const t of targets) {
      const addr = { jid: bare(t.jid), deviceId: t.deviceId };
      if (!(await hasSession(this.store, addr))) continue;
      const { prekey, data } = await encryptForDevice(this.store, addr, keyMaterial);
      keys.push({ rid: addr.deviceId, prekey, data });
    }
    return { sid: me.deviceId, keys, iv };
  }

  // ---- decrypt ---------------------------------------------------------------------------------

  /**
   * Decrypt one element from `senderJid` (bare). Throws OmemoError: 'no-key-for-us' (not encrypted
   * for this device), 'duplicate' (replay: drop quietly), and the session/payload codes. A failure
   * changes no stored state. On success records the sender's identity (trust mode applies to new
   * ones) and consumes the prekey: deleted and replaced at once (`bundleChanged`), or, with
   * `catchUp`, only when finishCatchUp runs (MAM may still hold retransmissions naming it).
   */
  async decrypt(senderJid: string, el: EncryptedElement, opts: { catchUp?: boolean } = {}): Promise<DecryptResult> {
    const ownId = this.ownId ?? (await this.ownDeviceId());
    const jid = bare(senderJid);
    if (!el || !isValidId(el.sid)) throw new OmemoError('invalid-input', 'encrypted element has no valid sender device id');
    if (!Array.isArray(el.keys) || !(el.iv instanceof Uint8Array) || (el.payload !== undefined && !(el.payload instanceof Uint8Array))) {
      throw new OmemoError('invalid-input', 'malformed encrypted element');
    }
    if (jid === this.ownJid && el.sid === ownId) {
      throw new OmemoError('no-key-for-us', 'this is our own message reflected back; it is never encrypted for the sending device');
    }
    const key = el.keys.find((k) => k.rid === ownId);
    if (!key) throw new OmemoError('no-key-for-us', NO_KEY_TEXT);
    const addr: DeviceAddress = { jid, deviceId: el.sid };

    const opened = await openFromDevice(this.store, addr, key.data, key.prekey);
    const res = opened.result;
    // A payload that does not decrypt leaves the session as it was: it is stored only after this.
    const plaintext = el.payload === undefined ? null : decodeUtf8(decryptPayload(res.plaintext, el.iv, el.payload));
    await opened.commit();

    const rec = await this.recordIdentity(jid, el.sid, res.senderIdentity, [], true);

    let bundleChanged = false;
    if (res.usedPreKeyId !== undefined) {
      if (opts.catchUp) {
        this.consumedDuringCatchUp.add(res.usedPreKeyId);
      } else {
        bundleChanged = await this.consumePreKeys([res.usedPreKeyId]);
      }
    }

    let sendEmptyReply = res.newSession || res.receivedSinceLastSend >= HEARTBEAT_AFTER;
    if (sendEmptyReply && opts.catchUp) {
      this.deferredReplies.set(`${jid}\u0000${el.sid}`, addr);
      sendEmptyReply = false;
    }
    return { plaintext, senderDevice: el.sid, fingerprint: rec.fingerprint, trust: rec.state, bundleChanged, sendEmptyReply };
  }

  private async consumePreKeys(ids: Iterable<number>): Promise<boolean> {
    let removed = false;
    for (const id of ids) {
      if (await this.store.getPreKey(id)) {
        await this.store.removePreKey(id);
        removed = true;
      }
    }
    if (removed) await refillPreKeys(this.store);
    return removed;
  }

  /**
   * End of MAM catch-up: delete the prekeys consumed meanwhile, refill, and hand back the devices
   * that should get an empty message (one per device, not one per archived PreKey message).
   */
  async finishCatchUp(): Promise<{ bundleChanged: boolean; emptyReplies: DeviceAddress[] }> {
    const bundleChanged = await this.consumePreKeys([...this.consumedDuringCatchUp]);
    this.consumedDuringCatchUp.clear();
    const emptyReplies = [...this.deferredReplies.values()];
    this.deferredReplies.clear();
    return { bundleChanged, emptyReplies };
  }
}
