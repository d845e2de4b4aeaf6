// The OMEMO 2 Double Ratchet with python-doubleratchet's semantics (as python-twomemo configures
// it): one sending and one receiving chain; on a new remote ratchet key the rest of the old
// receiving chain (up to the header's pn) is kept as skipped keys, then a DH step. Skipped keys:
// at most MAX_SKIP computed for one message, MAX_SKIPPED_KEYS kept, oldest dropped first.
//   KDF_RK: HKDF-SHA-256(ikm = DH, salt = RK, "OMEMO Root Chain", 64) → RK' ‖ CK
//   KDF_CK: MK = HMAC(CK, 0x01), CK' = HMAC(CK, 0x02)
//   MK → HKDF-SHA-256(MK, 32×0, "OMEMO Message Key Material", 80) → AES-256 key ‖ MAC key ‖ IV
//   MAC = HMAC-SHA-256(MAC key, AD ‖ OMEMOMessage)[0:16], OMEMOMessage = {n, pn, dh_pub, ciphertext}
// Encryption changes the state it is given. Decryption plans first and changes the state only
// once the message has verified and decrypted, so bad input changes nothing.
import { OmemoError } from '../errors.js';
import {
  aesCbcDecrypt,
  aesCbcEncrypt,
  concatBytes,
  equalBytes,
  generateKeyPair,
  hkdfSha256,
  hmacSha256,
  x25519,
  type KeyPair,
} from '../primitives.js';
import { MAC_LENGTH, encodeAuthenticated, encodeOmemoMessage, type DecodedAuthenticated, type StoredSession, type StoredSkippedKey } from './wire.js';

/** Skipped message keys computed for one message at most (python-twomemo's default). */
export const MAX_SKIP = 1000;
/** Skipped message keys kept per session (python-twomemo's default); the oldest go first. */
export const MAX_SKIPPED_KEYS = 1000;

const enc = new TextEncoder();
const INFO_ROOT = enc.encode('OMEMO Root Chain');
const INFO_MESSAGE = enc.encode('OMEMO Message Key Material');
const ZERO_SALT = new Uint8Array(32);
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

export type RatchetState = StoredSession;

export function chainStep(chainKey: Uint8Array): { messageKey: Uint8Array; next: Uint8Array } {
  return { messageKey: hmacSha256(chainKey, MESSAGE_KEY_SEED), next: hmacSha256(chainKey, CHAIN_KEY_SEED) };
}

export function kdfRoot(rootKey: Uint8Array, dh: Uint8Array): { rootKey: Uint8Array; chainKey: Uint8Array } {
  const okm = hkdfSha256(dh, rootKey, INFO_ROOT, 64);
  return { rootKey: okm.slice(0, 32), chainKey: okm.slice(32, 64) };
}

export function messageKeys(mk: Uint8Array): { encKey: Uint8Array; authKey: Uint8Array; iv: Uint8Array } {
  const okm = hkdfSha256(mk, ZERO_SALT, INFO_MESSAGE, 80);
  return { encKey: okm.subarray(0, 32), authKey: okm.subarray(32, 64), iv: okm.subarray(64, 80) };
}

export function computeMac(authKey: Uint8Array, ad: Uint8Array, messageBytes: Uint8Array): Uint8Array {
  return hmacSha256(authKey, concatBytes(ad, messageBytes)).subarray(0, MAC_LENGTH);
}

/** What both ends know after X3DH, and the key exchange the session came from. */
export interface SessionOrigin {
  localIdentity: Uint8Array;
  remoteIdentity: Uint8Array;
  remoteIdentityCurve: Uint8Array;
  keyExchange: StoredSession['keyExchange'];
  /** X3DH's shared secret, the first root key. */
  sk: Uint8Array;
}

/** Initiator: its first ratchet key against the responder's signed prekey gives the sending chain. */
export function initActive(o: SessionOrigin, theirSignedPreKey: Uint8Array, own: KeyPair = generateKeyPair()): RatchetState {
  const send = kdfRoot(o.sk, x25519(own.priv, theirSignedPreKey));
  return {
    ...originFields(o, true),
    rootKey: send.rootKey,
    ownRatchetPriv: own.priv,
    ownRatchetPub: own.pub,
    remoteRatchetPub: theirSignedPreKey.slice(),
    sendingChainKey: send.chainKey,
    sendingLength: 0,
    previousSendingLength: 0,
    receivingLength: 0,
    skipped: [],
  };
}

/**
 * Responder: the signed prekey is its first ratchet key and there is no chain yet; decrypting the
 * initiator's first message makes the DH step that creates both.
 */
export function initPassive(o: SessionOrigin, ourSignedPreKey: KeyPair): RatchetState {
  return {
    ...originFields(o, false),
    rootKey: o.sk.slice(),
    ownRatchetPriv: ourSignedPreKey.priv.slice(),
    ownRatchetPub: ourSignedPreKey.pub.slice(),
    sendingLength: 0,
    previousSendingLength: 0,
    receivingLength: 0,
    skipped: [],
  };
}

function originFields(o: SessionOrigin, initiator: boolean) {
  return {
    initiator,
    confirmed: !initiator,
    localIdentity: o.localIdentity.slice(),
    remoteIdentity: o.remoteIdentity.slice(),
    remoteIdentityCurve: o.remoteIdentityCurve.slice(),
    keyExchange: { ...o.keyExchange, ephemeralKey: o.keyExchange.ephemeralKey.slice() },
  };
}

/** The associated data: initiator's Ed25519 identity ‖ responder's, whoever sends. */
export function associatedData(s: RatchetState): Uint8Array {
  return s.initiator ? concatBytes(s.localIdentity, s.remoteIdentity) : concatBytes(s.remoteIdentity, s.localIdentity);
}

/** Encrypts with the sending chain and advances it: a serialized OMEMOAuthenticatedMessage. */
export function ratchetEncrypt(s: RatchetState, plaintext: Uint8Array): Uint8Array {
  if (!s.sendingChainKey) throw new OmemoError('no-session', 'the session has no sending chain yet');
  const { messageKey, next } = chainStep(s.sendingChainKey);
  const keys = messageKeys(messageKey);
  const messageBytes = encodeOmemoMessage({
    n: s.sendingLength,
    pn: s.previousSendingLength,
    dhPub: s.ownRatchetPub,
    ciphertext: aesCbcEncrypt(keys.encKey, keys.iv, plaintext),
  });
  const mac = computeMac(keys.authKey, associatedData(s), messageBytes);
  s.sendingChainKey = next;
  s.sendingLength += 1;
  return encodeAuthenticated(mac, messageBytes);
}

/** A DH ratchet step on a new remote ratchet key, computed but not applied. */
interface DhStep {
  rootKey: Uint8Array;
  own: KeyPair;
  receivingChainKey: Uint8Array;
  sendingChainKey: Uint8Array;
  previousSendingLength: number;
}

function dhStep(s: RatchetState, theirRatchet: Uint8Array): DhStep {
  const recv = kdfRoot(s.rootKey, x25519(s.ownRatchetPriv, theirRatchet));
  const own = generateKeyPair();
  const send = kdfRoot(recv.rootKey, x25519(own.priv, theirRatchet));
  return {
    rootKey: send.rootKey,
    own,
    receivingChainKey: recv.chainKey,
    sendingChainKey: send.chainKey,
    previousSendingLength: s.sendingChainKey ? s.sendingLength : 0,
  };
}

/** Where a message key comes from; nothing is changed until applyPlan. */
interface Plan {
  messageKey: Uint8Array;
  /** Index into the stored skipped keys when the message was skipped earlier, else −1. */
  storedAt: number;
  step?: DhStep;
  newSkipped: StoredSkippedKey[];
  receivingChainKey?: Uint8Array;
  receivingLength: number;
}

/** Keys of `chainKey` from index `from` up to (excluding) `to`, appended to `out`; the chain key after. */
function skipKeys(chainKey: Uint8Array, ratchetPub: Uint8Array, from: number, to: number, out: StoredSkippedKey[]): Uint8Array {
  let ck = chainKey;
  for (let index = from; index < to; index++) {
    const s = chainStep(ck);
    out.push({ ratchetPub, index, messageKey: s.messageKey });
    ck = s.next;
  }
  return ck;
}

function planMessageKey(s: RatchetState, n: number, pn: number, dhPub: Uint8Array): Plan {
  const storedAt = s.skipped.findIndex((k) => k.index === n && equalBytes(k.ratchetPub, dhPub));
  if (storedAt >= 0) return { messageKey: s.skipped[storedAt].messageKey, storedAt, newSkipped: [], receivingLength: s.receivingLength };
  const newSkipped: StoredSkippedKey[] = [];
  let ck = s.receivingChainKey;
  let len = s.receivingLength;
  let step: DhStep | undefined;
  if (!s.remoteRatchetPub || !equalBytes(dhPub, s.remoteRatchetPub)) {
    // The rest of the old receiving chain, as far as the sender says it went (python-doubleratchet
    // computes none of them when they are too many, and still takes the message).
    if (ck && s.remoteRatchetPub && pn - len <= MAX_SKIP) skipKeys(ck, s.remoteRatchetPub, len, pn, newSkipped);
    step = dhStep(s, dhPub);
    ck = step.receivingChainKey;
    len = 0;
  }
  if (!ck) throw new OmemoError('no-session', 'the session has no receiving chain');
  if (n - len > MAX_SKIP) throw new OmemoError('too-far-ahead', `message ${n} is over ${MAX_SKIP} messages into the future`);
  if (n < len) throw new OmemoError('duplicate', `message ${n} was already received`);
  ck = skipKeys(ck, dhPub, len, n, newSkipped);
  const last = chainStep(ck);
  return { messageKey: last.messageKey, storedAt: -1, step, newSkipped, receivingChainKey: last.next, receivingLength: n + 1 };
}

function applyPlan(s: RatchetState, p: Plan, dhPub: Uint8Array): void {
  if (p.storedAt >= 0) {
    s.skipped.splice(p.storedAt, 1);
    return;
  }
  if (p.step) {
    s.rootKey = p.step.rootKey;
    s.ownRatchetPriv = p.step.own.priv;
    s.ownRatchetPub = p.step.own.pub;
    s.remoteRatchetPub = dhPub.slice();
    s.previousSendingLength = p.step.previousSendingLength;
    s.sendingChainKey = p.step.sendingChainKey;
    s.sendingLength = 0;
  }
  s.skipped.push(...p.newSkipped);
  if (s.skipped.length > MAX_SKIPPED_KEYS) s.skipped.splice(0, s.skipped.length - MAX_SKIPPED_KEYS);
  s.receivingChainKey = p.receivingChainKey;
  s.receivingLength = p.receivingLength;
}

export interface RatchetDecryptResult {
  plaintext: Uint8Array;
  /** Messages received on the current receiving chain (python-omemo's heartbeat input). */
  receivingChainLength: number;
}

/** Verifies, decrypts and only then advances the state. */
export function ratchetDecrypt(s: RatchetState, msg: DecodedAuthenticated): RatchetDecryptResult {
  const { n, pn, dhPub, ciphertext } = msg.message;
  const plan = planMessageKey(s, n, pn, dhPub);
  const keys = messageKeys(plan.messageKey);
  if (!equalBytes(computeMac(keys.authKey, associatedData(s), msg.messageBytes), msg.mac)) {
    throw new OmemoError('bad-mac', 'OMEMOAuthenticatedMessage MAC does not verify');
  }
  let plaintext: Uint8Array;
  try {
    plaintext = aesCbcDecrypt(keys.encKey, keys.iv, ciphertext);
  } catch (e) {
    throw new OmemoError('bad-payload', `OMEMOMessage does not decrypt: ${(e as Error).message}`);
  }
  applyPlan(s, plan, dhPub);
  // Any message received proves the peer has the session: our key exchange is acknowledged.
  s.confirmed = true;
  return { plaintext, receivingChainLength: s.receivingLength };
}
