// Legacy OMEMO X3DH (libsignal ratcheting_session / python-x3dh with info "WhisperText").
// master = 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4]; HKDF(salt 32×0, info "WhisperText", 64) gives the
// root key (bytes 0..31, python-x3dh's 32-byte secret) and the first chain key (bytes 32..63).
import { concatBytes, hkdfSha256, x25519, type KeyPair } from './primitives.js';

export interface X3dhInitiatorInput {
  ourIdentity: KeyPair;
  /** Fresh ephemeral key pair (libsignal's baseKey). */
  ourBase: KeyPair;
  theirIdentity: Uint8Array;
  theirSignedPreKey: Uint8Array;
  theirOneTimePreKey?: Uint8Array;
}

export interface X3dhResponderInput {
  ourIdentity: KeyPair;
  ourSignedPreKey: KeyPair;
  ourOneTimePreKey?: KeyPair;
  theirIdentity: Uint8Array;
  theirBase: Uint8Array;
}

export interface X3dhResult {
  rootKey32: Uint8Array;
  chainKey32: Uint8Array;
}

const DISCONTINUITY = new Uint8Array(32).fill(0xff);
const SALT = new Uint8Array(32);
const INFO = new TextEncoder().encode('WhisperText');

function derive(dhs: Uint8Array[]): X3dhResult {
  const okm = hkdfSha256(concatBytes(DISCONTINUITY, ...dhs), SALT, INFO, 64);
  return { rootKey32: okm.slice(0, 32), chainKey32: okm.slice(32, 64) };
}

/** Alice's side. x25519 throws OmemoError 'bad-key' on malformed or low-order keys. */
export function x3dhInitiator(i: X3dhInitiatorInput): X3dhResult {
  const dhs = [
    x25519(i.ourIdentity.priv, i.theirSignedPreKey),
    x25519(i.ourBase.priv, i.theirIdentity),
    x25519(i.ourBase.priv, i.theirSignedPreKey),
  ];
  if (i.theirOneTimePreKey) dhs.push(x25519(i.ourBase.priv, i.theirOneTimePreKey));
  return derive(dhs);
}

/** Bob's side: the same DH values with roles mirrored. */
export function x3dhResponder(i: X3dhResponderInput): X3dhResult {
  const dhs = [
    x25519(i.ourSignedPreKey.priv, i.theirIdentity),
    x25519(i.ourIdentity.priv, i.theirBase),
    x25519(i.ourSignedPreKey.priv, i.theirBase),
  ];
  if (i.ourOneTimePreKey) dhs.push(x25519(i.ourOneTimePreKey.priv, i.theirBase));
  return derive(dhs);
}
