// XEdDSA (Signal spec, 2016) over Curve25519 keys, with libsignal's sign-bit convention for
// verification: libsignal's curve25519_sign stores the Edwards sign bit of the signer's key in
// bit 7 of sig[63], and its verifier puts that bit back into the converted public key. Textbook
// XEdDSA (python-xeddsa, our signer) always produces keys with sign bit 0 and sig[63] bit 7 = 0,
// so one verifier accepts both styles.
import { edwards, ed25519Verify, randomBytes, sha512, concatBytes } from './primitives.js';
import { OmemoError } from './errors.js';

const P = edwards.P;
const L = edwards.ORDER;
const Fp = edwards.Point.Fp;

function bytesToNumberLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

function numberToBytesLE(n: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

/** RFC 7748 clamping of an X25519 private scalar. */
function clamp(k: Uint8Array): Uint8Array {
  const c = k.slice();
  c[0] &= 248;
  c[31] &= 127;
  c[31] |= 64;
  return c;
}

/**
 * Montgomery u → Edwards public key bytes, y = (u − 1)/(u + 1) mod p, with the given sign bit.
 * Returns null for u ≥ p (non-canonical) and u = p − 1 (u + 1 has no inverse).
 */
export function curveToEdwardsPublic(curvePub32: Uint8Array, signBit: 0 | 1): Uint8Array | null {
  if (!(curvePub32 instanceof Uint8Array) || curvePub32.length !== 32) return null;
  const u = bytesToNumberLE(curvePub32);
  if (u >= P || u === P - 1n) return null;
  const y = Fp.mul(mod(u - 1n, P), Fp.inv(u + 1n));
  const out = numberToBytesLE(y, 32);
  out[31] = (out[31] & 0x7f) | (signBit << 7);
  return out;
}

/** XEdDSA calculate_key_pair: Edwards public key A (sign bit 0) and the matching scalar a. */
function calculateKeyPair(curvePriv32: Uint8Array): { A: Uint8Array; a: bigint } {
  if (!(curvePriv32 instanceof Uint8Array) || curvePriv32.length !== 32) {
    throw new OmemoError('bad-key', 'XEdDSA private key must be 32 bytes');
  }
  const k = mod(bytesToNumberLE(clamp(curvePriv32)), L);
  if (k === 0n) throw new OmemoError('bad-key', 'XEdDSA private key reduces to zero');
  const E = edwards.Point.BASE.multiply(k).toBytes();
  const negative = (E[31] & 0x80) !== 0;
  const A = E.slice();
  A[31] &= 0x7f;
  return { A, a: negative ? mod(-k, L) : k };
}

/** Edwards public key (sign bit 0) that XEdDSA signatures of this Curve25519 private key verify under. */
export function xeddsaPublicKey(curvePriv32: Uint8Array): Uint8Array {
  return calculateKeyPair(curvePriv32).A;
}

/** hash_1 prefix of the XEdDSA spec: the 32-byte little-endian encoding of 2^256 − 1 − 1. */
const HASH1_PREFIX = (() => {
  const p = new Uint8Array(32).fill(0xff);
  p[0] = 0xfe;
  return p;
})();

/**
 * XEdDSA signature (R ‖ s, 64 bytes) over `message` with a Curve25519 private key. `random64` is
 * the spec's Z (64 random bytes); pass it only for deterministic tests.
 */
export function xeddsaSign(curvePriv32: Uint8Array, message: Uint8Array, random64?: Uint8Array): Uint8Array {
  const Z = random64 ?? randomBytes(64);
  if (Z.length !== 64) throw new OmemoError('invalid-input', 'XEdDSA nonce randomness must be 64 bytes');
  const { A, a } = calculateKeyPair(curvePriv32);
  const aBytes = numberToBytesLE(a, 32);
  const r = mod(bytesToNumberLE(sha512(concatBytes(HASH1_PREFIX, aBytes, message, Z))), L);
  // r = 0 has probability 2^-252; retrying with fresh randomness keeps multiply() in range.
  if (r === 0n) return xeddsaSign(curvePriv32, message, randomBytes(64));
  const R = edwards.Point.BASE.multiply(r).toBytes();
  const h = mod(bytesToNumberLE(sha512(concatBytes(R, A, message))), L);
  const s = mod(r + h * a, L);
  return concatBytes(R, numberToBytesLE(s, 32));
}

/**
 * Verify a curve25519 signature the way libsignal does: the Edwards sign bit comes from sig[63]
 * bit 7, which is then cleared before standard Ed25519 verification. Never throws.
 */
export function xeddsaVerify(curvePub32: Uint8Array, message: Uint8Array, sig64: Uint8Array): boolean {
  if (!(sig64 instanceof Uint8Array) || sig64.length !== 64) return false;
  if (!(message instanceof Uint8Array)) return false;
  const signBit = ((sig64[63] >> 7) & 1) as 0 | 1;
  const edPub = curveToEdwardsPublic(curvePub32, signBit);
  if (!edPub) return false;
  const sig = sig64.slice();
  sig[63] &= 0x7f;
  return ed25519Verify(sig, message, edPub);
}
