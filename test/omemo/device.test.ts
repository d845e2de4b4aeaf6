import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SIGNED_PREKEY_GRACE_MS,
  DEFAULT_SIGNED_PREKEY_ROTATION_MS,
  MAX_ID,
  generateDeviceId,
  generateIdentity,
  isLowOrderPoint,
  ownBundle,
  pickPreKeyBundle,
  refillPreKeys,
  rotateSignedPreKeyIfDue,
  validateBundle,
  type Bundle,
} from '../../src/omemo/device.js';
import { isOmemoError } from '../../src/omemo/errors.js';
import { serializePublicKey } from '../../src/omemo/keys.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { generateKeyPair, x25519 } from '../../src/omemo/primitives.js';
import { xeddsaVerify } from '../../src/omemo/xeddsa.js';
import { initSessionFromBundle } from '../../src/omemo/session-cipher.js';

const DAY = 24 * 3600 * 1000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isOmemoError(e) ? e.code : `non-omemo: ${(e as Error).message}`;
  }
  return undefined;
}
async function codeOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isOmemoError(e) ? e.code : `non-omemo: ${(e as Error).message}`;
  }
  return undefined;
}

function le(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}
const P = (1n << 255n) - 19n;
const ORDER8_A = 325606250916557431795983626356110631294008115727848805560023387167927233504n;
const ORDER8_B = 39382357235489614581723060781553021112529911719440698176882885853963445705823n;
const LOW = [0n, 1n, ORDER8_A, ORDER8_B, P - 1n, P, P + 1n].map(le);

async function freshBundle(): Promise<{ store: MemoryOmemoStore; bundle: Bundle }> {
  const store = new MemoryOmemoStore();
  await generateIdentity(store, [], { now: 1_000 });
  return { store, bundle: await ownBundle(store) };
}

describe('device ids', () => {
  it('are in 1..2^31-1 and avoid existing ids', () => {
    for (let i = 0; i < 200; i++) {
      const id = generateDeviceId([]);
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(MAX_ID);
    }
    const existing = Array.from({ length: 50 }, () => generateDeviceId());
    const id = generateDeviceId(existing);
    expect(existing).not.toContain(id);
  });
});

describe('identity and prekeys', () => {
  it('creates identity, signed prekey and 100 prekeys with ids 1..100', async () => {
    const store = new MemoryOmemoStore();
    const id = await generateIdentity(store, [5, 6]);
    expect([5, 6]).not.toContain(id.deviceId);
    const b = await ownBundle(store);
    expect(b.deviceId).toBe(id.deviceId);
    expect(b.preKeys.map((p) => p.id)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(b.identityKey.length).toBe(32);
    expect(xeddsaVerify(b.identityKey, serializePublicKey(b.signedPreKey), b.signedPreKeySignature)).toBe(true);
    expect(() => validateBundle(b)).not.toThrow();
  });

  it('refuses to overwrite an identity unless forced', async () => {
    const store = new MemoryOmemoStore();
    const first = await generateIdentity(store);
    expect(await codeOfAsync(generateIdentity(store))).toBe('invalid-input');
    expect((await store.getOwnIdentity())!.deviceId).toBe(first.deviceId);
    const second = await generateIdentity(store, [], { force: true });
    expect(second.deviceId).not.toBe(first.deviceId);
    expect(Buffer.from(second.identityKey.pub)).not.toEqual(Buffer.from(first.identityKey.pub));
    const b = await ownBundle(store);
    // prekey ids keep counting after a forced regeneration
    expect(b.preKeys[0].id).toBe(101);
    expect(() => validateBundle(b)).not.toThrow();
  });

  it('refills to 100 with never-reused ids', async () => {
    const store = new MemoryOmemoStore();
    await generateIdentity(store);
    await store.removePreKey(7);
    await store.removePreKey(100);
    const fresh = await refillPreKeys(store);
    expect(fresh.map((p) => p.id)).toEqual([101, 102]);
    expect((await store.listPreKeys()).length).toBe(100);
    expect(await refillPreKeys(store)).toEqual([]);
    expect(await store.getPreKeyCounter()).toBe(102);
  });
});

describe('signed prekey rotation', () => {
  it('rotates weekly, keeps the old key for the grace period, then deletes it', async () => {
    const store = new MemoryOmemoStore();
    const t0 = 1_000;
    await generateIdentity(store, [], { now: t0 });
    expect(await rotateSignedPreKeyIfDue(store, t0 + 6 * DAY)).toBe(false);
    const t1 = t0 + DEFAULT_SIGNED_PREKEY_ROTATION_MS;
    expect(await rotateSignedPreKeyIfDue(store, t1)).toBe(true);
    const b = await ownBundle(store);
    expect(b.signedPreKeyId).toBe(2);
    expect(() => validateBundle(b)).not.toThrow();
    expect((await store.listSignedPreKeys()).map((s) => s.id).sort()).toEqual([1, 2]);
    // within the grace period the replaced key stays
    expect(await rotateSignedPreKeyIfDue(store, t1 + 5 * DAY)).toBe(false);
    expect(await store.getSignedPreKey(1)).toBeDefined();
    // rotation period is configurable; after the grace period the replaced key is gone
    const t2 = t1 + DEFAULT_SIGNED_PREKEY_GRACE_MS + 1;
    expect(await rotateSignedPreKeyIfDue(store, t2, 365 * DAY)).toBe(false);
    expect(await store.getSignedPreKey(1)).toBeUndefined();
    expect(await store.getSignedPreKey(2)).toBeDefined();
  });
});

describe('bundle validation', () => {
  it('accepts a good bundle and picks one of its prekeys', async () => {
    const { bundle } = await freshBundle();
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const pk = pickPreKeyBundle(bundle);
      expect(pk.signedPreKeyId).toBe(bundle.signedPreKeyId);
      const match = bundle.preKeys.find((p) => p.id === pk.preKeyId)!;
      expect(Buffer.from(match.key)).toEqual(Buffer.from(pk.preKey));
      seen.add(pk.preKeyId);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('rejects missing prekeys, wrong lengths, bad ids', async () => {
    const { bundle } = await freshBundle();
    expect(codeOf(() => validateBundle({ ...bundle, preKeys: [] }))).toBe('bad-bundle');
    expect(codeOf(() => validateBundle({ ...bundle, identityKey: serializePublicKey(bundle.identityKey) }))).toBe('bad-bundle');
    expect(codeOf(() => validateBundle({ ...bundle, signedPreKey: bundle.signedPreKey.subarray(0, 31) }))).toBe('bad-bundle');
    expect(codeOf(() => validateBundle({ ...bundle, signedPreKeySignature: new Uint8Array(63) }))).toBe('bad-bundle');
    expect(codeOf(() => validateBundle({ ...bundle, preKeys: [{ id: 0, key: bundle.preKeys[0].key }] }))).toBe('bad-bundle');
    expect(codeOf(() => validateBundle({ ...bundle, deviceId: 2 ** 31 }))).toBe('bad-bundle');
    expect(codeOf(() => pickPreKeyBundle({ ...bundle, preKeys: [] }))).toBe('bad-bundle');
  });

  it('rejects a signature by another identity or over another key', async () => {
    const { bundle } = await freshBundle();
    const other = await freshBundle();
    expect(codeOf(() => validateBundle({ ...bundle, signedPreKeySignature: other.bundle.signedPreKeySignature }))).toBe('bad-signature');
    expect(codeOf(() => validateBundle({ ...bundle, signedPreKey: other.bundle.signedPreKey }))).toBe('bad-signature');
    expect(codeOf(() => validateBundle({ ...bundle, identityKey: other.bundle.identityKey }))).toBe('bad-signature');
  });

  it('the low-order list is exactly what X25519 rejects, and bundles carrying one are bad-key', async () => {
    const { bundle } = await freshBundle();
    const priv = generateKeyPair().priv;
    for (const k of LOW) {
      expect(isLowOrderPoint(k)).toBe(true);
      expect(codeOf(() => x25519(priv, k))).toBe('bad-key');
      const hi = k.slice();
      hi[31] |= 0x80; // X25519 ignores the top bit
      expect(isLowOrderPoint(hi)).toBe(true);
      expect(codeOf(() => validateBundle({ ...bundle, signedPreKey: k }))).toBe('bad-key');
      expect(codeOf(() => validateBundle({ ...bundle, identityKey: hi }))).toBe('bad-key');
      expect(codeOf(() => validateBundle({ ...bundle, preKeys: [...bundle.preKeys, { id: 999, key: k }] }))).toBe('bad-key');
    }
    for (let i = 0; i < 20; i++) expect(isLowOrderPoint(generateKeyPair().pub)).toBe(false);
  });
  it('the byte comparison agrees with X25519 on every encoding next to a low-order one', () => {
    const priv = generateKeyPair().priv;
    const near = [0n, 1n, ORDER8_A, ORDER8_B, P - 1n, P, P + 1n].flatMap((u) => [u - 1n, u, u + 1n]);
    const candidates = [...near, P + 2n, P + 18n, (1n << 255n) - 1n].filter((u) => u >= 0n && u < 1n << 255n);
    for (const u of candidates) {
      const k = le(u);
      const rejected = codeOf(() => x25519(priv, k)) === 'bad-key';
      expect(isLowOrderPoint(k), u.toString(16)).toBe(rejected);
      k[31] |= 0x80;
      expect(isLowOrderPoint(k), `${u.toString(16)} with top bit`).toBe(rejected);
    }
  });

  it('a picked bundle is verified once, and changing it afterwards is still caught', async () => {
    const { bundle } = await freshBundle();
    const other = await freshBundle();
    const alice = new MemoryOmemoStore();
    await generateIdentity(alice);
    const picked = pickPreKeyBundle(bundle);
    picked.signedPreKeySignature = other.bundle.signedPreKeySignature;
    expect(await codeOfAsync(initSessionFromBundle(alice, { jid: 'b@x', deviceId: bundle.deviceId }, picked))).toBe('bad-signature');
    const picked2 = pickPreKeyBundle(bundle);
    picked2.signedPreKey.set(other.bundle.signedPreKey); // same object, bytes changed in place
    expect(await codeOfAsync(initSessionFromBundle(alice, { jid: 'b@x', deviceId: bundle.deviceId }, picked2))).toBe('bad-signature');
  });
});
