// Fixed libsignal vectors (libsignal-protocol-c tests), through both primitive implementations.
import { afterAll, describe, expect, it } from 'vitest';
import {
  currentPrimitives,
  hkdfSha256,
  hmacSha256,
  nodePrimitives,
  noblePrimitives,
  usePrimitives,
  x25519Public,
} from '../../src/omemo/primitives.js';
import { parsePublicKey } from '../../src/omemo/keys.js';
import { xeddsaVerify } from '../../src/omemo/xeddsa.js';
import { x3dhInitiator, x3dhResponder } from '../../src/omemo/x3dh.js';
import { hex, loadVectors, toHex } from '../helpers/vectors.js';

const v = loadVectors('libsignal-vectors.json');
const original = currentPrimitives();
afterAll(() => usePrimitives(original));

describe.skipIf(!v).each([nodePrimitives, noblePrimitives])('libsignal vectors via $name', (impl) => {
  it('signed prekey signature with the sign bit set verifies, and fails with the bit cleared', () => {
    usePrimitives(impl);
    const s = v.signed_prekey_signature;
    const pub = parsePublicKey(hex(s.identity_public_33));
    const msg = hex(s.message_33);
    const sig = hex(s.signature_64);
    expect(sig[63] & 0x80).toBe(0x80);
    expect(xeddsaVerify(pub, msg, sig)).toBe(true);
    const cleared = sig.slice();
    cleared[63] &= 0x7f;
    expect(xeddsaVerify(pub, msg, cleared)).toBe(false);
    const otherMsg = msg.slice();
    otherMsg[5] ^= 1;
    expect(xeddsaVerify(pub, otherMsg, sig)).toBe(false);
  });

  it('chain key derivation v3', () => {
    usePrimitives(impl);
    const c = v.chain_key_derivation_v3;
    const ck = hex(c.chain_key);
    const seed = hmacSha256(ck, Uint8Array.of(0x01));
    expect(toHex(hmacSha256(ck, Uint8Array.of(0x02)))).toBe(c.next_chain_key);
    const okm = hkdfSha256(seed, new Uint8Array(32), new TextEncoder().encode('WhisperMessageKeys'), 80);
    expect(toHex(okm.slice(0, 32))).toBe(c.cipher_key);
    expect(toHex(okm.slice(32, 64))).toBe(c.mac_key);
  });

  it('X3DH as Bob (no one-time prekey) gives the published chain key; Alice agrees', () => {
    usePrimitives(impl);
    const x = v.x3dh_as_bob_no_one_time_prekey;
    const idPriv = hex(x.bob_identity_private);
    const spkPriv = hex(x.bob_signed_prekey_private);
    const bob = x3dhResponder({
      ourIdentity: { priv: idPriv, pub: x25519Public(idPriv) },
      ourSignedPreKey: { priv: spkPriv, pub: x25519Public(spkPriv) },
      theirIdentity: hex(x.alice_identity_public),
      theirBase: hex(x.alice_base_public),
    });
    expect(toHex(bob.chainKey32)).toBe(x.derived_chain_key);
    expect(bob.rootKey32.length).toBe(32);
    expect(toHex(bob.rootKey32)).not.toBe(x.derived_chain_key);
  });
});

describe('x3dh', () => {
  it('initiator and responder agree, with and without a one-time prekey; each DH matters', () => {
    const kp = () => nodePrimitives.generateKeyPair();
    const [aliceId, aliceBase, bobId, bobSpk, bobOpk] = [kp(), kp(), kp(), kp(), kp()];
    for (const withOpk of [false, true]) {
      const a = x3dhInitiator({
        ourIdentity: aliceId,
        ourBase: aliceBase,
        theirIdentity: bobId.pub,
        theirSignedPreKey: bobSpk.pub,
        theirOneTimePreKey: withOpk ? bobOpk.pub : undefined,
      });
      const b = x3dhResponder({
        ourIdentity: bobId,
        ourSignedPreKey: bobSpk,
        ourOneTimePreKey: withOpk ? bobOpk : undefined,
        theirIdentity: aliceId.pub,
        theirBase: aliceBase.pub,
      });
      expect(a).toEqual(b);
    }
    const withOpk = x3dhResponder({ ourIdentity: bobId, ourSignedPreKey: bobSpk, ourOneTimePreKey: bobOpk, theirIdentity: aliceId.pub, theirBase: aliceBase.pub });
    const without = x3dhResponder({ ourIdentity: bobId, ourSignedPreKey: bobSpk, theirIdentity: aliceId.pub, theirBase: aliceBase.pub });
    expect(withOpk.rootKey32).not.toEqual(without.rootKey32);
    const wrongId = x3dhResponder({ ourIdentity: bobId, ourSignedPreKey: bobSpk, theirIdentity: kp().pub, theirBase: aliceBase.pub });
    expect(wrongId.rootKey32).not.toEqual(without.rootKey32);
  });

  it('a low-order base key is a bad-key error', () => {
    const kp = () => nodePrimitives.generateKeyPair();
    expect(() =>
      x3dhResponder({ ourIdentity: kp(), ourSignedPreKey: kp(), theirIdentity: kp().pub, theirBase: new Uint8Array(32) }),
    ).toThrow(expect.objectContaining({ code: 'bad-key' }));
  });
});
