// The only module that touches crypto libraries. Two implementations sit behind one interface:
// node:crypto (OpenSSL; X25519 is ~30x faster than pure JS) and noble (pure TypeScript, the
// reference). Tests cross-check them; the rest of src/omemo calls the module-level functions.
import { x25519 as nobleX25519, ed25519 } from '@noble/curves/ed25519.js';
import { cbc, gcm } from '@noble/ciphers/aes.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';

/** Raw 32-byte X25519 key pair (no 0x05 prefix). */
export interface KeyPair {
  priv: Uint8Array;
  pub: Uint8Array;
}

export interface Primitives {
  readonly name: string;
  randomBytes(n: number): Uint8Array;
  generateKeyPair(): KeyPair;
  /** X25519 public key of a (clamped or unclamped) 32-byte private scalar. */
  x25519Public(priv: Uint8Array): Uint8Array;
  /** X25519 shared secret. Throws on malformed or low-order public keys (all-zero output). */
  x25519(priv: Uint8Array, pub: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** AES-CBC with PKCS#7 padding; key length selects AES-128/192/256. */
  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws on bad padding or length. */
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** AES-GCM, 16-byte tag appended: returns ciphertext‖tag. Any IV length (12 and 16 used). */
  aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Input is ciphertext‖tag(16). Throws on a bad tag. */
  aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertextAndTag: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Standard RFC 8032 Ed25519 verification of a 64-byte signature under a 32-byte public key. */
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

export const noblePrimitives: Primitives = {
  name: 'noble',
  randomBytes: (n) => nobleRandomBytes(n),
  generateKeyPair() {
    const priv = nobleX25519.utils.randomSecretKey();
    return { priv, pub: nobleX25519.getPublicKey(priv) };
  },
  x25519Public: (priv) => nobleX25519.getPublicKey(priv),
  x25519(priv, pub) {
    // noble throws on an all-zero result (low-order point); keep that behaviour.
    return nobleX25519.getSharedSecret(priv, pub);
  },
  sha256: (d) => nobleSha256(d),
  sha512: (d) => nobleSha512(d),
  hmacSha256: (k, d) => nobleHmac(nobleSha256, k, d),
  hkdfSha256: (ikm, salt, info, len) => nobleHkdf(nobleSha256, ikm, salt, info, len),
  aesCbcEncrypt: (k, iv, pt) => cbc(k, iv).encrypt(pt),
  aesCbcDecrypt: (k, iv, ct) => cbc(k, iv).decrypt(ct),
  aesGcmEncrypt: (k, iv, pt, aad) => gcm(k, iv, aad).encrypt(pt),
  aesGcmDecrypt: (k, iv, ct, aad) => gcm(k, iv, aad).decrypt(ct),
  ed25519Verify(sig, msg, pub) {
    try {
      return ed25519.verify(sig, msg, pub, { zip215: false });
    } catch {
      return false;
    }
  },
};

let active: Primitives = noblePrimitives;

/** Swap the implementation (tests and benchmarks cross-check both). */
export function usePrimitives(p: Primitives): void {
  active = p;
}
export function currentPrimitives(): Primitives {
  return active;
}

export const randomBytes = (n: number) => active.randomBytes(n);
export const generateKeyPair = () => active.generateKeyPair();
export const x25519Public = (priv: Uint8Array) => active.x25519Public(priv);
export const x25519 = (priv: Uint8Array, pub: Uint8Array) => active.x25519(priv, pub);
export const sha256 = (d: Uint8Array) => active.sha256(d);
export const sha512 = (d: Uint8Array) => active.sha512(d);
export const hmacSha256 = (k: Uint8Array, d: Uint8Array) => active.hmacSha256(k, d);
export const hkdfSha256 = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, len: number) =>
  active.hkdfSha256(ikm, salt, info, len);
export const aesCbcEncrypt = (k: Uint8Array, iv: Uint8Array, pt: Uint8Array) => active.aesCbcEncrypt(k, iv, pt);
export const aesCbcDecrypt = (k: Uint8Array, iv: Uint8Array, ct: Uint8Array) => active.aesCbcDecrypt(k, iv, ct);
export const aesGcmEncrypt = (k: Uint8Array, iv: Uint8Array, pt: Uint8Array, aad?: Uint8Array) =>
  active.aesGcmEncrypt(k, iv, pt, aad);
export const aesGcmDecrypt = (k: Uint8Array, iv: Uint8Array, ct: Uint8Array, aad?: Uint8Array) =>
  active.aesGcmDecrypt(k, iv, ct, aad);
export const ed25519Verify = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => active.ed25519Verify(sig, msg, pub);

// XEdDSA needs Edwards point arithmetic and a custom nonce that no fast library offers; noble's
// curve code is exported here so xeddsa.ts still imports nothing but this module.
export const edwards = {
  Point: ed25519.Point,
  /** Group order L. */
  ORDER: ed25519.Point.Fn.ORDER,
  /** Field prime p. */
  P: ed25519.Point.Fp.ORDER,
};

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time comparison for MACs. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
