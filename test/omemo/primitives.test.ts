// node:crypto and noble must agree byte for byte on random inputs, and classify bad input alike.
import { describe, expect, it } from 'vitest';
import * as prim from '../../src/omemo/primitives.js';
import { nodePrimitives as node, noblePrimitives as noble, type Primitives } from '../../src/omemo/primitives.js';
import { isOmemoError } from '../../src/omemo/errors.js';

const rnd = (n: number) => noble.randomBytes(n);
const ROUNDS = 25;
const impls: Primitives[] = [node, noble];

function expectBadKey(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isOmemoError(err, 'bad-key'), String(err)).toBe(true);
}

describe('active implementation', () => {
  it('defaults to node and can be swapped', () => {
    expect(prim.currentPrimitives()).toBe(node);
    prim.usePrimitives(noble);
    try {
      expect(prim.currentPrimitives().name).toBe('noble');
      const kp = noble.generateKeyPair();
      expect(prim.x25519Public(kp.priv)).toEqual(kp.pub);
    } finally {
      prim.usePrimitives(node);
    }
    expect(prim.currentPrimitives().name).toBe('node');
  });
});

describe('node vs noble cross-check on random inputs', () => {
  it('x25519Public and x25519 agree', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const a = rnd(32);
      const b = rnd(32);
      const aPub = noble.x25519Public(a);
      const bPub = noble.x25519Public(b);
      expect(node.x25519Public(a)).toEqual(aPub);
      const s = noble.x25519(a, bPub);
      expect(node.x25519(a, bPub)).toEqual(s);
      expect(node.x25519(b, aPub)).toEqual(s);
      // The second call is served from the KeyObject cache and must give the same answer.
      expect(node.x25519(a, bPub)).toEqual(s);
    }
  });

  it('private keys imported before their public half is known still work (placeholder x)', () => {
    const a = rnd(32);
    const peer = noble.generateKeyPair();
    // First use is the DH, so the import cannot know the public key.
    expect(node.x25519(a, peer.pub)).toEqual(noble.x25519(peer.priv, noble.x25519Public(a)));
    expect(node.x25519Public(a)).toEqual(noble.x25519Public(a));
  });

  it('generateKeyPair of each implementation is consistent with the other', () => {
    for (const gen of impls) {
      for (let i = 0; i < 5; i++) {
        const kp = gen.generateKeyPair();
        expect(kp.priv.length).toBe(32);
        expect(kp.pub.length).toBe(32);
        expect(noble.x25519Public(kp.priv)).toEqual(kp.pub);
        expect(node.x25519Public(kp.priv)).toEqual(kp.pub);
        const other = noble.generateKeyPair();
        expect(node.x25519(kp.priv, other.pub)).toEqual(noble.x25519(other.priv, kp.pub));
      }
    }
  });

  it('hashes, hmac and hkdf agree', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const d = rnd(i * 7);
      const k = rnd(i % 3 === 0 ? 0 : 1 + i * 3);
      const info = rnd(i);
      const len = 1 + ((i * 37) % 200);
      expect(node.sha256(d)).toEqual(noble.sha256(d));
      expect(node.sha512(d)).toEqual(noble.sha512(d));
      expect(node.hmacSha256(k, d)).toEqual(noble.hmacSha256(k, d));
      expect(node.hkdfSha256(d, k, info, len)).toEqual(noble.hkdfSha256(d, k, info, len));
    }
    // info beyond Node's 1024-byte limit is still RFC 5869.
    const big = rnd(1500);
    const salt = rnd(5);
    expect(node.hkdfSha256(rnd(0), salt, big, 40)).toEqual(noble.hkdfSha256(rnd(0), salt, big, 40));
  });

  it('aes-cbc agrees and each decrypts the other', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const key = rnd([16, 24, 32][i % 3]);
      const iv = rnd(16);
      const pt = rnd(i * 5);
      const ct = node.aesCbcEncrypt(key, iv, pt);
      expect(noble.aesCbcEncrypt(key, iv, pt)).toEqual(ct);
      expect(node.aesCbcDecrypt(key, iv, ct)).toEqual(pt);
      expect(noble.aesCbcDecrypt(key, iv, ct)).toEqual(pt);
    }
  });

  it('aes-gcm agrees for 12- and 16-byte IVs, with and without aad', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const key = rnd([16, 24, 32][i % 3]);
      const iv = rnd(i % 2 ? 12 : 16);
      const pt = rnd(i * 9);
      const aad = i % 4 === 0 ? undefined : rnd(i);
      const ct = node.aesGcmEncrypt(key, iv, pt, aad);
      expect(ct.length).toBe(pt.length + 16);
      expect(noble.aesGcmEncrypt(key, iv, pt, aad)).toEqual(ct);
      expect(node.aesGcmDecrypt(key, iv, ct, aad)).toEqual(pt);
      expect(noble.aesGcmDecrypt(key, iv, ct, aad)).toEqual(pt);
    }
  });

  it('ed25519Verify agrees on random (mostly invalid) inputs and never throws', () => {
    for (let i = 0; i < ROUNDS * 4; i++) {
      const sig = rnd(i % 10 === 0 ? 63 : 64);
      const msg = rnd(i);
      const pub = rnd(i % 11 === 0 ? 31 : 32);
      expect(node.ed25519Verify(sig, msg, pub)).toBe(false);
      expect(noble.ed25519Verify(sig, msg, pub)).toBe(false);
    }
  });

  it('randomBytes gives plain Uint8Arrays of the requested size', () => {
    for (const p of impls) {
      const r = p.randomBytes(40);
      expect(r.length).toBe(40);
      expect(r.byteLength).toBe(r.buffer.byteLength);
      expect(p.randomBytes(40)).not.toEqual(r);
    }
  });
});

describe.each(impls)('$name: bad input', (p) => {
  it('x25519 rejects wrong lengths as bad-key', () => {
    const kp = noble.generateKeyPair();
    expectBadKey(() => p.x25519(kp.priv, new Uint8Array(31)));
    expectBadKey(() => p.x25519(kp.priv, new Uint8Array(33)));
    expectBadKey(() => p.x25519(new Uint8Array(31), kp.pub));
    expectBadKey(() => p.x25519Public(new Uint8Array(16)));
  });

  it('x25519 rejects low-order points (all-zero secret) as bad-key', () => {
    const kp = noble.generateKeyPair();
    const one = new Uint8Array(32);
    one[0] = 1;
    // u = p − 1 and u = p (non-canonical zero) have low order too.
    const pMinus1 = Uint8Array.from(Buffer.from('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'));
    const p0 = Uint8Array.from(Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'));
    for (const low of [new Uint8Array(32), one, pMinus1, p0]) expectBadKey(() => p.x25519(kp.priv, low));
  });

  it('aes-gcm rejects a flipped bit, a truncated tag, short input and short IVs', () => {
    const key = rnd(16);
    const iv = rnd(12);
    const ct = p.aesGcmEncrypt(key, iv, rnd(20));
    const flipped = ct.slice();
    flipped[3] ^= 1;
    const badPayload = expect.objectContaining({ code: 'bad-payload' });
    expect(() => p.aesGcmDecrypt(key, iv, flipped)).toThrow(badPayload);
    // A 12-byte tag must not be accepted (node needs authTagLength: 16 for this).
    expect(() => p.aesGcmDecrypt(key, iv, ct.slice(0, ct.length - 4))).toThrow(badPayload);
    expect(() => p.aesGcmDecrypt(key, iv, rnd(10))).toThrow(badPayload);
    expect(() => p.aesGcmEncrypt(key, rnd(4), rnd(10))).toThrow();
    expect(() => p.aesGcmDecrypt(rnd(16), iv, ct)).toThrow();
  });

  it('aes-cbc rejects a ciphertext with bad padding', () => {
    const key = rnd(16);
    const iv = rnd(16);
    const ct = p.aesCbcEncrypt(key, iv, rnd(16));
    // Decrypting under another key yields random padding bytes; with overwhelming probability bad.
    let threw = 0;
    for (let i = 0; i < 8; i++) {
      try {
        p.aesCbcDecrypt(rnd(16), iv, ct);
      } catch (e) {
        expect(isOmemoError(e, 'bad-payload')).toBe(true);
        threw++;
      }
    }
    expect(threw).toBeGreaterThan(0);
    expect(() => p.aesCbcDecrypt(key, iv, ct.slice(0, 20))).toThrow(expect.objectContaining({ code: 'bad-payload' }));
  });
});
