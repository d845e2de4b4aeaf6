// OMEMO 2 bundles (XEP-0384 0.8+: <spk id>, <spks>, <ik>, <prekeys><pk id>): ours as published and
// a peer's checked before use. The model is device.ts's Bundle with OMEMO 2's meaning of two
// fields: identityKey is the Ed25519 <ik>, and the signature is Ed25519 over the raw 32-byte
// signed prekey. Our signed prekeys and one-time prekeys are the ones legacy publishes too.
import { currentSignedPreKey, isLowOrderPoint, isValidId, type Bundle } from '../device.js';
import { OmemoError } from '../errors.js';
import { randomBytes } from '../primitives.js';
import type { OmemoStore } from '../store.js';
import { ownEd25519Identity, peerIdentityCurve, signSignedPreKey, verifySignedPreKey } from './identity.js';
import type { PickedPreKeyBundle } from './session.js';

/** Our OMEMO 2 bundle: the newest signed prekey (signed in OMEMO 2's way) and every prekey. */
export async function ownBundle2(store: OmemoStore): Promise<Bundle> {
  const identity = await store.getOwnIdentity();
  if (!identity) throw new OmemoError('invalid-input', 'no OMEMO identity');
  const spk = await currentSignedPreKey(store);
  const preKeys = (await store.listPreKeys()).sort((a, b) => a.id - b.id).map((p) => ({ id: p.id, key: p.keyPair.pub }));
  return {
    deviceId: identity.deviceId,
    identityKey: ownEd25519Identity(identity.identityKey),
    signedPreKeyId: spk.id,
    signedPreKey: spk.keyPair.pub,
    signedPreKeySignature: signSignedPreKey(identity.identityKey, spk.keyPair.pub),
    preKeys,
  };
}

function checkKey(k: unknown, what: string): asserts k is Uint8Array {
  if (!(k instanceof Uint8Array) || k.length !== 32) {
    throw new OmemoError('bad-bundle', `${what} must be a 32-byte key, got ${k instanceof Uint8Array ? k.length + ' bytes' : typeof k}`);
  }
  if (isLowOrderPoint(k)) throw new OmemoError('bad-key', `${what} is a low-order point`);
}

/**
 * Checks a peer's OMEMO 2 bundle and returns its identity in Curve25519 form: 'bad-bundle' for
 * missing parts, wrong lengths, invalid ids or no prekeys; 'bad-key' for an <ik> that is no
 * point or of low order and for low-order prekeys; 'bad-signature' when <spks> does not verify.
 */
export function validateBundle2(bundle: Bundle): Uint8Array {
  if (!bundle || typeof bundle !== 'object') throw new OmemoError('bad-bundle', 'bundle missing');
  if (!isValidId(bundle.deviceId)) throw new OmemoError('bad-bundle', `invalid device id ${String(bundle.deviceId)}`);
  if (!isValidId(bundle.signedPreKeyId)) throw new OmemoError('bad-bundle', `invalid signed prekey id ${String(bundle.signedPreKeyId)}`);
  const ik = bundle.identityKey;
  if (!(ik instanceof Uint8Array) || ik.length !== 32) throw new OmemoError('bad-bundle', 'identity key must be a 32-byte Ed25519 key');
  const identityCurve = peerIdentityCurve(ik);
  checkKey(bundle.signedPreKey, 'signed prekey');
  const sig = bundle.signedPreKeySignature;
  if (!(sig instanceof Uint8Array) || sig.length !== 64) throw new OmemoError('bad-bundle', 'signed prekey signature must be 64 bytes');
  if (!Array.isArray(bundle.preKeys) || bundle.preKeys.length === 0) {
    // Every key exchange must use a one-time prekey (XEP-0384).
    throw new OmemoError('bad-bundle', 'bundle has no one-time prekeys');
  }
  for (const pk of bundle.preKeys) {
    if (!pk || !isValidId(pk.id)) throw new OmemoError('bad-bundle', `invalid prekey id ${String(pk?.id)}`);
    checkKey(pk.key, `prekey ${pk.id}`);
  }
  if (!verifySignedPreKey(ik, bundle.signedPreKey, sig)) {
    throw new OmemoError('bad-signature', 'signed prekey signature does not verify against the identity key');
  }
  return identityCurve;
}

/** Validates and picks one random one-time prekey for X3DH. */
export function pickBundle2(bundle: Bundle): PickedPreKeyBundle {
  const identityCurve = validateBundle2(bundle);
  const b = randomBytes(4);
  const idx = (((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) % bundle.preKeys.length;
  const pk = bundle.preKeys[idx];
  return {
    identityKey: bundle.identityKey.slice(),
    identityCurve,
    signedPreKeyId: bundle.signedPreKeyId,
    signedPreKey: bundle.signedPreKey.slice(),
    preKeyId: pk.id,
    preKey: pk.key.slice(),
  };
}
