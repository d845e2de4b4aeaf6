// OMEMO 2 sessions between two of our devices: key-exchange retransmission, out-of-order delivery
// across DH steps, duplicates, and hostile input (bad MACs, reused or unknown prekeys, forged
// identities, truncated or garbage data, far-future counters): each a typed error, nothing stored.
import { describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/omemo/device.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { ownBundle2, pickBundle2 } from '../../src/omemo/omemo2/bundle.js';
import { ownEd25519Identity } from '../../src/omemo/omemo2/identity.js';
import { encryptKey, hasSession, initSession, openKey } from '../../src/omemo/omemo2/session.js';
import { MAX_SKIP, ratchetDecrypt } from '../../src/omemo/omemo2/ratchet.js';
import { decodeAuthenticated, decodeKeyExchange, decodeStoredSession, encodeAuthenticated, encodeKeyExchange, encodeOmemoMessage } from '../../src/omemo/omemo2/wire.js';
import { generateKeyPair } from '../../src/omemo/primitives.js';
import { encodeStoredSessionRecord } from '../../src/omemo/wire.js';
import { addDiagnosticSink } from '../../src/lib/diagnostics.js';

const te = new TextEncoder();
const td = new TextDecoder();

async function device(jid: string) {
  const store = new MemoryOmemoStore();
  const id = await generateIdentity(store);
  return { store, id, addr: { jid, deviceId: id.deviceId } };
}

type Device = Awaited<ReturnType<typeof device>>;

/** Alice starts a session with Bob from his published bundle. */
async function pair() {
  const alice = await device('alice@x');
  const bob = await device('bob@x');
  await initSession(alice.store, bob.addr, pickBundle2(await ownBundle2(bob.store)));
  return { alice, bob };
}

async function send(from: Device, to: Device, text: string) {
  return encryptKey(from.store, to.addr, te.encode(text));
}

async function receive(at: Device, from: Device, m: { prekey: boolean; data: Uint8Array }) {
  const o = await openKey(at.store, from.addr, m.data, m.prekey);
  await o.commit();
  return { ...o.result, text: td.decode(o.result.plaintext) };
}

/** Everything a failed decryption must leave alone. */
async function snapshot(d: Device, peer: Device) {
  return { session: await d.store.loadSession(peer.addr), preKeys: (await d.store.listPreKeys()).map((p) => p.id), writes: d.store.sessionWrites };
}

async function refused(at: Device, from: Device, data: Uint8Array, kex: boolean, code: string) {
  const before = await snapshot(at, from);
  await expect(openKey(at.store, from.addr, data, kex)).rejects.toMatchObject({ code });
  expect(await snapshot(at, from)).toEqual(before);
}

const flip = (b: Uint8Array, i: number) => {
  const c = b.slice();
  c[i] ^= 1;
  return c;
};

describe('OMEMO 2 sessions', () => {
  it('the initiator wraps every message in the same key exchange until a reply; a retransmission after the prekey is gone still decrypts', async () => {
    const { alice, bob } = await pair();
    const m1 = await send(alice, bob, 'one');
    const m2 = await send(alice, bob, 'two');
    expect([m1.prekey, m2.prekey]).toEqual([true, true]);
    const k1 = decodeKeyExchange(m1.data);
    expect(decodeKeyExchange(m2.data)).toMatchObject({ preKeyId: k1.preKeyId, ephemeralKey: k1.ephemeralKey, identityKey: ownEd25519Identity(alice.id.identityKey) });
    const r1 = await receive(bob, alice, m1);
    expect([r1.text, r1.newSession, r1.usedPreKeyId]).toEqual(['one', true, k1.preKeyId]);
    expect(r1.senderIdentity).toEqual(alice.id.identityKey.pub); // the Curve25519 form: one fingerprint
    await bob.store.removePreKey(k1.preKeyId);
    const r2 = await receive(bob, alice, m2);
    expect([r2.text, r2.newSession, r2.usedPreKeyId]).toEqual(['two', false, undefined]);
    const reply = await send(bob, alice, 'reply');
    expect(reply.prekey).toBe(false); // the responder never wraps
    expect((await receive(alice, bob, reply)).text).toBe('reply');
    expect((await send(alice, bob, 'three')).prekey).toBe(false);
  });

  it('messages out of order across DH steps decrypt once each; a second time is a duplicate', async () => {
    const { alice, bob } = await pair();
    await receive(bob, alice, await send(alice, bob, 'hello'));
    const late: { m: { prekey: boolean; data: Uint8Array }; text: string }[] = [];
    for (let round = 0; round < 4; round++) {
      const [from, to] = round % 2 === 0 ? [bob, alice] : [alice, bob];
      const ms = [];
      for (let i = 0; i < 3; i++) ms.push(await send(from, to, `r${round} m${i}`));
      // The first one now; the others wait until after the next DH step, when only the header's
      // pn (3: the length of the sender's previous chain) says their keys must be kept.
      expect((await receive(to, from, ms[0])).text).toBe(`r${round} m0`);
      late.push({ m: ms[1], text: `r${round} m1` }, { m: ms[2], text: `r${round} m2` });
    }
    const alicesOwn = new Set(late.filter((_, i) => Math.floor(i / 2) % 2 === 1));
    for (const l of late.reverse()) {
      const [at, from] = alicesOwn.has(l) ? [bob, alice] : [alice, bob];
      expect((await receive(at, from, l.m)).text).toBe(l.text);
    }
    const again = late[0];
    const [at, from] = alicesOwn.has(again) ? [bob, alice] : [alice, bob];
    await refused(at, from, again.m.data, false, 'duplicate');
  });

  it('a changed MAC, ciphertext or header byte is bad-mac, before and after the session exists, and changes nothing', async () => {
    const { alice, bob } = await pair();
    const first = await send(alice, bob, 'first');
    const macAt = first.data.length - decodeKeyExchange(first.data).authenticated.messageBytes.length - 16 - 2;
    await refused(bob, alice, flip(first.data, macAt), true, 'bad-mac');
    await refused(bob, alice, flip(first.data, first.data.length - 1), true, 'bad-mac'); // last ciphertext byte
    expect(await hasSession(bob.store, alice.addr)).toBe(false);
    await receive(bob, alice, first);
    const m = await send(bob, alice, 'x');
    const auth = decodeAuthenticated(m.data);
    await refused(alice, bob, encodeAuthenticated(flip(auth.mac, 3), auth.messageBytes), false, 'bad-mac');
    const msg = auth.message;
    await refused(alice, bob, encodeAuthenticated(auth.mac, encodeOmemoMessage({ ...msg, pn: msg.pn + 1 })), false, 'bad-mac');
    expect((await receive(alice, bob, m)).text).toBe('x');
  });

  it('the ratchet itself changes nothing when a message does not verify', async () => {
    const { alice, bob } = await pair();
    await receive(bob, alice, await send(alice, bob, 'hello'));
    const m = decodeAuthenticated((await send(bob, alice, 'new chain')).data);
    const state = decodeStoredSession((await alice.store.loadSession(bob.addr))!);
    const before = structuredClone(state);
    expect(() => ratchetDecrypt(state, { ...m, mac: flip(m.mac, 0) })).toThrow(expect.objectContaining({ code: 'bad-mac' }));
    expect(state).toEqual(before);
    expect(td.decode(ratchetDecrypt(state, m).plaintext)).toBe('new chain');
    expect(state).not.toEqual(before);
  });

  it('a key exchange naming a used prekey or an unknown signed prekey is refused and builds nothing', async () => {
    const { alice, bob } = await pair();
    const m = await send(alice, bob, 'first');
    const k = decodeKeyExchange(m.data);
    await receive(bob, alice, m);
    await bob.store.removePreKey(k.preKeyId); // consumed, as the manager does
    // Another device (or a replay with a new ephemeral key) naming the same prekey.
    const mallory = await device('mallory@x');
    await initSession(mallory.store, bob.addr, { ...pickBundle2(await ownBundle2(bob.store)), preKeyId: k.preKeyId, preKey: generateKeyPair().pub });
    await refused(bob, mallory, (await send(mallory, bob, 'reuse')).data, true, 'unknown-prekey');
    const spkless = decodeKeyExchange((await send(mallory, bob, 'x')).data);
    const wrongSpk = encodeKeyExchange({ ...spkless, signedPreKeyId: 999 }, encodeAuthenticated(spkless.authenticated.mac, spkless.authenticated.messageBytes));
    await refused(bob, mallory, wrongSpk, true, 'unknown-signed-prekey');
  });

  it('a key exchange under another identity key, or one that is no point, is refused', async () => {
    const { alice, bob } = await pair();
    const k = decodeKeyExchange((await send(alice, bob, 'hi')).data);
    const rewrap = (ik: Uint8Array) => encodeKeyExchange({ ...k, identityKey: ik }, encodeAuthenticated(k.authenticated.mac, k.authenticated.messageBytes));
    // Mallory claims the message under her identity: X3DH and AD differ, the MAC fails.
    await refused(bob, alice, rewrap(ownEd25519Identity(generateKeyPair())), true, 'bad-mac');
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2; // y = 2 has no x on Ed25519
    await refused(bob, alice, rewrap(notAPoint), true, 'bad-key');
  });

  it('truncated or garbage key data, a far-future counter and a message without a session are typed errors', async () => {
    const { alice, bob } = await pair();
    const m = await send(alice, bob, 'first');
    await refused(bob, alice, m.data.subarray(0, m.data.length - 20), true, 'bad-protobuf');
    await refused(bob, alice, te.encode('garbage garbage garbage'), true, 'bad-protobuf');
    await refused(bob, alice, decodeKeyExchange(m.data).authenticated.messageBytes, false, 'bad-protobuf');
    const plain = decodeKeyExchange(m.data).authenticated;
    await refused(bob, alice, encodeAuthenticated(plain.mac, plain.messageBytes), false, 'no-session');
    await receive(bob, alice, m);
    // Bob has received message 0, so n = MAX_SKIP + 2 would need MAX_SKIP + 1 skipped keys.
    const far = encodeOmemoMessage({ ...plain.message, n: MAX_SKIP + 2 });
    await refused(bob, alice, encodeAuthenticated(plain.mac, far), false, 'too-far-ahead');
  });

  it('a stored record that is no OMEMO 2 session counts as none, and the diagnostics hear of it', async () => {
    const { alice, bob } = await pair();
    const entries: string[] = [];
    const stop = addDiagnosticSink((e) => entries.push(`${e.level} ${e.where}: ${e.message}`));
    try {
      await alice.store.storeSession(bob.addr, encodeStoredSessionRecord({ formatVersion: 1, previous: [] }));
      expect(await hasSession(alice.store, bob.addr)).toBe(false);
      expect(entries).toEqual([expect.stringMatching(/^warn omemo2: stored session with bob@x\/\d+ is unreadable: .*not an OMEMO 2 session/)]);
    } finally {
      stop();
    }
  });

  it('a new key exchange from the same device replaces the session (the peer started afresh)', async () => {
    const { alice, bob } = await pair();
    await receive(bob, alice, await send(alice, bob, 'old'));
    await initSession(alice.store, bob.addr, pickBundle2(await ownBundle2(bob.store)));
    const fresh = await send(alice, bob, 'new');
    const r = await receive(bob, alice, fresh);
    expect([r.text, r.newSession]).toEqual(['new', true]);
    expect((await receive(alice, bob, await send(bob, alice, 'ack'))).text).toBe('ack');
  });
});
