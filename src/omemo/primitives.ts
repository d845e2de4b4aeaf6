// The only module that touches crypto libraries (with its parts in primitives/). Two implementations
// sit behind one interface: node:crypto (OpenSSL; X25519 is ~30x faster than pure JS) and noble
// (pure TypeScript, the reference). Tests cross-check them; the rest of src/omemo calls the functions below.
import { ed25519 } from '@noble/curves/ed25519.js';
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import * as nodeCrypto from 'node:crypto';
import { OmemoError } from './errors.js';

export type { KeyPair, Primitives } from './primitives/types.js';
import type { Primitives } from './primitives/types.js';
import { aesName, checkGcmIv, checkLen, decryptFailure, GCM_TAG, rejectZero } from './primitives/checks.js';
export { noblePrimitives } from './primitives/noble.js';
export { createGcmDecryptStream, createGcmEncryptStream } from './primitives/gcm-stream.js';

// ---------------------------------------------------------------------------------------------
// node:crypto implementation.

/**
 * A plain Uint8Array with an ArrayBuffer of its own (callers may use .buffer; a Buffer's slice()
 * would be a view). Digests and cipher output already own theirs and are only re-typed; pooled
 * Buffers (Buffer.from, Buffer.concat) share one and are copied.
 */
function plain(b: Uint8Array | ArrayBuffer): Uint8Array {
  if (b instanceof ArrayBuffer) return new Uint8Array(b); // hkdfSync: already private
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? new Uint8Array(b.buffer) : new Uint8Array(b);
}

/** a ‖ b in a plain Uint8Array (one copy: Buffer.concat and then plain() would be two). */
function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const b64url = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64url');

/** Small LRU of imported KeyObjects: importing costs far more than the X25519 itself. */
class KeyCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value as string);
  }
}

const x25519PrivCache = new KeyCache<nodeCrypto.KeyObject>(512);
const x25519PubCache = new KeyCache<nodeCrypto.KeyObject>(512);
const ed25519PubCache = new KeyCache<nodeCrypto.KeyObject>(256);
/** Placeholder `x` for private JWK import: Node requires the member but derives the key from `d`. */
const ZERO_X = b64url(new Uint8Array(32));
// Fixed PKCS#8 prefix of an X25519 private key (RFC 8410); used only if JWK import is refused.
const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

function nodeX25519Priv(priv: Uint8Array, knownPub?: Uint8Array): nodeCrypto.KeyObject {
  checkLen(priv, 32, 'X25519 private key');
  const d = b64url(priv);
  let key = x25519PrivCache.get(d);
  if (key) return key;
  // A Node that checks `x` against `d` would refuse the placeholder: then PKCS#8.
  key =
    x25519PrivFromJwk(d, knownPub) ??
    nodeCrypto.createPrivateKey({
      key: Buffer.from(concatBytes(X25519_PKCS8_PREFIX, priv)),
      format: 'der',
      type: 'pkcs8',
    });
  x25519PrivCache.set(d, key);
  return key;
}

/**
 * JWK import is ~10x cheaper than DER on Node 20. Node validates that `x` is present but builds
 * the key from `d` alone, so a placeholder is fine when the public half is not known.
 */
function x25519PrivFromJwk(d: string, knownPub?: Uint8Array): nodeCrypto.KeyObject | undefined {
  try {
    return nodeCrypto.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: knownPub ? b64url(knownPub) : ZERO_X }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

function nodeX25519Pub(pub: Uint8Array): nodeCrypto.KeyObject {
  checkLen(pub, 32, 'X25519 public key');
  const x = b64url(pub);
  let key = x25519PubCache.get(x);
  if (key) return key;
  try {
    key = nodeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
  } catch (e) {
    throw new OmemoError('bad-key', `X25519 public key rejected: ${(e as Error).message}`);
  }
  x25519PubCache.set(x, key);
  return key;
}

function nodeEd25519Pub(pub: Uint8Array): nodeCrypto.KeyObject | null {
  if (!(pub instanceof Uint8Array) || pub.length !== 32) return null;
  const x = b64url(pub);
  let key = ed25519PubCache.get(x);
  if (key) return key;
  try {
    key = nodeCrypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch {
    return null;
  }
  ed25519PubCache.set(x, key);
  return key;
}

export const nodePrimitives: Primitives = {
  name: 'node',
  randomBytes: (n) => nodeCrypto.randomFillSync(new Uint8Array(n)),
  generateKeyPair() {
    // Not generateKeyPairSync + export: on Node 20 a GC during that export can run the spent
    // keygen job's destructor, which waits for the lock the export holds, and the process hangs
    // (seen in benchmarks). Importing random bytes derives the public key without any job, as fast.
    const priv = nodeCrypto.randomFillSync(new Uint8Array(32));
    // RFC 7748 clamping, as OpenSSL's own keygen stores the scalar.
    priv[0] &= 248;
    priv[31] &= 127;
    priv[31] |= 64;
    // Imported into the cache: fresh keys are about to be used (ratchet / prekeys).
    const jwk = nodeX25519Priv(priv).export({ format: 'jwk' });
    return { priv, pub: plain(Buffer.from(jwk.x as string, 'base64url')) };
  },
  x25519Public(priv) {
    const key = nodeX25519Priv(priv);
    const jwk = nodeCrypto.createPublicKey(key).export({ format: 'jwk' });
    return plain(Buffer.from(jwk.x as string, 'base64url'));
  },
  x25519(priv, pub) {
    const privateKey = nodeX25519Priv(priv);
    const publicKey = nodeX25519Pub(pub);
    let out: Uint8Array;
    try {
      out = plain(nodeCrypto.diffieHellman({ privateKey, publicKey }));
    } catch (e) {
      // OpenSSL refuses an all-zero result ("failed during derivation").
      throw new OmemoError('bad-key', `X25519 failed: ${(e as Error).message}`);
    }
    return rejectZero(out);
  },
  sha256: (d) => plain(nodeCrypto.createHash('sha256').update(d).digest()),
  sha512: (d) => plain(nodeCrypto.createHash('sha512').update(d).digest()),
  hmacSha256: (k, d) => plain(nodeCrypto.createHmac('sha256', k).update(d).digest()),
  hkdfSha256(ikm, salt, info, len) {
    // Node caps `info` at 1024 bytes (OpenSSL limit); no OMEMO info string comes close, but the
    // interface promises RFC 5869, so longer ones go to the reference implementation.
    if (info.length > 1024) return nobleHkdf(nobleSha256, ikm, salt, info, len);
    return plain(nodeCrypto.hkdfSync('sha256', ikm, salt, info, len));
  },
  aesCbcEncrypt(k, iv, pt) {
    const c = nodeCrypto.createCipheriv(aesName(k, 'cbc'), k, iv);
    return joined(c.update(pt), c.final());
  },
  aesCbcDecrypt(k, iv, ct) {
    const d = nodeCrypto.createDecipheriv(aesName(k, 'cbc'), k, iv);
    return decryptFailure('AES-CBC', () => joined(d.update(ct), d.final()));
  },
  aesGcmEncrypt(k, iv, pt, aad) {
    checkGcmIv(iv);
    // OpenSSL caps GCM IVs at 128 bytes; such IVs never occur on the wire, keep them correct anyway.
    if (iv.length > 128) return gcm(k, iv, aad).encrypt(pt);
    // authTagLength pins the tag to 16 bytes (Node otherwise accepts shorter tags on decrypt).
    const c = nodeCrypto.createCipheriv(aesName(k, 'gcm') as nodeCrypto.CipherGCMTypes, k, iv, {
      authTagLength: GCM_TAG,
    });
    if (aad) c.setAAD(aad);
    return plain(Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
  },
  aesGcmDecrypt(k, iv, ct, aad) {
    checkGcmIv(iv);
    if (ct.length < GCM_TAG) throw new OmemoError('bad-payload', 'AES-GCM input shorter than its tag');
    if (iv.length > 128) return decryptFailure('AES-GCM', () => gcm(k, iv, aad).decrypt(ct));
    const d = nodeCrypto.createDecipheriv(aesName(k, 'gcm') as nodeCrypto.CipherGCMTypes, k, iv, {
      authTagLength: GCM_TAG,
    });
    if (aad) d.setAAD(aad);
    d.setAuthTag(ct.subarray(ct.length - GCM_TAG));
    return decryptFailure('AES-GCM', () => joined(d.update(ct.subarray(0, ct.length - GCM_TAG)), d.final()));
  },
  ed25519Verify(sig, msg, pub) {
    if (!(sig instanceof Uint8Array) || sig.length !== 64) return false;
    const key = nodeEd25519Pub(pub);
    if (!key) return false;
    try {
      return nodeCrypto.verify(null, msg, key, sig);
    } catch {
      return false;
    }
  },
};

let active: Primitives = nodePrimitives;

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
/** SHA-1 for identifiers only, never a security use: XEP-0115 caps hashes, XEP-0392 nick colours. */
export const sha1 = (d: Uint8Array): Uint8Array => new Uint8Array(nodeCrypto.createHash('sha1').update(d).digest());

// XEdDSA needs Edwards point arithmetic and a custom nonce that no fast library offers; noble's
// curve code is exported here so xeddsa.ts still imports nothing but this module.
export const edwards = {
  Point: ed25519.Point,
  /** Group order L. */
  ORDER: ed25519.Point.Fn.ORDER,
  /** Field prime p. */
  P: ed25519.Point.Fp.ORDER,
};

/**
 * Ed25519 public key → its X25519 (Curve25519) form, u = (1 + y)/(1 − y) (RFC 7748's birational
 * map). OMEMO 2 publishes identity keys in Ed25519 form and runs X3DH on this form; noble decodes
 * the point first, so bytes that are no point are 'bad-key', as is y = 1 (the neutral point).
 */
export function ed25519PublicToX25519(edPub: Uint8Array): Uint8Array {
  if (!(edPub instanceof Uint8Array) || edPub.length !== 32) {
    throw new OmemoError('bad-key', 'Ed25519 public key must be 32 bytes');
  }
  try {
    return ed25519.utils.toMontgomery(edPub);
  } catch (e) {
    throw new OmemoError('bad-key', `Ed25519 public key rejected: ${(e as Error).message}`);
  }
}

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

