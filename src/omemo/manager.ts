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
  refillPreKeys,
  rotateSignedPreKeyIfDue,
  type Bundle,
} from './device.js';
import { OmemoError } from './errors.js';
import { fingerprintHex } from './fingerprint.js';
import { decodeUtf8, encodeUtf8 } from './payload.js';
import type { DeviceAddress, DeviceInfo, OmemoStore, TrustRecord, TrustState } from './store.js';
import { DEFAULT_TRUST_MODE, isUsable, type TrustMode } from './trust.js';
import { bareJid as bare } from '../lib/jid.js';
import type { OmemoBackend, OpenedContent, PickedBundle } from './backend.js';
import { legacyBackend } from './legacy-backend.js';
import { FETCH_CONCURRENCY, IdentityBook, describeError, mapLimit } from './identities.js';
import type {
  DecryptOptions,
  DecryptResult,
  EncryptedElement,
  EncryptOptions,
  EncryptResult,
  FetchBundle,
  ManagerOptions,
  RecipientReport,
} from './manager-types.js';
import { SessionHold, type SessionJournalEntry } from './session-hold.js';

export type { Bundle } from './device.js';
export type { TrustMode } from './trust.js';
export type * from './manager-types.js';
export type { OmemoBackend } from './backend.js';
export type { SessionJournalEntry } from './session-hold.js';
export { MAX_DEVICES_PER_JID, DEVICE_FORGET_AFTER_MS, capDeviceList } from './identities.js';

/** XEP-0384 heartbeat: after this many messages received without replying, send an empty one. */
export const HEARTBEAT_AFTER = 53;
const NO_KEY_TEXT =
  'the message was not encrypted for this device: the sender does not know or does not trust it yet ' +
  '(ask them to refresh your devices and trust this fingerprint)';

export class OmemoManager {
  private readonly store: OmemoStore;
  /** The store as given, behind the page hold (session-hold.ts); `store` is the same object. */
  private readonly hold: SessionHold;
  /** What a dropped catch-up page gives back: the catch-up bookkeeping as it was before it. */
  private pageStart?: { preKeys: Set<number>; replies: Map<string, DeviceAddress> };
  private readonly ownJid: string;
  private mode: TrustMode;
  private readonly now: () => number;
  private readonly rotationMs: number;
  private readonly graceMs: number;
  private readonly backend: OmemoBackend;
  private readonly book: IdentityBook;
  /** Prekeys used during MAM catch-up: deleted in finishCatchUp (the archive may hold retransmissions). */
  private readonly consumedDuringCatchUp = new Set<number>();
  /** Empty replies deferred during catch-up, one per device. */
  private readonly deferredReplies = new Map<string, DeviceAddress>();
  /** The own device id once read: an identity is never replaced. */
  private ownId?: number;

  constructor(store: OmemoStore, opts: ManagerOptions) {
    this.hold = new SessionHold(store);
    this.store = this.hold;
    this.ownJid = bare(opts.ownJid);
    this.mode = opts.trustMode ?? DEFAULT_TRUST_MODE;
    this.now = opts.now ?? Date.now;
    this.rotationMs = opts.signedPreKeyRotationMs ?? DEFAULT_SIGNED_PREKEY_ROTATION_MS;
    this.graceMs = opts.signedPreKeyGraceMs ?? DEFAULT_SIGNED_PREKEY_GRACE_MS;
    this.backend = opts.backend ?? legacyBackend;
    this.book = new IdentityBook({
      store: this.store,
      ownJid: this.ownJid,
      now: this.now,
      mode: () => this.mode,
      backend: this.backend,
      ...(opts.onIdentityChange ? { onIdentityChange: opts.onIdentityChange } : {}),
    });
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

  /** 64 lower-case hex characters. */
  async ownFingerprint(): Promise<string> {
    return fingerprintHex((await this.identity()).identityKey.pub);
  }

  ownBundle(): Promise<Bundle> {
    return this.backend.ownBundle(this.store);
  }

  /** Rotate the signed prekey when due (weekly by default) and expire replaced ones. */
  async rotateSignedPreKeyIfDue(): Promise<{ bundleChanged: boolean }> {
    const bundleChanged = await rotateSignedPreKeyIfDue(this.store, this.now(), this.rotationMs, this.graceMs);
    return { bundleChanged };
  }

  // ---- device lists and identities (identities.ts) ----------------------------------------------

  /** See IdentityBook.processDeviceList. */
  processDeviceList(jid: string, ids: number[]): Promise<{ ownDeviceMissing: boolean; newDevices: number[]; accepted: number[]; ignored: number }> {
    return this.book.processDeviceList(jid, ids);
  }
  learnIdentities(jid: string, ids: number[], fetchBundle: FetchBundle): Promise<{ deviceId: number; reason: string }[]> {
    return this.book.learnIdentities(jid, ids, fetchBundle);
  }
  listDevices(jid: string): Promise<(DeviceInfo & { fingerprint?: string; trust?: TrustState })[]> {
    return this.book.listDevices(jid);
  }
  setTrust(jid: string, fingerprint: string, state: TrustState, deviceId?: number): Promise<TrustRecord> {
    return this.book.setTrust(jid, fingerprint, state, deviceId);
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
    opts: EncryptOptions = {},
  ): Promise<EncryptResult> {
    const me = await this.identity();
    const targets = await this.activeDevices(recipients, me.deviceId);
    const fetched = await this.fetchMissingBundles(targets, fetchBundle);
    const reports: RecipientReport[] = [];
    const ready: DeviceAddress[] = [];
    const batches = new Map<string, TrustRecord[]>();
    for (const t of targets) {
      const batch = batches.get(t.jid) ?? [];
      batches.set(t.jid, batch);
      const report = await this.prepareDevice(t, fetched.get(addrKey(t)), batch, opts.includeUntrusted === true);
      reports.push(report);
      if (report.status === 'ok') ready.push(t);
    }
    const sealed = this.backend.seal(plaintext === null ? null : this.encodeContent(plaintext, opts));
    const keys: EncryptedElement['keys'] = [];
    for (const t of ready) {
      try {
        const { prekey, data } = await this.backend.encryptKey(this.store, t, sealed.keyMaterial);
        keys.push({ jid: t.jid, rid: t.deviceId, prekey, data });
      } catch (e) {
        const r = reports.find((x) => x.jid === t.jid && x.deviceId === t.deviceId);
        if (r) Object.assign(r, { status: 'no-session', reason: describeError(e) });
      }
    }
    const element: EncryptedElement = { sid: me.deviceId, keys, iv: sealed.iv, ...(sealed.payload ? { payload: sealed.payload } : {}) };
    return { element, recipients: reports };
  }

  /** Every active device of the recipients, minus our sending device. */
  private async activeDevices(recipients: string[], ownDeviceId: number): Promise<DeviceAddress[]> {
    const targets: DeviceAddress[] = [];
    for (const jid of new Set(recipients.map(bare))) {
      for (const d of await this.store.getDevices(jid)) {
        if (!d.active) continue;
        if (jid === this.ownJid && d.deviceId === ownDeviceId) continue;
        targets.push({ jid, deviceId: d.deviceId });
      }
    }
    return targets;
  }

  /** Bundles of the devices without a session, fetched in parallel (a few at a time). */
  private async fetchMissingBundles(targets: DeviceAddress[], fetchBundle: FetchBundle): Promise<Map<string, Fetched>> {
    const needBundle: DeviceAddress[] = [];
    for (const t of targets) if (!(await this.backend.hasSession(this.store, t))) needBundle.push(t);
    const results = await mapLimit(needBundle, FETCH_CONCURRENCY, (t) => this.book.fetchValid(fetchBundle, t.jid, t.deviceId));
    const fetched = new Map<string, Fetched>();
    needBundle.forEach((t, i) => fetched.set(addrKey(t), results[i]));
    return fetched;
  }

  /** Records the device's identity, decides by trust, starts a session if needed: its report. */
  private async prepareDevice(t: DeviceAddress, f: Fetched | undefined, batch: TrustRecord[], includeUntrusted: boolean): Promise<RecipientReport> {
    let identityKey: Uint8Array | undefined;
    if (f) {
      if ('error' in f) return { ...t, status: 'bundle-error', reason: f.error };
      identityKey = f.picked.identityKey;
    } else {
      identityKey = (await this.store.getDevices(t.jid)).find((d) => d.deviceId === t.deviceId)?.identityKey;
      if (!identityKey) return { ...t, status: 'untrusted', reason: 'identity key unknown' };
    }
    const rec = await this.book.recordIdentity(t.jid, t.deviceId, identityKey, batch, false);
    if (!isUsable(rec.state) && !includeUntrusted) return { ...t, fingerprint: rec.fingerprint, status: 'untrusted', reason: `identity is ${rec.state}` };
    if (f && 'bundle' in f) {
      try {
        await this.backend.initSession(this.store, t, f.picked);
      } catch (e) {
        return { ...t, fingerprint: rec.fingerprint, status: 'bundle-error', reason: describeError(e) };
      }
    }
    return { ...t, fingerprint: rec.fingerprint, status: 'ok' };
  }

  /**
   * Key-transport message for specific devices we already have sessions with, regardless of trust
   * (it carries only random bytes): completes a session after a PreKey message, or is a heartbeat.
   */
  async emptyMessage(targets: DeviceAddress[]): Promise<EncryptedElement> {
    const me = await this.identity();
    const { iv, keyMaterial } = this.backend.seal(null);
    const keys: EncryptedElement['keys'] = [];
    for (const t of targets) {
      const addr = { jid: bare(t.jid), deviceId: t.deviceId };
      if (!(await this.backend.hasSession(this.store, addr))) continue;
      const { prekey, data } = await this.backend.encryptKey(this.store, addr, keyMaterial);
      keys.push({ jid: addr.jid, rid: addr.deviceId, prekey, data });
    }
    return { sid: me.deviceId, keys, iv };
  }

  // ---- decrypt ---------------------------------------------------------------------------------

  /**
   * Decrypt one element from `senderJid` (bare). Throws OmemoError: 'no-key-for-us' (not encrypted
   * for this device), 'duplicate' (replay: drop quietly), the session/payload codes, and with
   * OMEMO 2 'bad-envelope' / 'envelope-mismatch' (the SCE envelope against the stanza: pass `to`,
   * and `groupchat` for a room, with the occupant's real JID as sender). A failure
   * changes no stored state. On success records the sender's identity (trust mode applies to new
   * ones) and consumes the prekey: deleted and replaced at once (`bundleChanged`), or, with
   * `catchUp`, only when finishCatchUp runs (MAM may still hold retransmissions naming it).
   */
  async decrypt(senderJid: string, el: EncryptedElement, opts: DecryptOptions = {}): Promise<DecryptResult> {
    const ownId = this.ownId ?? (await this.ownDeviceId());
    const jid = bare(senderJid);
    const key = this.keyForUs(jid, el, ownId);
    const addr: DeviceAddress = { jid, deviceId: el.sid };
    const opened = await this.backend.openKey(this.store, addr, key.data, key.prekey);
    // A payload that does not decrypt, or whose envelope is refused, leaves the session as it was:
    // it is stored only after this.
    const content = el.payload === undefined ? null : this.decodeContent(this.backend.open(opened.keyMaterial, el.iv, el.payload), jid, opts);
    await opened.commit();

    const rec = await this.book.recordIdentity(jid, el.sid, opened.senderIdentity, [], true);
    let bundleChanged = false;
    if (opened.usedPreKeyId !== undefined) {
      if (opts.catchUp) this.consumedDuringCatchUp.add(opened.usedPreKeyId);
      else bundleChanged = await this.consumePreKeys([opened.usedPreKeyId]);
    }
    let sendEmptyReply = opened.newSession || opened.receivedSinceLastSend >= HEARTBEAT_AFTER;
    if (sendEmptyReply && opts.catchUp) {
      this.deferredReplies.set(addrKey(addr), addr);
      sendEmptyReply = false;
    }
    return {
      plaintext: content?.body ?? null,
      senderDevice: el.sid,
      fingerprint: rec.fingerprint,
      trust: rec.state,
      bundleChanged,
      sendEmptyReply,
      ...(content?.elements || content?.time !== undefined ? { content: { elements: content.elements ?? [], ...(content.time !== undefined ? { time: content.time } : {}) } } : {}),
    };
  }

  /** The element's key for this device, after checking the element's shape. */
  private keyForUs(jid: string, el: EncryptedElement, ownId: number): EncryptedElement['keys'][number] {
    if (!el || !isValidId(el.sid)) throw new OmemoError('invalid-input', 'encrypted element has no valid sender device id');
    if (!Array.isArray(el.keys) || !(el.iv instanceof Uint8Array) || (el.payload !== undefined && !(el.payload instanceof Uint8Array))) {
      throw new OmemoError('invalid-input', 'malformed encrypted element');
    }
    if (jid === this.ownJid && el.sid === ownId) {
      throw new OmemoError('no-key-for-us', 'this is our own message reflected back; it is never encrypted for the sending device');
    }
    // OMEMO 2 names each key's JID: ours only counts under our own JID.
    const key = el.keys.find((k) => k.rid === ownId && (k.jid === undefined || bare(k.jid) === this.ownJid));
    if (!key) throw new OmemoError('no-key-for-us', NO_KEY_TEXT);
    return key;
  }

  /** The plaintext a body travels as (OMEMO 2: inside an SCE envelope from us, to `opts.to`). */
  private encodeContent(body: string, opts: EncryptOptions): Uint8Array {
    if (!this.backend.encodeContent) return encodeUtf8(body);
    return this.backend.encodeContent(body, { from: this.ownJid, ...(opts.to !== undefined ? { to: bare(opts.to) } : {}), ...(opts.groupchat ? { groupchat: true } : {}) });
  }

  private decodeContent(plaintext: Uint8Array, from: string, opts: DecryptOptions): OpenedContent {
    if (!this.backend.decodeContent) return { body: decodeUtf8(plaintext) };
    return this.backend.decodeContent(plaintext, { from, ...(opts.to !== undefined ? { to: bare(opts.to) } : {}), ...(opts.groupchat ? { groupchat: true } : {}) });
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

  // ---- catch-up pages (session-hold.ts) --------------------------------------------------------

  /** From here until commitPage/dropPage, session writes stay in memory (read back from there). */
  beginPage(): void {
    this.hold.hold();
    this.pageStart = { preKeys: new Set(this.consumedDuringCatchUp), replies: new Map(this.deferredReplies) };
  }

  /** The sessions the page changed: its write-ahead journal, to be committed with its messages. */
  pageJournal(): SessionJournalEntry[] {
    return this.hold.journal();
  }

  /** Writes the page's sessions to the store, one durable write per session. */
  async commitPage(): Promise<void> {
    this.pageStart = undefined;
    await this.hold.flush();
  }

  /** Forgets the page: sessions, used prekeys and due empty replies are as before beginPage. */
  dropPage(): void {
    this.hold.drop();
    if (!this.pageStart) return;
    this.consumedDuringCatchUp.clear();
    for (const id of this.pageStart.preKeys) this.consumedDuringCatchUp.add(id);
    this.deferredReplies.clear();
    for (const [k, a] of this.pageStart.replies) this.deferredReplies.set(k, a);
    this.pageStart = undefined;
  }

  /** Applies a committed page journal whose sessions were not all written (a crash between). */
  replaySessionJournal(entries: SessionJournalEntry[]): Promise<number> {
    return this.hold.replayJournal(entries);
  }
}

type Fetched = { bundle: Bundle; picked: PickedBundle } | { error: string };

function addrKey(a: DeviceAddress): string {
  return `${a.jid}\u0000${a.deviceId}`;
}
