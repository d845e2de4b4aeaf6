// Cross-check with python-oldmemo / doubleratchet / x3dh (Debian packages under /usr/bin/python3):
// both directions of session start, several messages each way, DH ratchet steps included.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serializePublicKey } from '../../src/omemo/keys.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { generateKeyPair } from '../../src/omemo/primitives.js';
import { decryptFromDevice, encryptForDevice, initSessionFromBundle } from '../../src/omemo/session-cipher.js';
import { decodePreKeyWhisperMessage } from '../../src/omemo/wire.js';
import { xeddsaSign } from '../../src/omemo/xeddsa.js';
import { pythonAvailable, runPython } from '../helpers/python.js';

const ORACLE = fileURLToPath(new URL('../python/oracle_session.py', import.meta.url));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
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

async function tsDevice(jid: string, deviceId: number) {
  const identity = generateKeyPair();
  const store = new MemoryOmemoStore({ deviceId, identityKey: identity });
  const spk = generateKeyPair();
  const signature = xeddsaSign(identity.priv, serializePublicKey(spk.pub));
  await store.putSignedPreKey({ id: 3, keyPair: spk, signature, createdAt: 0 });
  const pk = generateKeyPair();
  await store.putPreKeys([{ id: 9, keyPair: pk }]);
  return { store, identity, addr: { jid, deviceId }, bundle: { identityKey: identity.pub, signedPreKeyId: 3, signedPreKey: spk.pub, signedPreKeySignature: signature, preKeyId: 9, preKey: pk.pub } };
}

const skip = !pythonAvailable() && process.env.CI !== 'true';
if (skip) console.warn('python-ratchet: /usr/bin/python3 missing, skipping python cross-checks');

describe.skipIf(skip)('legacy session cipher vs python-oldmemo', () => {
  it('we initiate: python decrypts our PreKey and Whisper messages, we decrypt its replies', async () => {
    const py = new Py();
    const [{ bundle: pb }] = await py.run([{ op: 'create', pre_keys: 3 }]);
    const me = await tsDevice('me@x', 1001);
    const peer = { jid: 'py@x', deviceId: 2002 };
    await initSessionFromBundle(me.store, peer, {
      deviceId: 2002,
      identityKey: unhex(pb.identityKey),
      signedPreKeyId: pb.signedPreKeyId,
      signedPreKey: unhex(pb.signedPreKey),
      signedPreKeySignature: unhex(pb.signedPreKeySignature),
      preKeyId: pb.preKeys[1].id,
      preKey: unhex(pb.preKeys[1].pub),
    });

    // Two PreKey messages before any reply (the second is a retransmission on the same base key).
    const m1 = await encryptForDevice(me.store, peer, te.encode('ts→py 1'));
    const m2 = await encryptForDevice(me.store, peer, te.encode('ts→py 2'));
    expect(m1.prekey && m2.prekey).toBe(true);
    expect(decodePreKeyWhisperMessage(m1.data).preKeyId).toBe(pb.preKeys[1].id);
    const [d1, d2, r1, r2] = await py.run([
      { op: 'decrypt', data: hex(m1.data), prekey: true },
      { op: 'decrypt', data: hex(m2.data), prekey: true },
      { op: 'encrypt', plaintext: hex(te.encode('py→ts 1')) },
      { op: 'encrypt', plaintext: hex(te.encode('py→ts 2')) },
    ]);
    expect(td.decode(unhex(d1.plaintext))).toBe('ts→py 1');
    expect(td.decode(unhex(d2.plaintext))).toBe('ts→py 2');
    expect(r1.prekey).toBe(false);

    for (const [r, text] of [[r1, 'py→ts 1'], [r2, 'py→ts 2']] as const) {
      const out = await decryptFromDevice(me.store, peer, unhex(r.data), false);
      expect(td.decode(out.plaintext)).toBe(text);
      expect(hex(out.senderIdentity)).toBe(pb.identityKey);
    }

    // Several more rounds: each direction switch is a DH ratchet step on both sides.
    for (let round = 0; round < 3; round++) {
      const ours = [];
      for (let i = 0; i < 2; i++) ours.push(await encryptForDevice(me.store, peer, te.encode(`ts r${round} m${i}`)));
      expect(ours.every((m) => !m.prekey)).toBe(true);
      const res = await py.run([
        ...ours.map((m) => ({ op: 'decrypt', data: hex(m.data), prekey: false })),
        { op: 'encrypt', plaintext: hex(te.encode(`py r${round}`)) },
      ]);
      expect(res.slice(0, 2).map((r) => td.decode(unhex(r.plaintext)))).toEqual([`ts r${round} m0`, `ts r${round} m1`]);
      const back = await decryptFromDevice(me.store, peer, unhex(res[2].data), false);
      expect(td.decode(back.plaintext)).toBe(`py r${round}`);
    }
  }, 60_000);

  it('python initiates: we build the session from its PreKey message (twice, same base key) and talk back', async () => {
    const py = new Py();
    const me = await tsDevice('me@x', 1001);
    const peer = { jid: 'py@x', deviceId: 2002 };
    const [, , k1, k2] = await py.run([
      { op: 'create', pre_keys: 1 },
      {
        op: 'initiate',
        bundle: {
          identityKey: hex(me.bundle.identityKey),
          signedPreKeyId: 3,
          signedPreKey: hex(me.bundle.signedPreKey),
          signedPreKeySignature: hex(me.bundle.signedPreKeySignature),
          preKeyId: 9,
          preKey: hex(me.bundle.preKey),
        },
      },
      { op: 'encrypt', plaintext: hex(te.encode('py hello')) },
      { op: 'encrypt', plaintext: hex(te.encode('py again')) },
    ]);
    expect(k1.prekey && k2.prekey).toBe(true);
    const first = await decryptFromDevice(me.store, peer, unhex(k1.data), true);
    expect(td.decode(first.plaintext)).toBe('py hello');
    expect(first.newSession).toBe(true);
    expect(first.usedPreKeyId).toBe(9);
    await me.store.removePreKey(9);
    const second = await decryptFromDevice(me.store, peer, unhex(k2.data), true);
    expect(td.decode(second.plaintext)).toBe('py again');
    expect(second.newSession).toBe(false);

    for (let round = 0; round < 3; round++) {
      const ours = [];
      for (let i = 0; i <= round; i++) ours.push(await encryptForDevice(me.store, peer, te.encode(`ts r${round} m${i}`)));
      expect(ours.every((m) => !m.prekey)).toBe(true); // the responder never wraps
      const res = await py.run([
        ...ours.map((m) => ({ op: 'decrypt', data: hex(m.data), prekey: false })),
        { op: 'encrypt', plaintext: hex(te.encode(`py r${round} a`)) },
        { op: 'encrypt', plaintext: hex(te.encode(`py r${round} b`)) },
      ]);
      expect(res.slice(0, ours.length).map((r) => td.decode(unhex(r.plaintext)))).toEqual(ours.map((_, i) => `ts r${round} m${i}`));
      const replies = res.slice(ours.length);
      // python got our message, so it stopped wrapping its messages in key exchanges
      expect(replies.every((r) => r.prekey === false)).toBe(true);
      // deliver python's two replies in reverse order (skipped key on our side)
      const b = await decryptFromDevice(me.store, peer, unhex(replies[1].data), false);
      const a = await decryptFromDevice(me.store, peer, unhex(replies[0].data), false);
      expect([td.decode(a.plaintext), td.decode(b.plaintext)]).toEqual([`py r${round} a`, `py r${round} b`]);
    }
  }, 60_000);
});
