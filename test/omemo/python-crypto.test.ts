// Cross-checks against Debian's python3-xeddsa / x3dh / oldmemo (test/python/oracle_crypto.py).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentPrimitives, generateKeyPair, randomBytes, usePrimitives, nodePrimitives, noblePrimitives, x25519Public } from '../../src/omemo/primitives.js';
import { serializePublicKey } from '../../src/omemo/keys.js';
import { xeddsaPublicKey, xeddsaSign, xeddsaVerify } from '../../src/omemo/xeddsa.js';
import { x3dhInitiator, x3dhResponder } from '../../src/omemo/x3dh.js';
import { pythonAvailable, runPython } from '../helpers/python.js';
import { hex, repoRoot, toHex } from '../helpers/vectors.js';

const ORACLE = path.join(repoRoot, 'test/python/oracle_crypto.py');
const oracle = async (ops: unknown[]): Promise<any[]> => (await runPython(ORACLE, { ops })).results;

const havePython = pythonAvailable();
if (!havePython) {
  if (process.env.CI === 'true') throw new Error('/usr/bin/python3 is required under CI');
  console.warn('/usr/bin/python3 not found; skipping python cross-checks');
}

const original = currentPrimitives();
afterAll(() => usePrimitives(original));

describe.skipIf(!havePython).each([nodePrimitives, noblePrimitives])('python cross-checks via $name', (impl) => {
  beforeAll(() => usePrimitives(impl));

  it('our XEdDSA signatures verify in python-xeddsa the way oldmemo parse_bundle checks them', async () => {
    const cases = [];
    for (let i = 0; i < 12; i++) {
      const kp = generateKeyPair();
      const msg = serializePublicKey(generateKeyPair().pub);
      const sig = xeddsaSign(kp.priv, msg);
      cases.push({ pub: toHex(kp.pub), msg: toHex(msg), sig: toHex(sig) });
      // Negative control: a signature over another message must be refused by python too.
      const other = msg.slice();
      other[1] ^= 1;
      cases.push({ pub: toHex(kp.pub), msg: toHex(other), sig: toHex(sig) });
    }
    const [verdicts] = await oracle([{ op: 'verify', cases }]);
    expect(verdicts).toEqual(cases.map((_, i) => i % 2 === 0));
  });

  it('python-oldmemo style signatures (sign bit folded into sig[63]) verify in ours', async () => {
    const msgs = Array.from({ length: 24 }, () => toHex(serializePublicKey(randomBytes(32))));
    const [signed] = await oracle([{ op: 'sign', msgs }]);
    const bits = new Set<number>();
    for (const s of signed) {
      bits.add(s.sign_bit);
      expect((hex(s.sig)[63] >> 7) & 1).toBe(s.sign_bit);
      expect(xeddsaVerify(hex(s.pub), hex(s.msg), hex(s.sig))).toBe(true);
      // Forcing the bit the other way (the textbook-XEdDSA mistake) must fail.
      const wrong = hex(s.sig);
      wrong[63] ^= 0x80;
      expect(xeddsaVerify(hex(s.pub), hex(s.msg), wrong)).toBe(false);
    }
    // Both sign-bit cases occurred (each keeps probability 1/2 per key; 2^-23 to miss one).
    expect(bits).toEqual(new Set([0, 1]));
  });

  it('same private key: same XEdDSA public key as python-xeddsa, signatures verify both ways', async () => {
    const ops = Array.from({ length: 8 }, () => {
      const priv = randomBytes(32);
      const msg = randomBytes(33);
      return { op: 'xeddsa_keypair', priv: toHex(priv), msg: toHex(msg), our_sig: toHex(xeddsaSign(priv, msg)) };
    });
    const results = await oracle(ops);
    ops.forEach((o, i) => {
      const r = results[i];
      expect(toHex(xeddsaPublicKey(hex(o.priv)))).toBe(r.ed_pub);
      expect(toHex(x25519Public(hex(o.priv)))).toBe(r.curve_pub);
      expect(r.ours_valid).toBe(true);
      expect(xeddsaVerify(hex(r.curve_pub), hex(o.msg), hex(r.sig))).toBe(true);
    });
  });

  it('X3DH with python as Alice (active) and us as Bob: shared secret = our root key', async () => {
    for (const withOpk of [true, false]) {
      const bobId = generateKeyPair();
      const spk = generateKeyPair();
      const opk = generateKeyPair();
      const sig = xeddsaSign(bobId.priv, serializePublicKey(spk.pub));
      const [alice] = await oracle([
        {
          op: 'x3dh_active',
          identity: toHex(bobId.pub),
          spk: toHex(spk.pub),
          spk_sig: toHex(sig),
          prekeys: withOpk ? [toHex(opk.pub)] : [],
        },
      ]);
      expect(alice.spk).toBe(toHex(spk.pub));
      expect(alice.prekey).toBe(withOpk ? toHex(opk.pub) : null);
      const bob = x3dhResponder({
        ourIdentity: bobId,
        ourSignedPreKey: spk,
        ourOneTimePreKey: withOpk ? opk : undefined,
        theirIdentity: hex(alice.identity),
        theirBase: hex(alice.base),
      });
      expect(toHex(bob.rootKey32)).toBe(alice.sk);
      // oldmemo's associated data: initiator identity (33) ‖ responder identity (33).
      expect(alice.ad).toBe(alice.ad.slice(0, 66) + toHex(serializePublicKey(bobId.pub)));
    }
  });

  it('X3DH with python as Bob (passive) and us as Alice, bundle in oldmemo wire style', async () => {
    const [created] = await oracle([{ op: 'x3dh_passive_create', prekeys: 3 }]);
    const b = created.bundle;
    // python-oldmemo's bundle signature verifies with our libsignal-convention verifier.
    expect(xeddsaVerify(hex(b.identity), serializePublicKey(hex(b.spk)), hex(b.spk_sig))).toBe(true);
    const aliceId = generateKeyPair();
    const base = generateKeyPair();
    const prekey = b.prekeys[1];
    const ours = x3dhInitiator({
      ourIdentity: aliceId,
      ourBase: base,
      theirIdentity: hex(b.identity),
      theirSignedPreKey: hex(b.spk),
      theirOneTimePreKey: hex(prekey),
    });
    const [bob] = await oracle([
      {
        op: 'x3dh_passive',
        state: created.state,
        identity: toHex(aliceId.pub),
        base: toHex(base.pub),
        spk: b.spk,
        prekey,
      },
    ]);
    expect(bob.sk).toBe(toHex(ours.rootKey32));
  });
});
