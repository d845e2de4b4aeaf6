// Session cipher for legacy OMEMO, libsignal session_builder.c / session_cipher.c semantics:
// - every operation decodes the stored record afresh, works on that copy and stores it only on
//   success, so bad input never changes stored state;
// - the state that produced a ciphertext is stored (awaited) before the ciphertext is returned;
// - until a message arrives on a session we keep wrapping outgoing messages in the same
//   PreKeyWhisperMessage, and a receiver matches repeated PreKey messages by base key without
//   looking the (possibly deleted) prekey up again.
import { OmemoError, isOmemoError } from './errors.js';
import { serializePublicKey } from './keys.js';
import { concatBytes, equalBytes, generateKeyPair } from './primitives.js';
import {
  SessionRecord,
  initAliceState,
  initBobState,
  ratchetDecrypt,
  ratchetEncrypt,
  type SessionState,
} from './ratchet.js';
import type { DeviceAddress, OmemoStore, OwnIdentity } from './store.js';
import {
  decodePreKeyWhisperMessage,
  decodeWhisperMessage,
  encodePreKeyWhisperMessage,
  type DecodedWhisperMessage,
} from './wire.js';
import { x3dhInitiator, x3dhResponder } from './x3dh.js';
import { xeddsaVerify } from './xeddsa.js';

export interface PreKeyBundle {
  deviceId: number;
  /** Raw 32-byte Curve25519 identity key. */
  identityKey: Uint8Array;
  signedPreKeyId: number;
  /** Raw 32-byte X25519 signed prekey. */
  signedPreKey: Uint8Array;
  /** 64-byte XEdDSA signature over 0x05‖signedPreKey (libsignal sign-bit convention). */
  signedPreKeySignature: Uint8Array;
  preKeyId: number;
  /** Raw 32-byte X25519 one-time prekey. */
  preKey: Uint8Array;
}

export interface DecryptResult {
  plaintext: Uint8Array;
  /** Raw 32-byte identity key of the sender (from the session state that decrypted). */
  senderIdentity: Uint8Array;
  /** Set when a PreKeyWhisperMessage built a new session from this prekey (caller replaces it). */
  usedPreKeyId?: number;
  newSession: boolean;
  /**
   * Length of the receiving chain this message arrived on, i.e. messages the peer has sent since
   * it last saw a reply from us (python-omemo's heartbeat input; send an empty message above 53).
   */
  receivedSinceLastSend: number;
}

async function ownIdentity(store: OmemoStore): Promise<OwnIdentity> {
  const own = await store.getOwnIdentity();
  if (!own) throw new OmemoError('invalid-input', 'no own OMEMO identity in the store');
  return own;
}

/**
 * The record each store last accepted per address, decoded, with the exact bytes stored. Decoding
 * costs more than a message's symmetric crypto; when the store hands back those same bytes, the
 * decoded record is what decoding would give. An entry is taken out when loaded (the operation may
 * change the record) and put back only after a successful store, so a failed operation leaves
 * nothing half-changed behind.
 */
const decodedRecords = new WeakMap<OmemoStore, Map<string, { bytes: Uint8Array; record: SessionRecord }>>();
const DECODED_RECORDS_MAX = 512;
const addrKey = (a: DeviceAddress) => `${a.jid}\u0000${a.deviceId}`;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

async function loadRecord(store: OmemoStore, addr: DeviceAddress): Promise<SessionRecord | undefined> {
  const data = await store.loadSession(addr);
  const cache = decodedRecords.get(store);
  const hit = cache?.get(addrKey(addr));
  if (hit) cache!.delete(addrKey(addr));
  if (!data) return undefined;
  return hit && sameBytes(hit.bytes, data) ? hit.record : SessionRecord.deserialize(data);
}

async function saveRecord(store: OmemoStore, addr: DeviceAddress, record: SessionRecord): Promise<void> {
  const bytes = record.serialize();
  await store.storeSession(addr, bytes);
  let cache = decodedRecords.get(store);
  if (!cache) decodedRecords.set(store, (cache = new Map<string, { bytes: Uint8Array; record: SessionRecord }>()));
  cache.set(addrKey(addr), { bytes, record });
  if (cache.size > DECODED_RECORDS_MAX) cache.delete(cache.keys().next().value as string);
}

function isBytes(b: unknown, n: number): b is Uint8Array {
  return b instanceof Uint8Array && b.length === n;
}

function isId(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
}

/**
 * PreKeyBundles whose signature pickPreKeyBundle has just verified, with the bytes it verified.
 * Verification (~0.2 ms) is the dearest step of a new session; this spares doing it twice for
 * one pick. Keyed by the object pickPreKeyBundle returned, so nothing outlives that bundle, and
 * the bytes are compared again in case the object was changed in between.
 */
const verifiedBundles = new WeakMap<PreKeyBundle, Uint8Array>();

function signedPart(b: PreKeyBundle): Uint8Array {
  return concatBytes(b.identityKey, b.signedPreKey, b.signedPreKeySignature);
}

/** For pickPreKeyBundle only: `bundle`'s signed prekey signature has just been verified. */
export function markSignatureVerified(bundle: PreKeyBundle): void {
  verifiedBundles.set(bundle, signedPart(bundle));
}

function signatureVerifies(bundle: PreKeyBundle): boolean {
  const seen = verifiedBundles.get(bundle);
  if (seen && equalBytes(seen, signedPart(bundle))) return true;
  return xeddsaVerify(bundle.identityKey, serializePublicKey(bundle.signedPreKey), bundle.signedPreKeySignature);
}

/** Initiator side: verify the bundle, run X3DH and make the new state current. */
export async function initSessionFromBundle(store: OmemoStore, addr: DeviceAddress, bundle: PreKeyBundle): Promise<void> {
  if (!isBytes(bundle.identityKey, 32) || !isBytes(bundle.signedPreKey, 32)) {
    throw new OmemoError('bad-bundle', 'bundle identity key or signed prekey is not 32 bytes');
  }
  if (!isBytes(bundle.preKey, 32) || !isId(bundle.preKeyId)) {
    // Every key exchange must use a one-time prekey (Conversations#1832).
    throw new OmemoError('bad-bundle', 'bundle has no usable one-time prekey');
  }
  if (!isId(bundle.signedPreKeyId) && bundle.signedPreKeyId !== 0) {
    throw new OmemoError('bad-bundle', 'bundle signed prekey id is invalid');
  }
  if (!isBytes(bundle.signedPreKeySignature, 64)) throw new OmemoError('bad-signature', 'signature is not 64 bytes');
  if (!signatureVerifies(bundle)) {
    throw new OmemoError('bad-signature', `signed prekey signature of device ${addr.deviceId} does not verify`);
  }
  const own = await ownIdentity(store);
  const record = (await loadRecord(store, addr)) ?? new SessionRecord();
  const base = generateKeyPair();
  const x = x3dhInitiator({
    ourIdentity: own.identityKey,
    ourBase: base,
    theirIdentity: bundle.identityKey,
    theirSignedPreKey: bundle.signedPreKey,
    theirOneTimePreKey: bundle.preKey,
  });
  const state = initAliceState({
    ourIdentity: own.identityKey,
    theirIdentity: bundle.identityKey,
    theirSignedPreKey: bundle.signedPreKey,
    rootKey: x.rootKey32,
    chainKey: x.chainKey32,
    baseKey: base.pub,
    preKeyId: bundle.preKeyId,
    signedPreKeyId: bundle.signedPreKeyId,
    localRegistrationId: own.deviceId,
    remoteRegistrationId: bundle.deviceId,
  });
  record.promote(state);
  await saveRecord(store, addr, record);
}

export async function hasSession(store: OmemoStore, addr: DeviceAddress): Promise<boolean> {
  const data = await store.loadSession(addr);
  if (!data) return false;
  // Only looks: the decoded record stays cached for the operation that follows.
  const hit = decodedRecords.get(store)?.get(addrKey(addr));
  if (hit && sameBytes(hit.bytes, data)) return hit.record.current?.senderChain !== undefined;
  try {
    return SessionRecord.deserialize(data).current?.senderChain !== undefined;
  } catch {
    return false;
  }
}

/** Encrypt key material for one device with its current session state. */
export async function encryptForDevice(
  store: OmemoStore,
  addr: DeviceAddress,
  plaintext: Uint8Array,
): Promise<{ prekey: boolean; data: Uint8Array }> {
  const record = await loadRecord(store, addr);
  const state = record?.current;
  if (!record || !state) throw new OmemoError('no-session', `no session with ${addr.jid}/${addr.deviceId}`);
  const message = ratchetEncrypt(state, plaintext);
  let data = message;
  const pending = state.pendingPreKey;
  if (pending) {
    data = encodePreKeyWhisperMessage({
      registrationId: state.localRegistrationId,
      preKeyId: pending.preKeyId,
      signedPreKeyId: pending.signedPreKeyId,
      baseKey: pending.baseKey,
      identityKey: state.localIdentity,
      message,
    });
  }
  // Durable before the ciphertext leaves: a crash must never reuse this message key.
  await saveRecord(store, addr, record);
  return { prekey: pending !== undefined, data };
}

const ERROR_PRIORITY = ['duplicate', 'too-far-ahead'];

/** session_cipher_decrypt_from_record_and_signal_message: current state first, then archived ones. */
function decryptWithRecord(record: SessionRecord, msg: DecodedWhisperMessage) {
  const candidates = record.allStates();
  if (candidates.length === 0) throw new OmemoError('no-session', 'no session state');
  const errors: OmemoError[] = [];
  for (let i = 0; i < candidates.length; i++) {
    // ratchetDecrypt changes a state only on success, so no copy is needed to try the next one.
    const state: SessionState = candidates[i];
    try {
      const res = ratchetDecrypt(state, msg);
      if (!(i === 0 && record.current)) {
        record.previous.splice(record.current ? i - 1 : i, 1);
        record.promote(state);
      }
      return { ...res, state };
    } catch (e) {
      if (!isOmemoError(e)) throw e;
      errors.push(e);
    }
  }
  for (const code of ERROR_PRIORITY) {
    const e = errors.find((x) => x.code === code);
    if (e) throw e;
  }
  throw errors[0];
}

/** Decrypt one `<key>` for us. prekey=true: PreKeyWhisperMessage, else WhisperMessage. */
export async function decryptFromDevice(
  store: OmemoStore,
  addr: DeviceAddress,
  data: Uint8Array,
  prekey: boolean,
): Promise<DecryptResult> {
  const opened = await openFromDevice(store, addr, data, prekey);
  await opened.commit();
  return opened.result;
}

/**
 * decryptFromDevice without the store: `commit()` stores the advanced session. Until then the
 * stored session is untouched, so a caller that finds the content unusable (e.g. the payload the
 * key was for does not decrypt) simply does not commit. The plaintext must not be used or
 * returned before commit() has resolved: the state that decrypted it has to be durable first.
 */
export async function openFromDevice(
  store: OmemoStore,
  addr: DeviceAddress,
  data: Uint8Array,
  prekey: boolean,
): Promise<{ result: DecryptResult; commit(): Promise<void> }> {
  let record = await loadRecord(store, addr);
  let usedPreKeyId: number | undefined;
  let newSession = false;
  let whisper: DecodedWhisperMessage;
  if (prekey) {
    const msg = decodePreKeyWhisperMessage(data);
    record ??= new SessionRecord();
    whisper = msg.whisper;
    // A retransmitted key exchange falls through to the state it already built.
    if (!record.hasState(msg.baseKey)) {
      const own = await ownIdentity(store);
      const spk = await store.getSignedPreKey(msg.signedPreKeyId);
      if (!spk) throw new OmemoError('unknown-signed-prekey', `no signed prekey ${msg.signedPreKeyId}`);
      const opk = await store.getPreKey(msg.preKeyId);
      if (!opk) throw new OmemoError('unknown-prekey', `no prekey ${msg.preKeyId} (deleted or never issued)`);
      const x = x3dhResponder({
        ourIdentity: own.identityKey,
        ourSignedPreKey: spk.keyPair,
        ourOneTimePreKey: opk.keyPair,
        theirIdentity: msg.identityKey,
        theirBase: msg.baseKey,
      });
      record.promote(
        initBobState({
          ourIdentity: own.identityKey,
          ourSignedPreKey: spk.keyPair,
          theirIdentity: msg.identityKey,
          theirBaseKey: msg.baseKey,
          rootKey: x.rootKey32,
          chainKey: x.chainKey32,
          localRegistrationId: own.deviceId,
          remoteRegistrationId: msg.registrationId,
        }),
      );
      usedPreKeyId = msg.preKeyId;
      newSession = true;
    }
  } else {
    whisper = decodeWhisperMessage(data);
    if (!record) throw new OmemoError('no-session', `no session with ${addr.jid}/${addr.deviceId}`);
  }
  const res = decryptWithRecord(record, whisper);
  const decrypted = record;
  return {
    result: {
      plaintext: res.plaintext,
      senderIdentity: res.state.remoteIdentity.slice(),
      ...(usedPreKeyId !== undefined ? { usedPreKeyId } : {}),
      newSession,
      receivedSinceLastSend: res.receivingChainLength,
    },
    commit: () => saveRecord(store, addr, decrypted),
  };
}
