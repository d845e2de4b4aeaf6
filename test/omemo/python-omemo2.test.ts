// OMEMO 2 against Debian's python3-twomemo / x3dh / doubleratchet / xeddsa
// (test/python/oracle_twomemo.py), both directions: identity key forms, signatures, X3DH, ratchet
// messages (key exchanges, retransmissions, DH steps, out-of-order delivery) and payloads.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { currentPrimitives, ed25519PublicToX25519, generateKeyPair, nodePrimitives, noblePrimitives, randomBytes, usePrimitives } from '../../src/omemo/primitives.js';
import { ownBundle2 } from '../../src/omemo/omemo2/bundle.js';
import { ownEd25519Identity, signLabel, signSignedPreKey, verifySignedPreKey } from '../../src/omemo/omemo2/identity.js';
import { decryptPayload2, encryptPayload2 } from '../../src/omemo/omemo2/payload.js';
import { encryptKey, initSession, openKey } from '../../src/omemo/omemo2/session.js';
import { decodeKeyExchange } from '../../src/omemo/omemo2/wire.js';
import { x3dhActive, x3dhPassive } from '../../src/omemo/omemo2/x3dh.js';
import { xeddsaSign } from '../../src/omemo/xeddsa.js';
import { pythonAvailable, runPython } from '../helpers/python.js';
import { hex, repoRoot, toHex } from '../helpers/vectors.js';

const ORACLE = path.join(repoRoot, 'test/python/oracle_twomemo.py');
const te = new TextEncoder();
const td = new TextDecoder();

/** Holds the python side's serialized state between stateless oracle calls. */
class Py {
  state: unknown = null;
  async run(ops: object[]): Promise<any[]> {
    const r = await runPython(ORACLE, { state: this.state, ops });
    this.state = r.state;
    return r.results;
  }
}
const crypto = async (op: object): Promise<any> => (await new Py().run([op]))[0];

interface PyBundle {
  identityKey: string;
  signedPreKeyId: number;
  signedPreKey: string;
  signedPreKeySignature: string;
  preKeys: { id: number; pub: string }[];
}

async function tsDevice(jid: string, deviceId: number) {
  const identity = generateKeyPair();
  const store = new MemoryOmemoStore({ deviceId, identityKey: identity });
  const spk = generateKeyPair();
  // The store keeps legacy's signature; OMEMO 2 signs when the bundle is built.
  await store.putSignedPreKey({ id: 3, keyPair: spk, signature: xeddsaSign(identity.priv, Uint8Array.of(5, ...spk.pub)), createdAt: 0 });
  const pk = generateKeyPair();
  await store.putPreKeys([{ id: 9, keyPair: pk }]);
  const b = await ownBundle2(store);
  return {
    store,
    identity,
    spk,
    pk,
    addr: { jid, deviceId },
    pyBundle: {
      identityKey: toHex(b.identityKey),
      signedPreKeyId: 3,
      signedPreKey: toHex(b.signedPreKey),
      signedPreKeySignature: toHex(b.signedPreKeySignature),
      preKeyId: 9,
      preKey: toHex(pk.pub),
    },
  };
}

function picked(pb: PyBundle, i: number) {
  const identityKey = hex(pb.identityKey);
  return {
    identityKey,
    identityCurve: ed25519PublicToX25519(identityKey),
    signedPreKeyId: pb.signedPreKeyId,
    signedPreKey: hex(pb.signedPreKey),
    preKeyId: pb.preKeys[i].id,
    preKey: hex(pb.preKeys[i].pub),
  };
}

async function open(store: MemoryOmemoStore, addr: { jid: string; deviceId: number }, data: string, kex: boolean) {
  const o = await openKey(store, addr, hex(data), kex);
  await o.commit();
  return o.result;
}

const havePython = pythonAvailable();
if (!havePython) {
  if (process.env.CI === 'true') throw new Error('/usr/bin/python3 is required under CI');
  console.warn('/usr/bin/python3 not found; skipping python-twomemo cross-checks');
}

const original = currentPrimitives();
afterAll(() => usePrimitives(original));

describe.skipIf(!havePython).each([nodePrimitives, noblePrimitives])('OMEMO 2 keys and signatures vs python-xeddsa via $name', (impl) => {
  beforeAll(() => usePrimitives(impl));

  it('our Ed25519 identity is the Curve25519 key python-xeddsa converts it to; python keys convert as ours do', async () => {
    const ours = Array.from({ length: 8 }, () => generateKeyPair());
    const conv = await crypto({ op: 'ed_to_curve', keys: ours.map((k) => toHex(ownEd25519Identity(k))) });
    expect(conv).toEqual(ours.map((k) => toHex(k.pub)));
    const theirs = await crypto({ op: 'sign', msgs: Array.from({ length: 8 }, () => toHex(randomBytes(32))) });
    for (const t of theirs) expect(toHex(ed25519PublicToX25519(hex(t.ed)))).toBe(t.curve);
  });

  it('our <spks> and labelsig verify in python-xeddsa, python signatures verify in ours; tampering is refused by both', async () => {
    const cases = [];
    for (let i = 0; i < 6; i++) {
      const id = generateKeyPair();
      const spk = generateKeyPair().pub;
      const ed = toHex(ownEd25519Identity(id));
      cases.push({ pub: ed, msg: toHex(spk), sig: toHex(signSignedPreKey(id, spk)) });
      cases.push({ pub: ed, msg: toHex(te.encode('Laptop ✓')), sig: toHex(signLabel(id, 'Laptop ✓')) });
      const other = spk.slice();
      other[0] ^= 1;
      cases.push({ pub: ed, msg: toHex(other), sig: toHex(signSignedPreKey(id, spk)) });
    }
    expect(await crypto({ op: 'verify', cases })).toEqual(cases.map((_, i) => i % 3 !== 2));
    const theirs = await crypto({ op: 'sign', msgs: Array.from({ length: 6 }, () => toHex(randomBytes(32))) });
    for (const t of theirs) {
      expect(verifySignedPreKey(hex(t.ed), hex(t.msg), hex(t.sig))).toBe(true);
      const bad = hex(t.sig);
      bad[10] ^= 4;
      expect(verifySignedPreKey(hex(t.ed), hex(t.msg), bad)).toBe(false);
    }
  });
});

describe.skipIf(!havePython)('OMEMO 2 X3DH, ratchet and payload vs python-twomemo', () => {
  it('X3DH: the same SK and AD in both directions', async () => {
    const py = new Py();
    const [{ bundle: pb }] = (await py.run([{ op: 'create', pre_keys: 2 }])) as [{ bundle: PyBundle }];
    const me = await tsDevice('me@x', 1);
    const ownEd = ownEd25519Identity(me.identity);
    const p = picked(pb, 1);
    const ours = x3dhActive({ ourIdentity: me.identity, ourIdentityEd: ownEd, theirIdentityEd: p.identityKey, theirIdentityCurve: p.identityCurve, theirSignedPreKey: p.signedPreKey, theirPreKey: p.preKey });
    const [passive, active] = await py.run([
      { op: 'x3dh_passive', ik: toHex(ownEd), ek: toHex(ours.ephemeral.pub), spk_id: 7, pk_id: 2 },
      { op: 'x3dh_active', bundle: me.pyBundle },
    ]);
    expect(passive).toEqual({ sk: toHex(ours.sk), ad: toHex(ours.ad) });
    expect(ours.ad.length).toBe(64);
    const mine = x3dhPassive({ ourIdentity: me.identity, ourIdentityEd: ownEd, ourSignedPreKey: me.spk, ourPreKey: me.pk, theirIdentityEd: p.identityKey, theirIdentityCurve: p.identityCurve, theirEphemeral: hex(active.ek) });
    expect({ sk: toHex(mine.sk), ad: toHex(mine.ad) }).toEqual({ sk: active.sk, ad: active.ad });
  });

  it('we initiate: python decrypts our key exchanges and messages, we decrypt its replies', async () => {
    const py = new Py();
    const [{ bundle: pb }] = (await py.run([{ op: 'create', pre_keys: 3 }])) as [{ bundle: PyBundle }];
    const me = await tsDevice('me@x', 1001);
    const peer = { jid: 'py@x', deviceId: 2002 };
    await initSession(me.store, peer, picked(pb, 1));
    // Two key exchanges before any reply: the second is a retransmission with the same ek.
    const m1 = await encryptKey(me.store, peer, te.encode('ts→py 1'));
    const m2 = await encryptKey(me.store, peer, te.encode('ts→py 2'));
    expect(m1.prekey && m2.prekey).toBe(true);
    expect(decodeKeyExchange(m1.data).preKeyId).toBe(pb.preKeys[1].id);
    const [d1, d2, r1, r2] = await py.run([
      { op: 'decrypt', data: toHex(m1.data), kex: true },
      { op: 'decrypt', data: toHex(m2.data), kex: true },
      { op: 'encrypt', plaintext: toHex(te.encode('py→ts 1')) },
      { op: 'encrypt', plaintext: toHex(te.encode('py→ts 2')) },
    ]);
    expect([td.decode(hex(d1.plaintext)), td.decode(hex(d2.plaintext))]).toEqual(['ts→py 1', 'ts→py 2']);
    expect(r1.kex).toBe(false);
    for (const [r, text] of [[r1, 'py→ts 1'], [r2, 'py→ts 2']] as const) {
      const out = await open(me.store, peer, r.data, false);
      expect(td.decode(out.plaintext)).toBe(text);
      expect(out.senderIdentity).toEqual(ed25519PublicToX25519(hex(pb.identityKey)));
    }
    // Each direction switch is a DH ratchet step on both sides.
    for (let round = 0; round < 3; round++) {
      const ours = [];
      for (let i = 0; i < 2; i++) ours.push(await encryptKey(me.store, peer, te.encode(`ts r${round} m${i}`)));
      expect(ours.every((m) => !m.prekey)).toBe(true);
      const res = await py.run([...ours.map((m) => ({ op: 'decrypt', data: toHex(m.data), kex: false })), { op: 'encrypt', plaintext: toHex(te.encode(`py r${round}`)) }]);
      expect(res.slice(0, 2).map((r) => td.decode(hex(r.plaintext)))).toEqual([`ts r${round} m0`, `ts r${round} m1`]);
      expect(td.decode((await open(me.store, peer, res[2].data, false)).plaintext)).toBe(`py r${round}`);
    }
  });

  it('python initiates: we build the session from its key exchange (twice, same ek), talk back, and take late messages of an old chain', async () => {
    const py = new Py();
    const me = await tsDevice('me@x', 1001);
    const peer = { jid: 'py@x', deviceId: 2002 };
    const [, , k1, k2] = await py.run([
      { op: 'create', pre_keys: 1 },
      { op: 'initiate', bundle: me.pyBundle },
      { op: 'encrypt', plaintext: toHex(te.encode('py hello')) },
      { op: 'encrypt', plaintext: toHex(te.encode('py again')) },
    ]);
    expect(k1.kex && k2.kex).toBe(true);
    const first = await open(me.store, peer, k1.data, true);
    expect([td.decode(first.plaintext), first.newSession, first.usedPreKeyId]).toEqual(['py hello', true, 9]);
    await me.store.removePreKey(9);
    const second = await open(me.store, peer, k2.data, true);
    expect([td.decode(second.plaintext), second.newSession]).toEqual(['py again', false]);
    const held: { data: string; text: string }[] = [];
    for (let round = 0; round < 3; round++) {
      const ours = [];
      for (let i = 0; i <= round; i++) ours.push(await encryptKey(me.store, peer, te.encode(`ts r${round} m${i}`)));
      expect(ours.every((m) => !m.prekey)).toBe(true); // the responder never wraps
      const res = await py.run([
        ...ours.map((m) => ({ op: 'decrypt', data: toHex(m.data), kex: false })),
        ...['a', 'b', 'c'].map((x) => ({ op: 'encrypt', plaintext: toHex(te.encode(`py r${round} ${x}`)) })),
      ]);
      expect(res.slice(0, ours.length).map((r) => td.decode(hex(r.plaintext)))).toEqual(ours.map((_, i) => `ts r${round} m${i}`));
      const [a, b, c] = res.slice(ours.length);
      expect([a.kex, b.kex, c.kex]).toEqual([false, false, false]);
      // b first: a's key is kept as skipped. c is held back until python's next chain has
      // arrived, whose pn tells us to keep c's key too.
      expect(td.decode((await open(me.store, peer, b.data, false)).plaintext)).toBe(`py r${round} b`);
      held.push({ data: a.data, text: `py r${round} a` }, { data: c.data, text: `py r${round} c` });
    }
    for (const h of held.reverse()) expect(td.decode((await open(me.store, peer, h.data, false)).plaintext)).toBe(h.text);
    // Each was a one-time key: the same message again is a duplicate.
    await expect(open(me.store, peer, held[0].data, false)).rejects.toMatchObject({ code: 'duplicate' });
  });

  it('payloads: python seals and we open, we seal and python opens; a changed MAC byte is refused by both', async () => {
    const body = te.encode(`<envelope xmlns='urn:xmpp:sce:1'><content/><rpad>x</rpad></envelope> ✓`);
    const sealed = await crypto({ op: 'seal', plaintext: toHex(body) });
    expect(hex(sealed.key).length + hex(sealed.tag).length).toBe(48);
    expect(decryptPayload2(hex(sealed.key + sealed.tag), hex(sealed.payload))).toEqual(body);
    const ours = encryptPayload2(body);
    const key = toHex(ours.keyMaterial.subarray(0, 32));
    const tag = toHex(ours.keyMaterial.subarray(32));
    expect(await crypto({ op: 'open', payload: toHex(ours.payload), key, tag })).toEqual({ plaintext: toHex(body) });
    const badTag = hex(tag);
    badTag[0] ^= 1;
    expect(await crypto({ op: 'open', payload: toHex(ours.payload), key, tag: toHex(badTag) })).toEqual({ plaintext: null });
    expect(() => decryptPayload2(hex(key + toHex(badTag)), ours.payload)).toThrow(/MAC/);
  });
});
