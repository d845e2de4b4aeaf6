// libsignal-style session tests (SessionCipherTest / SimultaneousInitiateTests / SessionBuilderTest).
import { describe, expect, it } from 'vitest';
import { isOmemoError } from '../../src/omemo/errors.js';
import { serializePublicKey } from '../../src/omemo/keys.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { concatBytes, generateKeyPair, randomBytes } from '../../src/omemo/primitives.js';
import { SessionRecord, chainStep, computeMac, deriveMessageKeys, ratchetDecrypt } from '../../src/omemo/ratchet.js';
import {
  decryptFromDevice,
  encryptForDevice,
  hasSession,
  initSessionFromBundle,
  type PreKeyBundle,
} from '../../src/omemo/session-cipher.js';
import type { DeviceAddress } from '../../src/omemo/store.js';
import { decodePreKeyWhisperMessage, decodeWhisperMessage, encodePreKeyWhisperMessage } from '../../src/omemo/wire.js';
import { xeddsaSign } from '../../src/omemo/xeddsa.js';
import { aesCbcEncrypt } from '../../src/omemo/primitives.js';
import { loadVectors } from '../helpers/vectors.js';

interface Device {
  jid: string;
  id: number;
  store: MemoryOmemoStore;
  addr: DeviceAddress;
  bundle(preKeyId?: number): Promise<PreKeyBundle>;
}

async function makeDevice(jid: string, id: number, preKeys = 5): Promise<Device> {
  const identity = generateKeyPair();
  const store = new MemoryOmemoStore({ deviceId: id, identityKey: identity });
  const spk = generateKeyPair();
  await store.putSignedPreKey({
    id: 1,
    keyPair: spk,
    signature: xeddsaSign(identity.priv, serializePublicKey(spk.pub)),
    createdAt: 0,
  });
  await store.putPreKeys(Array.from({ length: preKeys }, (_, i) => ({ id: i + 1, keyPair: generateKeyPair() })));
  return {
    jid,
    id,
    store,
    addr: { jid, deviceId: id },
    async bundle(preKeyId = 1) {
      const s = (await store.getSignedPreKey(1))!;
      const pk = (await store.getPreKey(preKeyId))!;
      return {
        deviceId: id,
        identityKey: identity.pub,
        signedPreKeyId: 1,
        signedPreKey: s.keyPair.pub,
        signedPreKeySignature: s.signature,
        preKeyId,
        preKey: pk.keyPair.pub,
      };
    },
  };
}

const te = new TextEncoder();
const td = new TextDecoder();

async function send(from: Device, to: Device, text: string) {
  const r = await encryptForDevice(from.store, to.addr, te.encode(text));
  return { ...r, text };
}
async function recv(at: Device, from: Device, m: { data: Uint8Array; prekey: boolean }) {
  return decryptFromDevice(at.store, from.addr, m.data, m.prekey);
}
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isOmemoError(e)) return e.code;
    throw e;
  }
}
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : 'none');

/** Alice and Bob with an established, acknowledged session (both sides have sent). */
async function pair() {
  const alice = await makeDevice('alice@x', 11);
  const bob = await makeDevice('bob@x', 22);
  await initSessionFromBundle(alice.store, bob.addr, await bob.bundle(1));
  const first = await send(alice, bob, 'hello');
  expect(first.prekey).toBe(true);
  await recv(bob, alice, first);
  await recv(alice, bob, await send(bob, alice, 'ack'));
  return { alice, bob };
}

// Deterministic shuffling so a failure reproduces.
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
}
function shuffle<T>(a: T[], r: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('session cipher (libsignal semantics)', () => {
  it('chain step and message keys match libsignal test_chain_key_derivation_v3', () => {
    const v = loadVectors('libsignal-vectors.json')?.chain_key_derivation_v3;
    if (!v) return;
    const unhex = (x: string) => new Uint8Array(Buffer.from(x, 'hex'));
    const step = chainStep(unhex(v.chain_key));
    const keys = deriveMessageKeys(step.seed);
    expect(hex(step.next)).toBe(v.next_chain_key);
    expect(hex(keys.cipherKey)).toBe(v.cipher_key);
    expect(hex(keys.macKey)).toBe(v.mac_key);
  });

  it('key exchange: PreKey messages repeat until acknowledged; retransmission after prekey deletion matches by base key', async () => {
    const alice = await makeDevice('alice@x', 11);
    const bob = await makeDevice('bob@x', 22);
    expect(await hasSession(alice.store, bob.addr)).toBe(false);
    await initSessionFromBundle(alice.store, bob.addr, await bob.bundle(3));
    expect(await hasSession(alice.store, bob.addr)).toBe(true);

    const m1 = await send(alice, bob, 'one');
    const m2 = await send(alice, bob, 'two');
    const m3 = await send(alice, bob, 'three');
    expect([m1.prekey, m2.prekey, m3.prekey]).toEqual([true, true, true]);

    const r1 = await recv(bob, alice, m1);
    expect(td.decode(r1.plaintext)).toBe('one');
    expect(r1.newSession).toBe(true);
    expect(r1.usedPreKeyId).toBe(3);
    expect(hex(r1.senderIdentity)).toBe(hex((await alice.store.getOwnIdentity())!.identityKey.pub));

    // The caller deletes the used prekey; later retransmissions must still decrypt.
    await bob.store.removePreKey(3);
    const r3 = await recv(bob, alice, m3);
    expect(td.decode(r3.plaintext)).toBe('three');
    expect(r3.newSession).toBe(false);
    expect(r3.usedPreKeyId).toBeUndefined();
    const r2 = await recv(bob, alice, m2);
    expect(td.decode(r2.plaintext)).toBe('two');

    // Bob's reply is a plain WhisperMessage; once Alice has it, she stops sending PreKey messages.
    const b1 = await send(bob, alice, 'reply');
    expect(b1.prekey).toBe(false);
    const m4 = await send(alice, bob, 'still prekey');
    expect(m4.prekey).toBe(true);
    expect(td.decode((await recv(alice, bob, b1)).plaintext)).toBe('reply');
    const m5 = await send(alice, bob, 'plain');
    expect(m5.prekey).toBe(false);
    expect(td.decode((await recv(bob, alice, m4)).plaintext)).toBe('still prekey');
    expect(td.decode((await recv(bob, alice, m5)).plaintext)).toBe('plain');
  });

  it('a PreKey message naming an unknown prekey is rejected as unknown-prekey', async () => {
    const alice = await makeDevice('alice@x', 11);
    const bob = await makeDevice('bob@x', 22);
    await initSessionFromBundle(alice.store, bob.addr, await bob.bundle(2));
    await bob.store.removePreKey(2);
    expect(await codeOf(recv(bob, alice, await send(alice, bob, 'x')))).toBe('unknown-prekey');
    expect(await bob.store.loadSession(alice.addr)).toBeUndefined();
  });

  it('rejects bundles with a bad signature or without a one-time prekey', async () => {
    const alice = await makeDevice('alice@x', 11);
    const bob = await makeDevice('bob@x', 22);
    const good = await bob.bundle(1);
    const badSig = { ...good, signedPreKeySignature: good.signedPreKeySignature.slice() };
    badSig.signedPreKeySignature[5] ^= 1;
    expect(await codeOf(initSessionFromBundle(alice.store, bob.addr, badSig))).toBe('bad-signature');
    const otherSpk = { ...good, signedPreKey: generateKeyPair().pub };
    expect(await codeOf(initSessionFromBundle(alice.store, bob.addr, otherSpk))).toBe('bad-signature');
    const noPk = { ...good, preKey: new Uint8Array(0) } as PreKeyBundle;
    expect(await codeOf(initSessionFromBundle(alice.store, bob.addr, noPk))).toBe('bad-bundle');
    expect(await hasSession(alice.store, bob.addr)).toBe(false);
    await initSessionFromBundle(alice.store, bob.addr, good);
    expect(await hasSession(alice.store, bob.addr)).toBe(true);
  });

  it('simultaneous session start: both sides keep both states and converge', async () => {
    const alice = await makeDevice('alice@x', 11);
    const bob = await makeDevice('bob@x', 22);
    await initSessionFromBundle(alice.store, bob.addr, await bob.bundle(1));
    await initSessionFromBundle(bob.store, alice.addr, await alice.bundle(1));
    const a1 = await send(alice, bob, 'a1');
    const b1 = await send(bob, alice, 'b1');
    expect(a1.prekey && b1.prekey).toBe(true);
    expect(td.decode((await recv(bob, alice, a1)).plaintext)).toBe('a1');
    expect(td.decode((await recv(alice, bob, b1)).plaintext)).toBe('b1');

    for (let i = 0; i < 3; i++) {
      const a = await send(alice, bob, `a${i + 2}`);
      expect(td.decode((await recv(bob, alice, a)).plaintext)).toBe(`a${i + 2}`);
      const b = await send(bob, alice, `b${i + 2}`);
      expect(td.decode((await recv(alice, bob, b)).plaintext)).toBe(`b${i + 2}`);
      expect(a.prekey || b.prekey).toBe(false);
    }
    // Both now use the same state: the current states share a base key.
    const ra = SessionRecord.deserialize((await alice.store.loadSession(bob.addr))!);
    const rb = SessionRecord.deserialize((await bob.store.loadSession(alice.addr))!);
    expect(hex(ra.current!.aliceBaseKey)).toBe(hex(rb.current!.aliceBaseKey));
  });

  it('1000 messages with direction switches, delivered shuffled, all decrypt', async () => {
    const { alice, bob } = await pair();
    const r = rng(42);
    type InFlight = { from: Device; to: Device; m: Awaited<ReturnType<typeof send>>; round: number };
    let pending: InFlight[] = [];
    let sent = 0;
    let delivered = 0;
    for (let round = 0; sent < 1000; round++) {
      const [from, to] = r() < 0.5 ? [alice, bob] : [bob, alice];
      const n = Math.min(1 + Math.floor(r() * 30), 1000 - sent);
      for (let i = 0; i < n; i++) pending.push({ from, to, m: await send(from, to, `msg ${sent++}`), round });
      // Deliver a random part now, everything older than two rounds at the latest.
      shuffle(pending, r);
      const now = pending.filter((p) => p.round < round - 1 || r() < 0.5);
      pending = pending.filter((p) => !now.includes(p));
      for (const p of now) {
        expect(td.decode((await recv(p.to, p.from, p.m)).plaintext)).toBe(p.m.text);
        delivered++;
      }
    }
    for (const p of shuffle(pending, r)) {
      expect(td.decode((await recv(p.to, p.from, p.m)).plaintext)).toBe(p.m.text);
      delivered++;
    }
    expect(delivered).toBe(1000);
  });

  it('duplicates fail as duplicate and change nothing', async () => {
    const { alice, bob } = await pair();
    const m = await send(alice, bob, 'once');
    await recv(bob, alice, m);
    const before = hex(await bob.store.loadSession(alice.addr));
    expect(await codeOf(recv(bob, alice, m))).toBe('duplicate');
    expect(hex(await bob.store.loadSession(alice.addr))).toBe(before);
    // also a duplicate from an earlier chain after a DH ratchet step
    const m2 = await send(alice, bob, 'x');
    await recv(bob, alice, m2);
    await recv(alice, bob, await send(bob, alice, 'turn'));
    await recv(bob, alice, await send(alice, bob, 'new chain'));
    expect(await codeOf(recv(bob, alice, m2))).toBe('duplicate');
  });

  it('lost messages do not break later ones; skipped keys stay usable', async () => {
    const { alice, bob } = await pair();
    const ms = [];
    for (let i = 0; i < 10; i++) ms.push(await send(alice, bob, `m${i}`));
    // 0..3 lost forever, 7 arrives late
    for (const i of [4, 5, 6, 8, 9]) expect(td.decode((await recv(bob, alice, ms[i])).plaintext)).toBe(`m${i}`);
    await recv(alice, bob, await send(bob, alice, 'reply'));
    const after = await send(alice, bob, 'after');
    expect(td.decode((await recv(bob, alice, after)).plaintext)).toBe('after');
    expect(td.decode((await recv(bob, alice, ms[7])).plaintext)).toBe('m7');
  });

  it('accepts 2000 messages ahead, rejects 2001 as too-far-ahead without state change', async () => {
    const { alice, bob } = await pair();
    const ms = [];
    for (let i = 0; i <= 2001; i++) ms.push(await encryptForDevice(alice.store, bob.addr, Uint8Array.of(i & 0xff, i >> 8)));
    const before = hex(await bob.store.loadSession(alice.addr));
    expect(await codeOf(decryptFromDevice(bob.store, alice.addr, ms[2001].data, false))).toBe('too-far-ahead');
    expect(hex(await bob.store.loadSession(alice.addr))).toBe(before);
    const r = await decryptFromDevice(bob.store, alice.addr, ms[2000].data, false);
    expect([...r.plaintext]).toEqual([2000 & 0xff, 2000 >> 8]);
    expect(r.receivedSinceLastSend).toBe(2001);
    // all 2000 skipped keys were kept
    for (const i of [0, 1, 999, 1999]) {
      const x = await decryptFromDevice(bob.store, alice.addr, ms[i].data, false);
      expect([...x.plaintext]).toEqual([i & 0xff, i >> 8]);
    }
    expect(td.decode((await recv(bob, alice, await send(alice, bob, 'ok'))).plaintext)).toBe('ok');
  });

  it('every failure leaves the stored session byte-identical', async () => {
    const { alice, bob } = await pair();
    const good = await send(alice, bob, 'target');
    const flip = (b: Uint8Array, i: number) => {
      const c = b.slice();
      c[i] ^= 0x01;
      return c;
    };
    const variants: [string, Uint8Array, boolean, string][] = [
      ['bad mac', flip(good.data, good.data.length - 1), false, 'bad-mac'],
      ['ciphertext bit', flip(good.data, good.data.length - 12), false, 'bad-mac'],
      ['truncated', good.data.subarray(0, good.data.length - 3), false, 'bad-protobuf'],
      ['bad version', Uint8Array.of(0x23, ...good.data.subarray(1)), false, 'bad-version'],
      ['garbage', randomBytes(60), false, 'any'],
      ['prekey garbage', Uint8Array.of(0x33, 0xff, 0xff), true, 'bad-protobuf'],
      ['empty', new Uint8Array(0), false, 'bad-protobuf'],
    ];
    const before = hex(await bob.store.loadSession(alice.addr));
    for (const [name, data, prekey, expected] of variants) {
      const c = await codeOf(decryptFromDevice(bob.store, alice.addr, data, prekey));
      if (expected === 'any') expect(c, name).not.toBe('ok');
      else expect(c, name).toBe(expected);
      expect(hex(await bob.store.loadSession(alice.addr)), name).toBe(before);
    }
    // A forged PreKey message with a fresh base key builds a session in memory, then fails: nothing stored.
    const eve = await makeDevice('eve@x', 33);
    await initSessionFromBundle(eve.store, bob.addr, await bob.bundle(2));
    const forged = await send(eve, bob, 'hi');
    const parsed = decodePreKeyWhisperMessage(forged.data);
    const inner = parsed.message.slice();
    inner[inner.length - 1] ^= 1; // the MAC lives in the inner WhisperMessage
    const f = encodePreKeyWhisperMessage({ ...parsed, message: inner });
    expect(await codeOf(decryptFromDevice(bob.store, alice.addr, f, true))).toBe('bad-mac');
    expect(hex(await bob.store.loadSession(alice.addr))).toBe(before);
    // and the untouched message still decrypts
    expect(td.decode((await recv(bob, alice, good)).plaintext)).toBe('target');
  });

  it('ratchetDecrypt leaves a state untouched when a message fails, even after a DH step or skipped keys', async () => {
    const { alice, bob } = await pair();
    const ms: Awaited<ReturnType<typeof send>>[] = [];
    for (let i = 0; i < 3; i++) ms.push(await send(alice, bob, `m${i}`)); // new ratchet key (alice got 'ack')
    const state = SessionRecord.deserialize((await bob.store.loadSession(alice.addr))!).current!;
    const before = structuredClone(state);
    for (const m of [ms[0], ms[2]]) {
      const d = decodeWhisperMessage(m.data);
      const badMac = { ...d, mac: d.mac.map((b) => b ^ 1) };
      expect(() => ratchetDecrypt(state, badMac)).toThrow(/MAC/);
      expect(state).toEqual(before);
    }
    // Success does change it, and the untouched state still takes every message.
    expect(td.decode(ratchetDecrypt(state, decodeWhisperMessage(ms[2].data)).plaintext)).toBe('m2');
    expect(state).not.toEqual(before);
    const after = structuredClone(state);
    expect(() => ratchetDecrypt(state, { ...decodeWhisperMessage(ms[1].data), mac: new Uint8Array(8) })).toThrow(/MAC/);
    expect(state).toEqual(after);
    expect(td.decode(ratchetDecrypt(state, decodeWhisperMessage(ms[0].data)).plaintext)).toBe('m0');
    expect(td.decode(ratchetDecrypt(state, decodeWhisperMessage(ms[1].data)).plaintext)).toBe('m1');
  });

  it('always works from what the store holds: a failed store or a rollback behind its back is honoured', async () => {
    const { alice, bob } = await pair();
    const counterOf = (m: { data: Uint8Array }) => decodeWhisperMessage(m.data).counter;
    const before = (await alice.store.loadSession(bob.addr))!;
    const m1 = await send(alice, bob, 'one');
    // Someone (the manager's payload rollback) puts the earlier record back.
    await alice.store.storeSession(bob.addr, before);
    const m1again = await send(alice, bob, 'one again');
    expect(counterOf(m1again)).toBe(counterOf(m1));
    // A store that fails once: the ciphertext is not returned and the next one reuses nothing new.
    const store = alice.store;
    const real = store.storeSession.bind(store);
    let fail = true;
    store.storeSession = async (a, r) => {
      if (fail) {
        fail = false;
        throw new Error('disk full');
      }
      return real(a, r);
    };
    await expect(send(alice, bob, 'lost')).rejects.toThrow(/disk full/);
    const m2 = await send(alice, bob, 'two');
    expect(counterOf(m2)).toBe(counterOf(m1) + 1);
    expect(td.decode((await recv(bob, alice, m2)).plaintext)).toBe('two');
  });

  it('verifies the MAC over the received bytes, not a re-encoding', async () => {
    const { alice, bob } = await pair();
    // Build a message by hand with fields in reverse order, MAC'd over exactly those bytes.
    const rec = SessionRecord.deserialize((await alice.store.loadSession(bob.addr))!);
    const st = rec.current!;
    const chain = st.senderChain!;
    const keys = deriveMessageKeys(chainStep(chain.chainKey).seed);
    const ct = aesCbcEncrypt(keys.cipherKey, keys.iv, te.encode('reordered'));
    const rk = serializePublicKey(chain.ratchetPub);
    const body = Uint8Array.of(
      0x33,
      0x22, ct.length, ...ct, // 4: ciphertext
      0x18, st.previousCounter, // 3
      0x10, chain.index, // 2
      0x0a, 33, ...rk, // 1
    );
    const mac = computeMac(keys.macKey, st.localIdentity, st.remoteIdentity, body);
    const data = concatBytes(body, mac);
    const decoded = decodeWhisperMessage(data);
    expect(hex(decoded.macInput)).toBe(hex(body));
    const r = await decryptFromDevice(bob.store, alice.addr, data, false);
    expect(td.decode(r.plaintext)).toBe('reordered');
  });

  it('stores the ratchet state before returning the ciphertext', async () => {
    const { alice, bob } = await pair();
    const writes = alice.store.sessionWrites;
    const m = await send(alice, bob, 'persisted');
    expect(alice.store.sessionWrites).toBe(writes + 1);
    // The stored sending chain is already past the returned message.
    const idx = decodeWhisperMessage(m.data).counter;
    const rec = SessionRecord.deserialize((await alice.store.loadSession(bob.addr))!);
    expect(rec.current!.senderChain!.index).toBe(idx + 1);
    // If storing fails, no ciphertext is returned.
    const failing = Object.create(alice.store) as MemoryOmemoStore;
    failing.storeSession = async () => {
      throw new Error('disk full');
    };
    await expect(encryptForDevice(failing, bob.addr, te.encode('x'))).rejects.toThrow('disk full');
  });

  it('WhisperMessage without a session is no-session; archived states are capped at 40', async () => {
    const { alice, bob } = await pair();
    const carol = await makeDevice('carol@x', 44);
    const m = await send(alice, bob, 'x');
    expect(await codeOf(decryptFromDevice(carol.store, alice.addr, m.data, false))).toBe('no-session');
    expect(await codeOf(encryptForDevice(carol.store, alice.addr, te.encode('x')))).toBe('no-session');
    const bob2 = await makeDevice('bob@x', 22, 45);
    for (let i = 1; i <= 45; i++) await initSessionFromBundle(carol.store, bob2.addr, await bob2.bundle(i));
    const rec = SessionRecord.deserialize((await carol.store.loadSession(bob2.addr))!);
    expect(rec.previous.length).toBe(40);
    // the newest state is current and works
    expect(td.decode((await recv(bob2, carol, await send(carol, bob2, 'latest'))).plaintext)).toBe('latest');
  });
});
