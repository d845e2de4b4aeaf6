// Our own device: identity, device id, one-time prekeys and the signed prekey, plus the bundle
// model shared with peers (validation and picking a prekey for X3DH).
import { OmemoError } from './errors.js';
import { serializePublicKey } from './keys.js';
import { generateKeyPair, randomBytes } from './primitives.js';
import { markSignatureVerified, type PreKeyBundle } from './session-cipher.js';
import type { OmemoStore, OwnIdentity, PreKeyRecord, SignedPreKeyRecord } from './store.js';
import { xeddsaSign, xeddsaVerify } from './xeddsa.js';

export const MAX_ID = 0x7fffffff; // 2^31−1: Java's parseInt crashed above (Conversations#2061)
/** Conversations, Profanity and python-omemo all publish 100. */
export const PREKEY_COUNT = 100;
/** python-omemo's default rotation period. */
export const DEFAULT_SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 3600 * 1000;
/** Replaced signed prekeys still decrypt late PreKey messages (e.g. from MAM) this long. */
export const DEFAULT_SIGNED_PREKEY_GRACE_MS = 30 * 24 * 3600 * 1000;

/** A device's published bundle with raw 32-byte keys (the XML layer adds/strips 0x05). */
export interface Bundle {
  deviceId: number;
  identityKey: Uint8Array;
  signedPreKeyId: number;
  signedPreKey: Uint8Array;
  /** 64-byte XEdDSA signature over 0x05‖signedPreKey. */
  signedPreKeySignature: Uint8Array;
  preKeys: { id: number; key: Uint8Array }[];
}

export function isValidId(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_ID;
}

function randomId(): number {
  const b = randomBytes(4);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) & MAX_ID;
}

/** Random device id in 1..2^31−1 that is not in `existing` (ids already on our device list). */
export function generateDeviceId(existing: readonly number[] = []): number {
  const taken = new Set(existing);
  for (;;) {
    const id = randomId();
    if (id !== 0 && !taken.has(id)) return id;
  }
}

/**
 * Create identity key pair, device id, the first signed prekey and 100 prekeys.
 * Refuses ('invalid-input') to replace an existing identity unless `force`: a new identity breaks
 * every session and every trust decision peers made about us. With `force` the old prekeys and
 * signed prekeys (signed by the old identity) are deleted; the prekey counter keeps counting.
 */
export async function generateIdentity(
  store: OmemoStore,
  existingIds: readonly number[] = [],
  opts: { force?: boolean; now?: number } = {},
): Promise<OwnIdentity> {
  const old = await store.getOwnIdentity();
  if (old && !opts.force) {
    throw new OmemoError('invalid-input', `an OMEMO identity already exists (device ${old.deviceId}); pass force to replace it`);
  }
  const now = opts.now ?? Date.now();
  if (old) {
    for (const pk of await store.listPreKeys()) await store.removePreKey(pk.id);
    for (const spk of await store.listSignedPreKeys()) await store.removeSignedPreKey(spk.id);
  }
  const identity: OwnIdentity = {
    deviceId: generateDeviceId(old ? [...existingIds, old.deviceId] : existingIds),
    identityKey: generateKeyPair(),
  };
  await store.setOwnIdentity(identity);
  await store.putSignedPreKey(makeSignedPreKey(identity, 1, now));
  await refillPreKeys(store);
  return identity;
}

function makeSignedPreKey(identity: OwnIdentity, id: number, now: number): SignedPreKeyRecord {
  const keyPair = generateKeyPair();
  const signature = xeddsaSign(identity.identityKey.priv, serializePublicKey(keyPair.pub));
  return { id, keyPair, signature, createdAt: now };
}

/**
 * Top the one-time prekeys up to `target`. Ids come from the store's counter, which only grows,
 * so a deleted prekey id is never handed out again (senders may still hold the old key).
 * Returns the new records (empty if nothing was needed).
 */
export async function refillPreKeys(store: OmemoStore, target = PREKEY_COUNT): Promise<PreKeyRecord[]> {
  const have = await store.listPreKeys();
  const need = target - have.length;
  if (need <= 0) return [];
  const used = new Set(have.map((p) => p.id));
  let counter = await store.getPreKeyCounter();
  const fresh: PreKeyRecord[] = [];
  while (fresh.length < need) {
    counter = counter >= MAX_ID ? 1 : counter + 1; // wraps only after 2^31 prekeys; skips live ids
    if (used.has(counter)) continue;
    fresh.push({ id: counter, keyPair: generateKeyPair() });
  }
  // Counter first: a crash between the two writes skips ids rather than reusing them.
  await store.setPreKeyCounter(counter);
  await store.putPreKeys(fresh);
  return fresh;
}

/** The signed prekey we publish: the newest one. */
export async function currentSignedPreKey(store: OmemoStore): Promise<SignedPreKeyRecord> {
  const all = await store.listSignedPreKeys();
  if (all.length === 0) throw new OmemoError('invalid-input', 'no signed prekey: identity not initialised');
  return newest(all);
}

function newest(all: SignedPreKeyRecord[]): SignedPreKeyRecord {
  return all.reduce((a, b) => (b.createdAt > a.createdAt || (b.createdAt === a.createdAt && b.id > a.id) ? b : a));
}

/**
 * Rotate the signed prekey when the current one is at least `rotationMs` old, and delete replaced
 * ones whose successor is older than `graceMs` (a replaced key keeps decrypting PreKey messages
 * that were in flight or sit in MAM). Returns whether the published bundle changed.
 */
export async function rotateSignedPreKeyIfDue(
  store: OmemoStore,
  now: number,
  rotationMs = DEFAULT_SIGNED_PREKEY_ROTATION_MS,
  graceMs = DEFAULT_SIGNED_PREKEY_GRACE_MS,
): Promise<boolean> {
  const identity = await store.getOwnIdentity();
  if (!identity) throw new OmemoError('invalid-input', 'no OMEMO identity');
  let all = await store.listSignedPreKeys();
  let changed = false;
  if (all.length === 0 || now - newest(all).createdAt >= rotationMs) {
    const maxId = all.reduce((m, r) => Math.max(m, r.id), 0);
    const rec = makeSignedPreKey(identity, maxId >= MAX_ID ? 1 : maxId + 1, now);
    await store.putSignedPreKey(rec);
    all = [...all.filter((r) => r.id !== rec.id), rec];
    changed = true;
  }
  // A key was replaced when its successor was created.
  const sorted = [...all].sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
  for (let i = 0; i < sorted.length - 1; i++) {
    if (now - sorted[i + 1].createdAt > graceMs) await store.removeSignedPreKey(sorted[i].id);
  }
  return changed;
}

/** Our bundle as published: newest signed prekey and every current one-time prekey. */
export async function ownBundle(store: OmemoStore): Promise<Bundle> {
  const identity = await store.getOwnIdentity();
  if (!identity) throw new OmemoError('invalid-input', 'no OMEMO identity');
  const spk = await currentSignedPreKey(store);
  const preKeys = (await store.listPreKeys()).sort((a, b) => a.id - b.id).map((p) => ({ id: p.id, key: p.keyPair.pub }));
  return {
    deviceId: identity.deviceId,
    identityKey: identity.identityKey.pub,
    signedPreKeyId: spk.id,
    signedPreKey: spk.keyPair.pub,
    signedPreKeySignature: spk.signature,
    preKeys,
  };
}

// ------------------------------------------------------------------------------------------------
// Low-order points. X25519 with a clamped scalar maps every point of order dividing 8 to zero, so
// a peer offering one makes the shared secret public. X25519 ignores the top bit and reduces mod p;
// below 2^255 only 0 and 1 have a second encoding (p, p+1), so libsodium's seven encodings are all
// of them: 0, 1, the two order-8 u-coordinates, p−1, p and p+1.
const P = (1n << 255n) - 19n;
const LOW_ORDER_ENCODINGS: readonly Uint8Array[] = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P - 1n,
  P,
  P + 1n,
].map((u) => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
});

/** Byte comparison against the list (no BigInt: bundles carry ~100 keys, checked on every fetch). */
export function isLowOrderPoint(raw32: Uint8Array): boolean {
  let found = 0;
  for (const enc of LOW_ORDER_ENCODINGS) {
    let diff = (raw32[31] & 0x7f) ^ enc[31];
    for (let i = 0; i < 31; i++) diff |= raw32[i] ^ enc[i];
    found |= diff === 0 ? 1 : 0;
  }
  return found !== 0;
}

function checkKey(k: unknown, what: string): asserts k is Uint8Array {
  if (!(k instanceof Uint8Array) || k.length !== 32) {
    throw new OmemoError('bad-bundle', `${what} must be a 32-byte key, got ${k instanceof Uint8Array ? k.length + ' bytes' : typeof k}`);
  }
  if (isLowOrderPoint(k)) throw new OmemoError('bad-key', `${what} is a low-order point`);
}

/**
 * Check a peer's bundle before using it: 'bad-bundle' for missing parts, wrong lengths, invalid
 * ids or no prekeys; 'bad-key' for low-order points; 'bad-signature' when the signed prekey's
 * XEdDSA signature (over 0x05‖spk, libsignal sign-bit convention) does not verify.
 * Prekeys that are individually malformed make the whole bundle bad: a peer publishing junk is
 * broken, and silently skipping would hide it.
 */
export function validateBundle(bundle: Bundle): void {
  if (!bundle || typeof bundle !== 'object') throw new OmemoError('bad-bundle', 'bundle missing');
  if (!isValidId(bundle.deviceId)) throw new OmemoError('bad-bundle', `invalid device id ${String(bundle.deviceId)}`);
  if (!isValidId(bundle.signedPreKeyId)) throw new OmemoError('bad-bundle', `invalid signed prekey id ${String(bundle.signedPreKeyId)}`);
  checkKey(bundle.identityKey, 'identity key');
  checkKey(bundle.signedPreKey, 'signed prekey');
  const sig = bundle.signedPreKeySignature;
  if (!(sig instanceof Uint8Array) || sig.length !== 64) throw new OmemoError('bad-bundle', 'signed prekey signature must be 64 bytes');
  if (!Array.isArray(bundle.preKeys) || bundle.preKeys.length === 0) {
    throw new OmemoError('bad-bundle', 'bundle has no one-time prekeys');
  }
  for (const pk of bundle.preKeys) {
    if (!pk || !isValidId(pk.id)) throw new OmemoError('bad-bundle', `invalid prekey id ${String(pk?.id)}`);
    checkKey(pk.key, `prekey ${pk.id}`);
  }
  if (!signatureVerifies(bundle.identityKey, serializePublicKey(bundle.signedPreKey), sig)) throw new OmemoError('bad-signature', 'signed prekey signature does not verify against the identity key');
}

/** A malformed key or signature is simply one that does not verify. */
function signatureVerifies(identityKey: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean {
  try {
    return xeddsaVerify(identityKey, message, sig);
  } catch {
    return false;
  }
}

/** Validate and choose one random one-time prekey for X3DH (the signature is verified once here). */
export function pickPreKeyBundle(bundle: Bundle): PreKeyBundle {
  validateBundle(bundle);
  const b = randomBytes(4);
  const idx = (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) % bundle.preKeys.length;
  const pk = bundle.preKeys[idx];
  const picked: PreKeyBundle = {
    deviceId: bundle.deviceId,
    identityKey: bundle.identityKey,
    signedPreKeyId: bundle.signedPreKeyId,
    signedPreKey: bundle.signedPreKey,
    signedPreKeySignature: bundle.signedPreKeySignature,
    preKeyId: pk.id,
    preKey: pk.key,
  };
  // initSessionFromBundle need not verify the signature again.
  markSignatureVerified(picked);
  return picked;
}
