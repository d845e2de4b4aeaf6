// OMEMO 2 X3DH (XEP-0384 0.8+, python-x3dh with twomemo's StateImpl): the DH values of legacy's
// X3DH in the same order, SK = HKDF-SHA-256(0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4, salt 32×0,
// "OMEMO X3DH", 32), and AD = Ed25519 IK of the initiator ‖ Ed25519 IK of the responder, the same
// 64 bytes in both directions. A one-time prekey is mandatory (DH4 always present).
import { concatBytes, generateKeyPair, hkdfSha256, x25519, type KeyPair } from '../primitives.js';

const DISCONTINUITY = new Uint8Array(32).fill(0xff);
const SALT = new Uint8Array(32);
const INFO = new TextEncoder().encode('OMEMO X3DH');

export interface X3dhShared {
  /** The 32-byte shared secret: the Double Ratchet's first root key. */
  sk: Uint8Array;
  /** initiator IK (Ed25519) ‖ responder IK (Ed25519). */
  ad: Uint8Array;
}

export interface ActiveInput {
  /** Our Curve25519 identity key pair and its published Ed25519 form. */
  ourIdentity: KeyPair;
  ourIdentityEd: Uint8Array;
  theirIdentityEd: Uint8Array;
  theirIdentityCurve: Uint8Array;
  theirSignedPreKey: Uint8Array;
  theirPreKey: Uint8Array;
  /** Tests pass a fixed ephemeral key; otherwise a fresh one. */
  ephemeral?: KeyPair;
}

export interface PassiveInput {
  ourIdentity: KeyPair;
  ourIdentityEd: Uint8Array;
  ourSignedPreKey: KeyPair;
  ourPreKey: KeyPair;
  theirIdentityEd: Uint8Array;
  theirIdentityCurve: Uint8Array;
  theirEphemeral: Uint8Array;
}

function derive(dhs: Uint8Array[]): Uint8Array {
  return hkdfSha256(concatBytes(DISCONTINUITY, ...dhs), SALT, INFO, 32);
}

/** Initiator. x25519 throws OmemoError 'bad-key' on malformed or low-order keys. */
export function x3dhActive(i: ActiveInput): X3dhShared & { ephemeral: KeyPair } {
  const ephemeral = i.ephemeral ?? generateKeyPair();
  const sk = derive([
    x25519(i.ourIdentity.priv, i.theirSignedPreKey),
    x25519(ephemeral.priv, i.theirIdentityCurve),
    x25519(ephemeral.priv, i.theirSignedPreKey),
    x25519(ephemeral.priv, i.theirPreKey),
  ]);
  return { sk, ad: concatBytes(i.ourIdentityEd, i.theirIdentityEd), ephemeral };
}

/** Responder: the same DH values with the roles mirrored. */
export function x3dhPassive(i: PassiveInput): X3dhShared {
  const sk = derive([
    x25519(i.ourSignedPreKey.priv, i.theirIdentityCurve),
    x25519(i.ourIdentity.priv, i.theirEphemeral),
    x25519(i.ourSignedPreKey.priv, i.theirEphemeral),
    x25519(i.ourPreKey.priv, i.theirEphemeral),
  ]);
  return { sk, ad: concatBytes(i.theirIdentityEd, i.ourIdentityEd) };
}
