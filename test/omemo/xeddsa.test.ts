// XEdDSA signing and libsignal-convention verification, under both primitive implementations.
import { afterAll, describe, expect, it } from 'vitest';
import {
  currentPrimitives,
  ed25519Verify,
  edwards,
  nodePrimitives,
  noblePrimitives,
  usePrimitives,
} from '../../src/omemo/primitives.js';
import { curveToEdwardsPublic, xeddsaPublicKey, xeddsaSign, xeddsaVerify } from '../../src/omemo/xeddsa.js';
import { serializePublicKey } from '../../src/omemo/keys.js';
import { isOmemoError } from '../../src/omemo/errors.js';
import { hex } from '../helpers/vectors.js';

const original = currentPrimitives();

function naturalSignBit(priv: Uint8Array): number {
  const c = priv.slice();
  c[0] &= 248;
  c[31] = (c[31] & 127) | 64;
  const k = BigInt('0x' + Buffer.from(c).reverse().toString('hex')) % edwards.ORDER;
  return edwards.Point.BASE.multiply(k).toBytes()[31] >> 7;
}
afterAll(() => usePrimitives(original));

// p − 1 and p as little-endian 32-byte strings.
const P_MINUS_1 = hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
const P = hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');

describe.each([nodePrimitives, noblePrimitives])('xeddsa via $name', (impl) => {
  it('signs and verifies over many random keys (both Edwards sign cases), sig[63] bit 7 = 0', () => {
    usePrimitives(impl);
    const signs = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const kp = impl.generateKeyPair();
      const msg = serializePublicKey(impl.generateKeyPair().pub);
      const sig = xeddsaSign(kp.priv, msg);
      expect(sig.length).toBe(64);
      expect(sig[63] & 0x80).toBe(0);
      expect(xeddsaVerify(kp.pub, msg, sig)).toBe(true);
      // The signature is a plain Ed25519 signature under the sign-0 Edwards form of the key.
      const A = xeddsaPublicKey(kp.priv);
      expect(A[31] & 0x80).toBe(0);
      expect(curveToEdwardsPublic(kp.pub, 0)).toEqual(A);
      expect(ed25519Verify(sig, msg, A)).toBe(true);
      // Which way calculate_key_pair went: the sign bit of the natural Edwards key k·B.
      signs.add(naturalSignBit(kp.priv));
      // Setting the sign bit in the signature flips the key and must fail.
      const flipped = sig.slice();
      flipped[63] |= 0x80;
      expect(xeddsaVerify(kp.pub, msg, flipped)).toBe(false);
    }
    // Both branches (a = k and a = −k) were exercised; all-equal odds are 2^-23.
    expect(signs).toEqual(new Set([0, 1]));
  });

  it('rejects tampering: message, R, s, key', () => {
    usePrimitives(impl);
    const kp = impl.generateKeyPair();
    const msg = new TextEncoder().encode('signed prekey');
    const sig = xeddsaSign(kp.priv, msg);
    const m2 = msg.slice();
    m2[0] ^= 1;
    expect(xeddsaVerify(kp.pub, m2, sig)).toBe(false);
    for (const pos of [0, 31, 32, 62]) {
      const s2 = sig.slice();
      s2[pos] ^= 4;
      expect(xeddsaVerify(kp.pub, msg, s2)).toBe(false);
    }
    expect(xeddsaVerify(impl.generateKeyPair().pub, msg, sig)).toBe(false);
  });

  it('is deterministic given Z, and Z changes the signature', () => {
    usePrimitives(impl);
    const kp = impl.generateKeyPair();
    const msg = Uint8Array.of(1, 2, 3);
    const z = new Uint8Array(64).fill(7);
    expect(xeddsaSign(kp.priv, msg, z)).toEqual(xeddsaSign(kp.priv, msg, z));
    expect(xeddsaSign(kp.priv, msg, new Uint8Array(64).fill(8))).not.toEqual(xeddsaSign(kp.priv, msg, z));
  });

  it('bad inputs give false, never a throw', () => {
    usePrimitives(impl);
    const kp = impl.generateKeyPair();
    const msg = Uint8Array.of(5);
    const sig = xeddsaSign(kp.priv, msg);
    expect(xeddsaVerify(kp.pub, msg, sig.slice(0, 63))).toBe(false);
    expect(xeddsaVerify(kp.pub, msg, new Uint8Array(65))).toBe(false);
    expect(xeddsaVerify(kp.pub.slice(0, 31), msg, sig)).toBe(false);
    expect(xeddsaVerify(serializePublicKey(kp.pub), msg, sig)).toBe(false);
    expect(xeddsaVerify(P_MINUS_1, msg, sig)).toBe(false);
    expect(xeddsaVerify(P, msg, sig)).toBe(false);
    expect(xeddsaVerify(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false);
    expect(xeddsaVerify(new Uint8Array(32), msg, sig)).toBe(false);
    expect(xeddsaVerify(kp.pub, msg, new Uint8Array(64))).toBe(false);
    expect(xeddsaVerify(kp.pub, msg, new Uint8Array(64).fill(0xff))).toBe(false);
  });
});

describe('xeddsa helpers', () => {
  it('curveToEdwardsPublic refuses u = p − 1 and non-canonical u', () => {
    expect(curveToEdwardsPublic(P_MINUS_1, 0)).toBeNull();
    expect(curveToEdwardsPublic(P, 0)).toBeNull();
    expect(curveToEdwardsPublic(new Uint8Array(31), 0)).toBeNull();
    // u = 9 (the base point) maps to the Ed25519 base point y = 4/5.
    const nine = new Uint8Array(32);
    nine[0] = 9;
    expect(Buffer.from(curveToEdwardsPublic(nine, 0)!).toString('hex')).toBe(
      '5866666666666666666666666666666666666666666666666666666666666666',
    );
  });

  it('signing with a bad key length is a bad-key error', () => {
    let err: unknown;
    try {
      xeddsaSign(new Uint8Array(31), Uint8Array.of(1));
    } catch (e) {
      err = e;
    }
    expect(isOmemoError(err, 'bad-key')).toBe(true);
    expect(() => xeddsaSign(new Uint8Array(32).fill(1), Uint8Array.of(1), new Uint8Array(10))).toThrow();
  });
});
