// The pure-TypeScript implementation (noble): the reference the node:crypto one is checked against.
import { x25519 as nobleX25519, ed25519 } from '@noble/curves/ed25519.js';
import { cbc, gcm } from '@noble/ciphers/aes.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { OmemoError } from '../errors.js';
import type { Primitives } from './types.js';
import { checkLen, decryptFailure, rejectZero } from './checks.js';

export const noblePrimitives: Primitives = {
  name: 'noble',
  randomBytes: (n) => nobleRandomBytes(n),
  generateKeyPair() {
    const priv = nobleX25519.utils.randomSecretKey();
    return { priv, pub: nobleX25519.getPublicKey(priv) };
  },
  x25519Public(priv) {
    checkLen(priv, 32, 'X25519 private key');
    return nobleX25519.getPublicKey(priv);
  },
  x25519(priv, pub) {
    checkLen(priv, 32, 'X25519 private key');
    checkLen(pub, 32, 'X25519 public key');
    let out: Uint8Array;
    try {
      out = nobleX25519.getSharedSecret(priv, pub);
    } catch (e) {
      // noble throws a plain Error on an all-zero result; classify it as a bad key.
      throw new OmemoError('bad-key', `X25519 failed: ${(e as Error).message}`);
    }
    return rejectZero(out);
  },
  sha256: (d) => nobleSha256(d),
  sha512: (d) => nobleSha512(d),
  hmacSha256: (k, d) => nobleHmac(nobleSha256, k, d),
  hkdfSha256: (ikm, salt, info, len) => nobleHkdf(nobleSha256, ikm, salt, info, len),
  aesCbcEncrypt: (k, iv, pt) => cbc(k, iv).encrypt(pt),
  aesCbcDecrypt: (k, iv, ct) => decryptFailure('AES-CBC', () => cbc(k, iv).decrypt(ct)),
  aesGcmEncrypt: (k, iv, pt, aad) => gcm(k, iv, aad).encrypt(pt),
  aesGcmDecrypt: (k, iv, ct, aad) => decryptFailure('AES-GCM', () => gcm(k, iv, aad).decrypt(ct)),
  ed25519Verify(sig, msg, pub) {
    try {
      return ed25519.verify(sig, msg, pub, { zip215: false });
    } catch {
      return false;
    }
  },
};
