// One identity in both OMEMO versions: our Curve25519 identity published in its Ed25519 form,
// peers' Ed25519 keys converted for X3DH and fingerprints, OMEMO 2 signatures, and bundle checks.
import { afterAll, describe, expect, it } from 'vitest';
import { generateIdentity, type Bundle } from '../../src/omemo/device.js';
import { isOmemoError } from '../../src/omemo/errors.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { ownBundle2, pickBundle2, validateBundle2 } from '../../src/omemo/omemo2/bundle.js';
import { ownEd25519Identity, peerIdentityCurve, signLabel, signSignedPreKey, verifyLabel, verifySignedPreKey } from '../../src/omemo/omemo2/identity.js';
import {
  currentPrimitives,
  ed25519PublicToX25519,
  edwards,
  generateKeyPair,
  nodePrimitives,
  noblePrimitives,
  randomBytes,
  usePrimitives,
} from '../../src/omemo/primitives.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isOmemoError(e)) return e.code;
    throw e;
  }
  return 'ok';
}

const le = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
const leBytes = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const P = edwards.P;
const inv = (a: bigint) => {
  // Fermat: a^(p−2) mod p, independent of noble's field code.
  let r = 1n;
  let b = ((a % P) + P) % P;
  for (let e = P - 2n; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
};

const original = currentPrimitives();
afterAll(() => usePrimitives(original));

describe('OMEMO 2 identity keys', () => {
  it('Ed25519 → X25519 is u = (1 + y)/(1 − y), computed independently, for random points of both signs', () => {
    for (let i = 0; i < 24; i++) {
      const ed = edwards.Point.BASE.multiply(1n + (le(randomBytes(32)) % (edwards.ORDER - 1n))).toBytes();
      const y = le(ed) & ((1n << 255n) - 1n);
      expect(ed25519PublicToX25519(ed)).toEqual(leBytes(((1n + y) * inv(1n - y)) % P));
    }
  });

  it('bytes that are no point, the neutral point and low-order points are refused', () => {
    expect(code(() => ed25519PublicToX25519(new Uint8Array(31)))).toBe('bad-key');
    const noPoint = leBytes(2n); // y = 2: x² has no root
    expect(code(() => ed25519PublicToX25519(noPoint))).toBe('bad-key');
    expect(code(() => ed25519PublicToX25519(leBytes(1n)))).toBe('bad-key'); // y = 1, the neutral point
    const order2 = leBytes(P - 1n); // (0, −1) has order 2: u = 0
    expect(code(() => peerIdentityCurve(order2))).toBe('bad-key');
  });

  it.each([nodePrimitives, noblePrimitives])('our Ed25519 form maps back to our identity, and its XEdDSA signatures are plain Ed25519 ($name)', (impl) => {
    usePrimitives(impl);
    const signBits = new Set<number>();
    for (let i = 0; i < 16; i++) {
      const id = generateKeyPair();
      const ed = ownEd25519Identity(id);
      expect(ed[31] >> 7).toBe(0);
      expect(ed25519PublicToX25519(ed)).toEqual(id.pub);
      // Both halves of the Curve25519 keys occur: the ones whose natural Ed25519 key is negative too.
      const k = le(Uint8Array.from(id.priv, (b, j) => (j === 0 ? b & 248 : j === 31 ? (b & 127) | 64 : b))) % edwards.ORDER;
      signBits.add(edwards.Point.BASE.multiply(k).toBytes()[31] >> 7);
      const spk = generateKeyPair().pub;
      const sig = signSignedPreKey(id, spk);
      expect(verifySignedPreKey(ed, spk, sig)).toBe(true);
      expect(verifySignedPreKey(ed, generateKeyPair().pub, sig)).toBe(false);
      expect(signSignedPreKey(id, spk)).toEqual(sig); // deterministic: a republished bundle is the same
      expect(verifyLabel(ed, 'Phone', signLabel(id, 'Phone'))).toBe(true);
      expect(verifyLabel(ed, 'Phone ', signLabel(id, 'Phone'))).toBe(false);
    }
    expect(signBits).toEqual(new Set([0, 1]));
  });

  it('an identity whose public half does not belong to its private half is refused', () => {
    const id = generateKeyPair();
    expect(code(() => ownEd25519Identity({ priv: id.priv, pub: generateKeyPair().pub }))).toBe('bad-key');
  });
});

describe('OMEMO 2 bundles', () => {
  async function bundle(): Promise<Bundle> {
    const store = new MemoryOmemoStore();
    await generateIdentity(store);
    const b = await ownBundle2(store);
    expect(await ownBundle2(store)).toEqual(b);
    return b;
  }

  it('ours validates, names our identity in Curve25519 form, and a prekey is picked from it', async () => {
    const b = await bundle();
    expect(validateBundle2(b)).toEqual(ed25519PublicToX25519(b.identityKey));
    const p = pickBundle2(b);
    expect(b.preKeys.some((k) => k.id === p.preKeyId && Buffer.from(k.key).equals(Buffer.from(p.preKey)))).toBe(true);
  });

  it('bad signatures, bad keys, missing prekeys and bad ids are refused with their codes', async () => {
    const b = await bundle();
    const sig = b.signedPreKeySignature.slice();
    sig[0] ^= 1;
    const lowOrder = new Uint8Array(32); // u = 0
    const cases: [Partial<Bundle>, string][] = [
      [{ signedPreKeySignature: sig }, 'bad-signature'],
      [{ signedPreKey: generateKeyPair().pub }, 'bad-signature'],
      [{ identityKey: ownEd25519Identity(generateKeyPair()) }, 'bad-signature'],
      [{ identityKey: Uint8Array.of(5, ...ed25519PublicToX25519(b.identityKey)) }, 'bad-bundle'],
      [{ identityKey: leBytes(2n) }, 'bad-key'],
      [{ signedPreKey: lowOrder }, 'bad-key'],
      [{ preKeys: [{ id: 1, key: lowOrder }] }, 'bad-key'],
      [{ preKeys: [] }, 'bad-bundle'],
      [{ signedPreKeySignature: sig.subarray(0, 63) }, 'bad-bundle'],
      [{ deviceId: 0 }, 'bad-bundle'],
      [{ signedPreKeyId: 2 ** 31 }, 'bad-bundle'],
      [{ preKeys: [{ id: 0, key: generateKeyPair().pub }] }, 'bad-bundle'],
    ];
    for (const [change, expected] of cases) expect(code(() => validateBundle2({ ...b, ...change })), JSON.stringify(Object.keys(change))).toBe(expected);
  });
});
