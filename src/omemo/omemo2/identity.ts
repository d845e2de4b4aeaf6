// The one identity key in both of its OMEMO 2 forms. Our identity is the Curve25519 key pair legacy
// OMEMO has always stored; OMEMO 2 publishes it in Ed25519 form — XEdDSA's public key A of that
// scalar (sign bit 0) — and signs with XEdDSA, whose signatures are plain Ed25519 signatures under
// A. A maps back to the very Curve25519 key, so a device has one fingerprint in both versions and
// one trust decision covers both (python-omemo, too, shares one identity between its backends).
// A peer's Ed25519 key is converted to Curve25519 for X3DH, fingerprints and trust.
import { isLowOrderPoint } from '../device.js';
import { OmemoError } from '../errors.js';
import { concatBytes, ed25519PublicToX25519, ed25519Verify, sha512, type KeyPair } from '../primitives.js';
import { xeddsaPublicKey, xeddsaSign } from '../xeddsa.js';

/** Ed25519 forms of our identity already computed (a scalar multiplication each), by Curve key. */
const edForms = new Map<string, Uint8Array>();
const EDFORMS_MAX = 8;

/** Our identity in the Ed25519 form OMEMO 2 publishes (`<ik>`, OMEMOKeyExchange.ik, the AD). */
export function ownEd25519Identity(identity: KeyPair): Uint8Array {
  const key = Buffer.from(identity.pub).toString('hex');
  let ed = edForms.get(key);
  if (!ed) {
    ed = xeddsaPublicKey(identity.priv);
    // The public half must be the key the private half gives: a mismatch would publish garbage.
    if (!sameBytes(ed25519PublicToX25519(ed), identity.pub)) {
      throw new OmemoError('bad-key', 'own identity key pair is inconsistent');
    }
    if (edForms.size >= EDFORMS_MAX) edForms.clear();
    edForms.set(key, ed);
  }
  return ed.slice();
}

/**
 * A peer's Ed25519 identity key → the Curve25519 form (32 bytes) that X3DH, fingerprints and trust
 * use. 'bad-key' for bytes that are no point and for low-order points (their DH output is public).
 */
export function peerIdentityCurve(edIdentity: Uint8Array): Uint8Array {
  const curve = ed25519PublicToX25519(edIdentity);
  if (isLowOrderPoint(curve)) throw new OmemoError('bad-key', 'identity key is a low-order point');
  return curve;
}

/**
 * XEdDSA signature with a nonce derived from the key and the message alone (as RFC 8032 derives
 * Ed25519's), so signing the same signed prekey again gives the same bundle: it is signed when
 * the bundle is built, and the store keeps only legacy's signature over 0x05‖spk.
 */
export function signDeterministic(identity: KeyPair, message: Uint8Array): Uint8Array {
  const z = sha512(concatBytes(DOMAIN, identity.priv, message));
  return xeddsaSign(identity.priv, message, z);
}
const DOMAIN = new TextEncoder().encode('xchat OMEMO 2 XEdDSA nonce');

/** OMEMO 2 `<spks>`: an Ed25519 signature over the raw 32-byte signed prekey (no 0x05). */
export function signSignedPreKey(identity: KeyPair, signedPreKey: Uint8Array): Uint8Array {
  return signDeterministic(identity, signedPreKey);
}

/** Standard Ed25519 verification of `<spks>` under the Ed25519 `<ik>`. Never throws. */
export function verifySignedPreKey(edIdentity: Uint8Array, signedPreKey: Uint8Array, signature: Uint8Array): boolean {
  return ed25519Verify(signature, signedPreKey, edIdentity);
}

/** `labelsig` of a device label in the OMEMO 2 device list: Ed25519 over the UTF-8 label. */
export function signLabel(identity: KeyPair, label: string): Uint8Array {
  return signDeterministic(identity, new TextEncoder().encode(label));
}

export function verifyLabel(edIdentity: Uint8Array, label: string, signature: Uint8Array): boolean {
  return ed25519Verify(signature, new TextEncoder().encode(label), edIdentity);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
