// OMEMO 2 sessions with python-omemo/twomemo semantics, one per remote device:
// - the initiator wraps every message in the same OMEMOKeyExchange until a message arrives on the
//   session (kex='true'); the responder never wraps;
// - a received key exchange whose ik, ek and ids are those the current session was built from is
//   a retransmission: only its embedded message is decrypted, the (possibly deleted) prekey is not
//   looked up again; any other key exchange builds a new session that replaces the old one;
// - every operation decodes the stored session afresh and stores it only on success, and the
//   state that produced a ciphertext is stored before the ciphertext is returned.
import { reportCaught } from '../../lib/diagnostics.js';
import { OmemoError } from '../errors.js';
import { equalBytes } from '../primitives.js';
import type { DeviceAddress, OmemoStore, OwnIdentity } from '../store.js';
import { ownEd25519Identity, peerIdentityCurve } from './identity.js';
import { initActive, initPassive, ratchetDecrypt, ratchetEncrypt, type RatchetState } from './ratchet.js';
import { decodeAuthenticated, decodeKeyExchange, decodeStoredSession, encodeKeyExchange, encodeStoredSession, type DecodedAuthenticated, type DecodedKeyExchange } from './wire.js';
import { x3dhActive, x3dhPassive } from './x3dh.js';

/** A validated bundle reduced to what the initiator needs (bundle.ts picks it). */
export interface PickedPreKeyBundle {
  /** Ed25519 identity key as published, and its Curve25519 form. */
  identityKey: Uint8Array;
  identityCurve: Uint8Array;
  signedPreKeyId: number;
  signedPreKey: Uint8Array;
  preKeyId: number;
  preKey: Uint8Array;
}

export interface OpenResult {
  plaintext: Uint8Array;
  /** The sender's identity in Curve25519 form (fingerprints and trust). */
  senderIdentity: Uint8Array;
  /** Set when a key exchange built a new session from this prekey (the caller replaces it). */
  usedPreKeyId?: number;
  newSession: boolean;
  receivedSinceLastSend: number;
}

async function ownIdentity(store: OmemoStore): Promise<OwnIdentity> {
  const own = await store.getOwnIdentity();
  if (!own) throw new OmemoError('invalid-input', 'no own OMEMO identity in the store');
  return own;
}

async function load(store: OmemoStore, addr: DeviceAddress): Promise<RatchetState | undefined> {
  const data = await store.loadSession(addr);
  return data ? decodeStoredSession(data) : undefined;
}

function save(store: OmemoStore, addr: DeviceAddress, s: RatchetState): Promise<void> {
  return store.storeSession(addr, encodeStoredSession(s));
}

export async function hasSession(store: OmemoStore, addr: DeviceAddress): Promise<boolean> {
  const data = await store.loadSession(addr);
  if (!data) return false;
  try {
    return decodeStoredSession(data).sendingChainKey !== undefined;
  } catch (e) {
    // Not an OMEMO 2 session (corrupt, or legacy's in a slot both versions use): none to use here,
    // and someone should know why a session is rebuilt.
    reportCaught(`omemo2: stored session with ${addr.jid}/${addr.deviceId} is unreadable`, e, 'warn');
    return false;
  }
}

/** Initiator: X3DH against a picked bundle; the new session replaces any stored one. */
export async function initSession(store: OmemoStore, addr: DeviceAddress, b: PickedPreKeyBundle): Promise<void> {
  const own = await ownIdentity(store);
  const ownEd = ownEd25519Identity(own.identityKey);
  const x = x3dhActive({
    ourIdentity: own.identityKey,
    ourIdentityEd: ownEd,
    theirIdentityEd: b.identityKey,
    theirIdentityCurve: b.identityCurve,
    theirSignedPreKey: b.signedPreKey,
    theirPreKey: b.preKey,
  });
  const state = initActive(
    {
      localIdentity: ownEd,
      remoteIdentity: b.identityKey,
      remoteIdentityCurve: b.identityCurve,
      keyExchange: { preKeyId: b.preKeyId, signedPreKeyId: b.signedPreKeyId, ephemeralKey: x.ephemeral.pub },
      sk: x.sk,
    },
    b.signedPreKey,
  );
  await save(store, addr, state);
}

/** Encrypts key material for one device: an OMEMOKeyExchange until the session is confirmed. */
export async function encryptKey(store: OmemoStore, addr: DeviceAddress, keyMaterial: Uint8Array): Promise<{ prekey: boolean; data: Uint8Array }> {
  const s = await load(store, addr);
  if (!s) throw new OmemoError('no-session', `no OMEMO 2 session with ${addr.jid}/${addr.deviceId}`);
  const authenticated = ratchetEncrypt(s, keyMaterial);
  const kex = s.initiator && !s.confirmed;
  const data = kex
    ? encodeKeyExchange(
        {
          preKeyId: s.keyExchange.preKeyId,
          signedPreKeyId: s.keyExchange.signedPreKeyId,
          identityKey: s.localIdentity,
          ephemeralKey: s.keyExchange.ephemeralKey,
        },
        authenticated,
      )
    : authenticated;
  // Durable before the ciphertext leaves: a crash must never reuse this message key.
  await save(store, addr, s);
  return { prekey: kex, data };
}

/** The stored session was built from exactly this key exchange (python-twomemo builds_same_session). */
function builtFrom(s: RatchetState | undefined, k: DecodedKeyExchange): s is RatchetState {
  return (
    s !== undefined &&
    !s.initiator &&
    equalBytes(s.remoteIdentity, k.identityKey) &&
    equalBytes(s.keyExchange.ephemeralKey, k.ephemeralKey) &&
    s.keyExchange.preKeyId === k.preKeyId &&
    s.keyExchange.signedPreKeyId === k.signedPreKeyId
  );
}

/** Responder: X3DH from a received key exchange, with our keys it names. Nothing is stored. */
async function buildPassive(store: OmemoStore, k: DecodedKeyExchange): Promise<RatchetState> {
  const own = await ownIdentity(store);
  const spk = await store.getSignedPreKey(k.signedPreKeyId);
  if (!spk) throw new OmemoError('unknown-signed-prekey', `no signed prekey ${k.signedPreKeyId}`);
  const pk = await store.getPreKey(k.preKeyId);
  if (!pk) throw new OmemoError('unknown-prekey', `no prekey ${k.preKeyId} (already used, deleted or never issued)`);
  const ownEd = ownEd25519Identity(own.identityKey);
  const theirCurve = peerIdentityCurve(k.identityKey);
  const x = x3dhPassive({
    ourIdentity: own.identityKey,
    ourIdentityEd: ownEd,
    ourSignedPreKey: spk.keyPair,
    ourPreKey: pk.keyPair,
    theirIdentityEd: k.identityKey,
    theirIdentityCurve: theirCurve,
    theirEphemeral: k.ephemeralKey,
  });
  return initPassive(
    {
      localIdentity: ownEd,
      remoteIdentity: k.identityKey,
      remoteIdentityCurve: theirCurve,
      keyExchange: { preKeyId: k.preKeyId, signedPreKeyId: k.signedPreKeyId, ephemeralKey: k.ephemeralKey },
      sk: x.sk,
    },
    spk.keyPair,
  );
}

/**
 * Decrypts one `<key>` for us (kex: OMEMOKeyExchange, else OMEMOAuthenticatedMessage). Nothing is
 * stored until `commit()`; the plaintext must not be used before commit() has resolved.
 */
export async function openKey(
  store: OmemoStore,
  addr: DeviceAddress,
  data: Uint8Array,
  kex: boolean,
): Promise<{ result: OpenResult; commit(): Promise<void> }> {
  const stored = await load(store, addr);
  let state: RatchetState;
  let usedPreKeyId: number | undefined;
  let message: DecodedAuthenticated;
  if (kex) {
    const k = decodeKeyExchange(data);
    message = k.authenticated;
    if (builtFrom(stored, k)) {
      state = stored;
    } else {
      state = await buildPassive(store, k);
      usedPreKeyId = k.preKeyId;
    }
  } else {
    message = decodeAuthenticated(data);
    if (!stored) throw new OmemoError('no-session', `no OMEMO 2 session with ${addr.jid}/${addr.deviceId}`);
    state = stored;
  }
  const r = ratchetDecrypt(state, message);
  return {
    result: {
      plaintext: r.plaintext,
      senderIdentity: state.remoteIdentityCurve.slice(),
      ...(usedPreKeyId !== undefined ? { usedPreKeyId } : {}),
      newSession: usedPreKeyId !== undefined,
      receivedSinceLastSend: r.receivingChainLength,
    },
    commit: () => save(store, addr, state),
  };
}
