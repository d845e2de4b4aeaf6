// libsignal v3 Double Ratchet (ratchet.c / session_state.c / session_cipher.c semantics) for
// legacy OMEMO. A SessionRecord holds the current state plus up to 40 archived ones; each state
// keeps up to 5 receiving chains with up to 2000 skipped message keys each. Encryption mutates
// the state it is given; decryption changes a state only once the message verified, and
// session-cipher.ts stores a record only on success, so a failed decryption changes nothing.
import { OmemoError } from './errors.js';
import { DJB_TYPE } from './keys.js';
import {
  aesCbcDecrypt,
  aesCbcEncrypt,
  equalBytes,
  generateKeyPair,
  hkdfSha256,
  hmacSha256,
  x25519,
  type KeyPair,
} from './primitives.js';
import {
  MAC_LENGTH,
  assembleWhisperMessage,
  decodeStoredSessionRecord,
  encodeStoredSessionRecord,
  encodeWhisperMessageBody,
  type DecodedWhisperMessage,
  type StoredChain,
  type StoredMessageKey,
  type StoredSessionState,
} from './wire.js';

/** libsignal MAX_MESSAGE_KEYS: skipped keys kept per receiving chain (oldest dropped). */
export const MAX_MESSAGE_KEYS = 2000;
/** libsignal: "Over 2000 messages into the future!" */
export const MAX_SKIP = 2000;
/** libsignal MAX_RECEIVER_CHAINS */
export const MAX_RECEIVER_CHAINS = 5;
/** libsignal ARCHIVED_STATES_MAX_LENGTH */
export const MAX_ARCHIVED_STATES = 40;

const RECORD_FORMAT_VERSION = 1;
const ZERO_SALT = new Uint8Array(32);
const enc = new TextEncoder();
const INFO_RATCHET = enc.encode('WhisperRatchet');
const INFO_MESSAGE_KEYS = enc.encode('WhisperMessageKeys');
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

export type SessionState = StoredSessionState;
export type Chain = StoredChain;

export interface MessageKeys {
  cipherKey: Uint8Array;
  macKey: Uint8Array;
  iv: Uint8Array;
}

/** One symmetric-ratchet step: message key seed HMAC(CK, 0x01), next CK HMAC(CK, 0x02). */
export function chainStep(chainKey: Uint8Array): { seed: Uint8Array; next: Uint8Array } {
  return { seed: hmacSha256(chainKey, MESSAGE_KEY_SEED), next: hmacSha256(chainKey, CHAIN_KEY_SEED) };
}

/** HKDF(seed, 32×0, "WhisperMessageKeys", 80) → cipherKey ‖ macKey ‖ iv. */
export function deriveMessageKeys(seed: Uint8Array): MessageKeys {
  // Views into one fresh buffer: nothing else holds it, and these keys are never modified.
  const okm = hkdfSha256(seed, ZERO_SALT, INFO_MESSAGE_KEYS, 80);
  return { cipherKey: okm.subarray(0, 32), macKey: okm.subarray(32, 64), iv: okm.subarray(64, 80) };
}

/** Root KDF (ratchet_root_key_create_chain): HKDF(DH, salt=RK, "WhisperRatchet", 64). */
export function kdfRoot(rootKey: Uint8Array, theirRatchetPub: Uint8Array, ourRatchetPriv: Uint8Array) {
  const okm = hkdfSha256(x25519(ourRatchetPriv, theirRatchetPub), rootKey, INFO_RATCHET, 64);
  return { rootKey: okm.subarray(0, 32), chainKey: okm.subarray(32, 64) };
}

/** First 8 bytes of HMAC-SHA256(macKey, senderIK33 ‖ receiverIK33 ‖ 0x33 ‖ protobuf). */
export function computeMac(macKey: Uint8Array, senderIdentity: Uint8Array, receiverIdentity: Uint8Array, macInput: Uint8Array) {
  // serializePublicKey twice and a concat, in one buffer (this runs for every message).
  if (senderIdentity.length !== 32 || receiverIdentity.length !== 32) {
    throw new OmemoError('bad-key', 'identity keys must be 32 raw bytes');
  }
  const data = new Uint8Array(66 + macInput.length);
  data[0] = DJB_TYPE;
  data.set(senderIdentity, 1);
  data[33] = DJB_TYPE;
  data.set(receiverIdentity, 34);
  data.set(macInput, 66);
  return hmacSha256(macKey, data).subarray(0, MAC_LENGTH);
}

// ---- initialisation (ratcheting_session_alice/bob_initialize) ----

export interface AliceInit {
  ourIdentity: KeyPair;
  theirIdentity: Uint8Array;
  theirSignedPreKey: Uint8Array;
  /** X3DH output. */
  rootKey: Uint8Array;
  chainKey: Uint8Array;
  baseKey: Uint8Array;
  preKeyId: number;
  signedPreKeyId: number;
  localRegistrationId: number;
  remoteRegistrationId: number;
}

/** Alice: X3DH chain becomes a receiving chain for Bob's SPK; she ratchets at once to send. */
export function initAliceState(p: AliceInit): SessionState {
  const sending = generateKeyPair();
  const step = kdfRoot(p.rootKey, p.theirSignedPreKey, sending.priv);
  return {
    localIdentity: p.ourIdentity.pub.slice(),
    remoteIdentity: p.theirIdentity.slice(),
    rootKey: step.rootKey,
    previousCounter: 0,
    senderChain: { ratchetPub: sending.pub, ratchetPriv: sending.priv, chainKey: step.chainKey, index: 0, messageKeys: [] },
    receiverChains: [{ ratchetPub: p.theirSignedPreKey.slice(), chainKey: p.chainKey.slice(), index: 0, messageKeys: [] }],
    pendingPreKey: { preKeyId: p.preKeyId, signedPreKeyId: p.signedPreKeyId, baseKey: p.baseKey.slice() },
    localRegistrationId: p.localRegistrationId,
    remoteRegistrationId: p.remoteRegistrationId,
    aliceBaseKey: p.baseKey.slice(),
  };
}

export interface BobInit {
  ourIdentity: KeyPair;
  ourSignedPreKey: KeyPair;
  theirIdentity: Uint8Array;
  theirBaseKey: Uint8Array;
  rootKey: Uint8Array;
  chainKey: Uint8Array;
  localRegistrationId: number;
  remoteRegistrationId: number;
}

/** Bob: his SPK is his first ratchet key and the X3DH chain his first sending chain. */
export function initBobState(p: BobInit): SessionState {
  return {
    localIdentity: p.ourIdentity.pub.slice(),
    remoteIdentity: p.theirIdentity.slice(),
    rootKey: p.rootKey.slice(),
    previousCounter: 0,
    senderChain: {
      ratchetPub: p.ourSignedPreKey.pub.slice(),
      ratchetPriv: p.ourSignedPreKey.priv.slice(),
      chainKey: p.chainKey.slice(),
      index: 0,
      messageKeys: [],
    },
    receiverChains: [],
    localRegistrationId: p.localRegistrationId,
    remoteRegistrationId: p.remoteRegistrationId,
    aliceBaseKey: p.theirBaseKey.slice(),
  };
}

// ---- encrypt / decrypt within one state ----

/** Encrypts with the sending chain and advances it. Returns the complete WhisperMessage bytes. */
export function ratchetEncrypt(state: SessionState, plaintext: Uint8Array): Uint8Array {
  const chain = state.senderChain;
  if (!chain || !chain.ratchetPriv) throw new OmemoError('no-session', 'session state has no sending chain');
  const { seed, next } = chainStep(chain.chainKey);
  const keys = deriveMessageKeys(seed);
  const macInput = encodeWhisperMessageBody({
    ratchetKey: chain.ratchetPub,
    counter: chain.index,
    previousCounter: state.previousCounter,
    ciphertext: aesCbcEncrypt(keys.cipherKey, keys.iv, plaintext),
  });
  const mac = computeMac(keys.macKey, state.localIdentity, state.remoteIdentity, macInput);
  chain.chainKey = next;
  chain.index += 1;
  return assembleWhisperMessage(macInput, mac);
}

function findReceiverChain(state: SessionState, ratchetPub: Uint8Array): Chain | undefined {
  return state.receiverChains.find((c) => equalBytes(c.ratchetPub, ratchetPub));
}

/** Result of a DH ratchet step on a new remote ratchet key, not yet applied to the state. */
interface RatchetStep {
  rootKey: Uint8Array;
  receivingChainKey: Uint8Array;
  sender: Chain;
}

/** DH ratchet step on a new remote ratchet key (session_cipher_get_or_create_chain_key). */
function ratchetStep(state: SessionState, theirRatchet: Uint8Array): RatchetStep {
  const sender = state.senderChain;
  if (!sender || !sender.ratchetPriv) throw new OmemoError('no-session', 'session state has no sending chain');
  const receiving = kdfRoot(state.rootKey, theirRatchet, sender.ratchetPriv);
  const ourNew = generateKeyPair();
  const sending = kdfRoot(receiving.rootKey, theirRatchet, ourNew.priv);
  return {
    rootKey: sending.rootKey,
    receivingChainKey: receiving.chainKey,
    sender: { ratchetPub: ourNew.pub, ratchetPriv: ourNew.priv, chainKey: sending.chainKey, index: 0, messageKeys: [] },
  };
}

/** Where a message key comes from, computed without touching the chain. */
interface SeedPlan {
  seed: Uint8Array;
  /** Index into the chain's skipped keys when the message was skipped earlier, else -1. */
  storedAt: number;
  /** Keys skipped on the way to `counter` (to be stored) and the chain key after it. */
  skipped: StoredMessageKey[];
  nextChainKey?: Uint8Array;
}

/** session_cipher_get_or_create_message_keys, as a plan: nothing changes until it is applied. */
function planMessageKey(chainKey: Uint8Array, index: number, messageKeys: StoredMessageKey[], counter: number): SeedPlan {
  if (index > counter) {
    const i = messageKeys.findIndex((k) => k.index === counter);
    if (i < 0) throw new OmemoError('duplicate', `message ${counter} was already received`);
    return { seed: messageKeys[i].seed, storedAt: i, skipped: [] };
  }
  if (counter - index > MAX_SKIP) {
    throw new OmemoError('too-far-ahead', `message ${counter} is over ${MAX_SKIP} messages into the future`);
  }
  const skipped: StoredMessageKey[] = [];
  let ck = chainKey;
  for (let idx = index; idx < counter; idx++) {
    const s = chainStep(ck);
    skipped.push({ index: idx, seed: s.seed });
    ck = s.next;
  }
  const s = chainStep(ck);
  return { seed: s.seed, storedAt: -1, skipped, nextChainKey: s.next };
}

function applyPlan(chain: Chain, plan: SeedPlan, counter: number): void {
  if (plan.storedAt >= 0) {
    chain.messageKeys.splice(plan.storedAt, 1);
    return;
  }
  for (const k of plan.skipped) chain.messageKeys.push(k);
  if (chain.messageKeys.length > MAX_MESSAGE_KEYS) chain.messageKeys.splice(0, chain.messageKeys.length - MAX_MESSAGE_KEYS);
  chain.chainKey = plan.nextChainKey!;
  chain.index = counter + 1;
}

export interface StateDecryptResult {
  plaintext: Uint8Array;
  /** Length of the receiving chain the message arrived on (python-omemo's heartbeat input). */
  receivingChainLength: number;
}

/**
 * Decrypts within one state. The state changes only when the message verifies and decrypts
 * (libsignal works on a copy; planning first and applying last spares that copy per message).
 */
export function ratchetDecrypt(state: SessionState, msg: DecodedWhisperMessage): StateDecryptResult {
  if (!state.senderChain) throw new OmemoError('no-session', 'uninitialised session state');
  const existing = findReceiverChain(state, msg.ratchetKey);
  const step = existing ? undefined : ratchetStep(state, msg.ratchetKey);
  const plan = existing
    ? planMessageKey(existing.chainKey, existing.index, existing.messageKeys, msg.counter)
    : planMessageKey(step!.receivingChainKey, 0, [], msg.counter);
  const keys = deriveMessageKeys(plan.seed);
  const mac = computeMac(keys.macKey, state.remoteIdentity, state.localIdentity, msg.macInput);
  if (!equalBytes(mac, msg.mac)) throw new OmemoError('bad-mac', 'WhisperMessage MAC does not verify');
  let plaintext: Uint8Array;
  try {
    plaintext = aesCbcDecrypt(keys.cipherKey, keys.iv, msg.ciphertext);
  } catch (e) {
    throw new OmemoError('bad-payload', `WhisperMessage does not decrypt: ${(e as Error).message}`);
  }
  // Verified: apply.
  let chain: Chain;
  if (existing) {
    chain = existing;
  } else {
    const s = step!;
    const sender = state.senderChain;
    chain = { ratchetPub: msg.ratchetKey.slice(), chainKey: s.receivingChainKey, index: 0, messageKeys: [] };
    state.rootKey = s.rootKey;
    state.receiverChains.push(chain);
    if (state.receiverChains.length > MAX_RECEIVER_CHAINS) state.receiverChains.shift();
    // libsignal quirk kept for byte-compatibility: previous counter = max(index − 1, 0).
    state.previousCounter = Math.max(sender.index - 1, 0);
    state.senderChain = s.sender;
  }
  applyPlan(chain, plan, msg.counter);
  // Any message received on this state acknowledges our key exchange.
  delete state.pendingPreKey;
  return { plaintext, receivingChainLength: chain.index };
}

// ---- record ----

export class SessionRecord {
  current: SessionState | undefined;
  /** Archived states, newest first. */
  previous: SessionState[];

  constructor(current?: SessionState, previous: SessionState[] = []) {
    this.current = current;
    this.previous = previous;
  }

  static deserialize(data: Uint8Array): SessionRecord {
    const r = decodeStoredSessionRecord(data);
    if (r.formatVersion !== RECORD_FORMAT_VERSION) {
      throw new OmemoError('invalid-input', `unknown session record format ${r.formatVersion}`);
    }
    const norm = (s: SessionState): SessionState => {
      // toObject fills empty bytes for absent optional fields: turn those back into "absent".
      if (s.senderChain && s.senderChain.ratchetPub.length === 0) delete s.senderChain;
      if (s.pendingPreKey && s.pendingPreKey.baseKey.length === 0) delete s.pendingPreKey;
      for (const c of s.receiverChains) if (c.ratchetPriv && c.ratchetPriv.length === 0) delete c.ratchetPriv;
      return s;
    };
    return new SessionRecord(r.current ? norm(r.current) : undefined, r.previous.map(norm));
  }

  serialize(): Uint8Array {
    return encodeStoredSessionRecord({ formatVersion: RECORD_FORMAT_VERSION, current: this.current, previous: this.previous });
  }

  /** session_record_has_session_state: any state (current or archived) built from this base key. */
  hasState(baseKey: Uint8Array): boolean {
    return this.allStates().some((s) => equalBytes(s.aliceBaseKey, baseKey));
  }

  allStates(): SessionState[] {
    return this.current ? [this.current, ...this.previous] : [...this.previous];
  }

  /** Make `state` current, archiving the present one (session_record_promote_state). */
  promote(state: SessionState): void {
    if (this.current) this.previous.unshift(this.current);
    this.current = state;
    if (this.previous.length > MAX_ARCHIVED_STATES) this.previous.length = MAX_ARCHIVED_STATES;
  }
}
