import { describe, expect, it } from 'vitest';
import { ownBundle, type Bundle } from '../../src/omemo/device.js';
import { isOmemoError } from '../../src/omemo/errors.js';
import { formatFingerprint } from '../../src/omemo/fingerprint.js';
import { DEVICE_FORGET_AFTER_MS, MAX_DEVICES_PER_JID, OmemoManager, type EncryptedElement, type IdentityChange } from '../../src/omemo/manager.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { decodePreKeyWhisperMessage, encodePreKeyWhisperMessage } from '../../src/omemo/wire.js';
import type { TrustMode } from '../../src/omemo/trust.js';
import { currentPrimitives, usePrimitives } from '../../src/omemo/primitives.js';

// A small in-memory "network": every device publishes its bundle here and every device list is
// known to every manager (as PEP notifications would deliver them).
interface Dev {
  jid: string;
  id: number;
  store: MemoryOmemoStore;
  m: OmemoManager;
}

class World {
  devs: Dev[] = [];
  clock = 1_000_000;

  async add(jid: string, trustMode: TrustMode = 'btbv'): Promise<Dev> {
    const store = new MemoryOmemoStore();
    const m = new OmemoManager(store, { ownJid: jid, trustMode, now: () => this.clock });
    const { deviceId } = await m.ensureIdentity(this.devs.filter((d) => d.jid === jid).map((d) => d.id));
    const dev = { jid, id: deviceId, store, m };
    this.devs.push(dev);
    await this.publishLists();
    return dev;
  }

  async publishLists(): Promise<void> {
    const jids = [...new Set(this.devs.map((d) => d.jid))];
    for (const d of this.devs) {
      for (const j of jids) {
        await d.m.processDeviceList(j, this.devs.filter((x) => x.jid === j).map((x) => x.id));
      }
    }
  }

  fetch = async (jid: string, id: number): Promise<Bundle> => {
    const d = this.devs.find((x) => x.jid === jid && x.id === id);
    if (!d) throw new Error(`item-not-found ${jid}/${id}`);
    return ownBundle(d.store);
  };
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isOmemoError(e) ? e.code : `non-omemo: ${(e as Error).message}`;
  }
  return undefined;
}

/** Everything a decryption could change, serialized for comparison. */
async function snapshot(d: Dev, peers: { jid: string; id: number }[]): Promise<string> {
  const s = d.store;
  const sessions = [];
  for (const p of peers) {
    const rec = await s.loadSession({ jid: p.jid, deviceId: p.id });
    sessions.push(rec ? Buffer.from(rec).toString('hex') : null);
  }
  const devices = [];
  for (const p of new Set(peers.map((x) => x.jid))) devices.push(await s.getDevices(p));
  return JSON.stringify({
    sessions,
    preKeys: (await s.listPreKeys()).map((p) => p.id),
    counter: await s.getPreKeyCounter(),
    trust: await s.listTrust(),
    devices: devices.map((l) => l.map((x) => ({ ...x, identityKey: x.identityKey && Buffer.from(x.identityKey).toString('hex') }))),
  });
}

function keyFor(el: EncryptedElement, rid: number) {
  return el.keys.find((k) => k.rid === rid);
}

describe('OmemoManager: multi-device exchange', () => {
  it('encrypts for every other device (own included, sender never), prekeys are consumed and refilled', async () => {
    const w = new World();
    const alice1 = await w.add('alice@example.org');
    const alice2 = await w.add('alice@example.org');
    const bob1 = await w.add('bob@example.org');
    const bob2 = await w.add('bob@example.org');

    const res = await alice1.m.encrypt('hello bob', ['bob@example.org', 'alice@example.org'], w.fetch);
    expect(res.element.sid).toBe(alice1.id);
    expect(res.element.keys.map((k) => k.rid).sort()).toEqual([alice2.id, bob1.id, bob2.id].sort());
    expect(keyFor(res.element, alice1.id)).toBeUndefined();
    expect(res.element.keys.every((k) => k.prekey)).toBe(true);
    expect(res.element.iv.length).toBe(12);
    expect(res.recipients.every((r) => r.status === 'ok' && r.fingerprint?.length === 64)).toBe(true);
    expect(res.recipients.length).toBe(3);

    for (const d of [bob1, bob2, alice2]) {
      const before = (await d.store.listPreKeys()).map((p) => p.id);
      const out = await d.m.decrypt(alice1.jid, res.element);
      expect(out.plaintext).toBe('hello bob');
      expect(out.senderDevice).toBe(alice1.id);
      expect(out.fingerprint).toBe(await alice1.m.ownFingerprint());
      expect(out.trust).toBe('trusted'); // btbv, nothing verified yet
      expect(out.bundleChanged).toBe(true);
      expect(out.sendEmptyReply).toBe(true); // new session: complete it
      const after = (await d.store.listPreKeys()).map((p) => p.id);
      expect(after.length).toBe(100);
      const removed = before.filter((id) => !after.includes(id));
      expect(removed.length).toBe(1);
      expect(after).toContain(101); // fresh id, never reused
      expect((await d.m.ownBundle()).preKeys.map((p) => p.id)).not.toContain(removed[0]);
    }

    // Bob answers over the established session: plain WhisperMessage to alice1, new sessions for alice2/bob2.
    const reply = await bob1.m.encrypt('hi alice', ['alice@example.org', 'bob@example.org'], w.fetch);
    expect(keyFor(reply.element, alice1.id)!.prekey).toBe(false);
    expect(keyFor(reply.element, bob1.id)).toBeUndefined();
    const got = await alice1.m.decrypt(bob1.jid, reply.element);
    expect(got.plaintext).toBe('hi alice');
    expect(got.sendEmptyReply).toBe(false);
    expect(got.bundleChanged).toBe(false);
    // the reply completed alice1's session: her next message is no PreKey message any more
    const next = await alice1.m.encrypt('again', ['bob@example.org'], w.fetch);
    expect(keyFor(next.element, bob1.id)!.prekey).toBe(false);
    expect((await bob1.m.decrypt(alice1.jid, next.element)).plaintext).toBe('again');
    expect(await code(bob1.m.decrypt(alice1.jid, next.element))).toBe('duplicate');
  });

  it('a retransmitted PreKey message still decrypts after its prekey was deleted', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    const m1 = await alice.m.encrypt('one', [bob.jid], w.fetch);
    const m2 = await alice.m.encrypt('two', [bob.jid], w.fetch);
    expect(keyFor(m2.element, bob.id)!.prekey).toBe(true);
    const r1 = await bob.m.decrypt(alice.jid, m1.element);
    expect(r1.bundleChanged).toBe(true);
    const r2 = await bob.m.decrypt(alice.jid, m2.element);
    expect(r2.plaintext).toBe('two');
    expect(r2.bundleChanged).toBe(false);
    expect((await bob.store.listPreKeys()).length).toBe(100);
  });

  it('key transport: no payload, plaintext null; emptyMessage targets single devices regardless of trust', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    const kt = await alice.m.encrypt(null, [bob.jid], w.fetch);
    expect(kt.element.payload).toBeUndefined();
    const r = await bob.m.decrypt(alice.jid, kt.element);
    expect(r.plaintext).toBeNull();
    expect(r.sendEmptyReply).toBe(true);
    const empty = await bob.m.emptyMessage([{ jid: alice.jid, deviceId: alice.id }]);
    expect(empty.keys.map((k) => k.rid)).toEqual([alice.id]);
    expect(empty.payload).toBeUndefined();
    expect((await alice.m.decrypt(bob.jid, empty)).plaintext).toBeNull();
  });

  it('no key for us → no-key-for-us; own reflected message too', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    const carol = await w.add('carol@example.org');
    const res = await alice.m.encrypt('not for carol', [bob.jid], w.fetch);
    const e = await carol.m.decrypt(alice.jid, res.element).catch((x) => x);
    expect(isOmemoError(e, 'no-key-for-us')).toBe(true);
    expect(String(e.message)).toMatch(/trust/);
    expect(await code(alice.m.decrypt(alice.jid, res.element))).toBe('no-key-for-us');
  });
});

describe('OmemoManager: failures change nothing', () => {
  it('a tampered key, a tampered payload and a garbage key leave the store unchanged', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    const peers = [{ jid: alice.jid, id: alice.id }];

    const first = await alice.m.encrypt('first', [bob.jid], w.fetch);
    const snap0 = await snapshot(bob, peers);
    const badKey = structuredClone(first.element);
    const k = keyFor(badKey, bob.id)!;
    const pkm = decodePreKeyWhisperMessage(k.data);
    const inner = pkm.message.slice();
    inner[inner.length - 1] ^= 1; // inner WhisperMessage MAC
    k.data = encodePreKeyWhisperMessage({ ...pkm, message: inner });
    expect(await code(bob.m.decrypt(alice.jid, badKey))).toBe('bad-mac');
    expect(await snapshot(bob, peers)).toBe(snap0);

    const badPayload = structuredClone(first.element);
    badPayload.payload![0] ^= 1;
    expect(await code(bob.m.decrypt(alice.jid, badPayload))).toBe('bad-payload');
    expect(await snapshot(bob, peers)).toBe(snap0);

    const garbage = structuredClone(first.element);
    keyFor(garbage, bob.id)!.data = new Uint8Array([0x33, 1, 2, 3]);
    expect(await code(bob.m.decrypt(alice.jid, garbage))).toMatch(/^bad-/);
    expect(await snapshot(bob, peers)).toBe(snap0);

    // the genuine message still decrypts afterwards
    expect((await bob.m.decrypt(alice.jid, first.element)).plaintext).toBe('first');

    // established session: tampering still changes nothing
    const second = await alice.m.encrypt('second', [bob.jid], w.fetch);
    const snap1 = await snapshot(bob, peers);
    const bad2 = structuredClone(second.element);
    bad2.payload![1] ^= 0x40;
    expect(await code(bob.m.decrypt(alice.jid, bad2))).toBe('bad-payload');
    expect(await snapshot(bob, peers)).toBe(snap1);
    expect((await bob.m.decrypt(alice.jid, second.element)).plaintext).toBe('second');
  });

  it('bad bundles are skipped and reported with the reason; a thrown fetch too', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob1 = await w.add('bob@example.org');
    const bob2 = await w.add('bob@example.org');
    const bob3 = await w.add('bob@example.org');
    const fetch = async (jid: string, id: number): Promise<Bundle> => {
      const b = await w.fetch(jid, id);
      if (id === bob2.id) return { ...b, signedPreKeySignature: new Uint8Array(64).fill(7) };
      if (id === bob3.id) throw new Error('remote-server-timeout');
      return b;
    };
    const res = await alice.m.encrypt('x', [bob1.jid], fetch);
    expect(res.element.keys.map((k) => k.rid)).toEqual([bob1.id]);
    const r2 = res.recipients.find((r) => r.deviceId === bob2.id)!;
    expect(r2.status).toBe('bundle-error');
    expect(r2.reason).toMatch(/bad-signature/);
    const r3 = res.recipients.find((r) => r.deviceId === bob3.id)!;
    expect(r3.status).toBe('bundle-error');
    expect(r3.reason).toMatch(/remote-server-timeout/);
    // no session was stored for the broken devices
    expect(await alice.store.loadSession({ jid: bob1.jid, deviceId: bob2.id })).toBeUndefined();
  });
});

describe('OmemoManager: cost', () => {
  it('a new session verifies the bundle signature once, not once per check along the way', async () => {
    const w = new World();
    const alice = await w.add('alice@x', 'blind');
    const bobs = [await w.add('bob@x', 'blind'), await w.add('bob@x', 'blind')];
    await w.publishLists();
    let verifications = 0;
    const base = currentPrimitives();
    usePrimitives({ ...base, ed25519Verify: (sig, msg, pub) => (verifications++, base.ed25519Verify(sig, msg, pub)) });
    try {
      const res = await alice.m.encrypt('hi', ['bob@x'], w.fetch);
      expect(res.element.keys.map((k) => k.rid).sort()).toEqual(bobs.map((b) => b.id).sort());
    } finally {
      usePrimitives(base);
    }
    expect(verifications).toBe(2);
  });
});

describe('OmemoManager: trust', () => {
  it('btbv: trusted until one device is verified, then new identities are undecided and excluded', async () => {
    const w = new World();
    const alice1 = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    const first = await bob.m.encrypt('hi', [alice1.jid], w.fetch);
    expect(first.recipients.map((r) => r.status)).toEqual(['ok']);
    // verify alice1 with a formatted, upper-case fingerprint
    const fp = await alice1.m.ownFingerprint();
    const rec = await bob.m.setTrust(alice1.jid, formatFingerprint(fp).toUpperCase(), 'verified');
    expect(rec.fingerprint).toBe(fp);
    expect(rec.state).toBe('verified');

    const alice2 = await w.add('alice@example.org');
    const res = await bob.m.encrypt('after verify', [alice1.jid], w.fetch);
    expect(res.element.keys.map((k) => k.rid)).toEqual([alice1.id]);
    const r2 = res.recipients.find((r) => r.deviceId === alice2.id)!;
    expect(r2.status).toBe('untrusted');
    expect(r2.fingerprint).toBe(await alice2.m.ownFingerprint());
    const listed = await bob.m.listDevices(alice1.jid);
    expect(listed.find((d) => d.deviceId === alice2.id)!.trust).toBe('undecided');
    expect(listed.find((d) => d.deviceId === alice1.id)!.trust).toBe('verified');

    // messages from an undecided device still decrypt, marked undecided
    const fromA2 = await alice2.m.encrypt('from a2', [bob.jid], w.fetch);
    const got = await bob.m.decrypt(alice2.jid, fromA2.element);
    expect(got.plaintext).toBe('from a2');
    expect(got.trust).toBe('undecided');

    await bob.m.setTrust(alice1.jid, r2.fingerprint!, 'trusted');
    const res2 = await bob.m.encrypt('now both', [alice1.jid], w.fetch);
    expect(res2.element.keys.map((k) => k.rid).sort()).toEqual([alice1.id, alice2.id].sort());
  });

  it('manual: everything undecided unless includeUntrusted; setTrust of an unknown fingerprint fails', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org', 'manual');
    const bob = await w.add('bob@example.org');
    const res = await alice.m.encrypt('x', [bob.jid], w.fetch);
    expect(res.element.keys).toEqual([]);
    expect(res.recipients[0].status).toBe('untrusted');
    expect(res.recipients[0].reason).toMatch(/undecided/);
    // no session was built for the untrusted device
    expect(await alice.store.loadSession({ jid: bob.jid, deviceId: bob.id })).toBeUndefined();
    const kt = await alice.m.encrypt(null, [bob.jid], w.fetch, { includeUntrusted: true });
    expect(kt.element.keys.map((k) => k.rid)).toEqual([bob.id]);
    expect(await code(alice.m.setTrust(bob.jid, 'ab'.repeat(32), 'trusted'))).toBe('invalid-input');
    expect(await code(alice.m.setTrust(bob.jid, 'not a fingerprint', 'trusted'))).toBe('invalid-input');
  });

  it('firstusage: all devices of the first contact trusted, later ones undecided; blind trusts all', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org', 'firstusage');
    const bob1 = await w.add('bob@example.org');
    const bob2 = await w.add('bob@example.org');
    const res = await alice.m.encrypt('x', [bob1.jid], w.fetch);
    expect(res.recipients.map((r) => r.status)).toEqual(['ok', 'ok']);
    const bob3 = await w.add('bob@example.org');
    const res2 = await alice.m.encrypt('y', [bob1.jid], w.fetch);
    expect(res2.recipients.find((r) => r.deviceId === bob3.id)!.status).toBe('untrusted');
    alice.m.setTrustMode('blind');
    expect(alice.m.trustMode).toBe('blind');
    const bob4 = await w.add('bob@example.org');
    const res3 = await alice.m.encrypt('z', [bob1.jid], w.fetch);
    expect(res3.recipients.find((r) => r.deviceId === bob4.id)!.status).toBe('ok');
    expect(res3.recipients.find((r) => r.deviceId === bob3.id)!.status).toBe('untrusted');
  });
});

describe('OmemoManager: bookkeeping', () => {
  it('processDeviceList reports new devices and a missing own id; inactive devices get no key', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob1 = await w.add('bob@example.org');
    const bob2 = await w.add('bob@example.org');
    const own = await alice.m.processDeviceList(alice.jid, [12345]);
    expect(own.ownDeviceMissing).toBe(true);
    expect(own.newDevices).toEqual([12345]);
    const again = await alice.m.processDeviceList(alice.jid, [12345, alice.id, 0, -1, 2 ** 31]);
    expect(again).toEqual({ ownDeviceMissing: false, newDevices: [], accepted: [12345, alice.id], ignored: 0 });
    // bob2's identity is known, so it is kept (inactive) when it leaves the list.
    expect(await alice.m.learnIdentities(bob2.jid, [bob2.id], w.fetch)).toEqual([]);
    const b = await alice.m.processDeviceList(bob1.jid, [bob1.id]);
    expect(b.newDevices).toEqual([]);
    const res = await alice.m.encrypt('x', [bob1.jid], w.fetch);
    expect(res.element.keys.map((k) => k.rid)).toEqual([bob1.id]);
    const listed = await alice.m.listDevices(bob1.jid);
    expect(listed.find((d) => d.deviceId === bob2.id)!.active).toBe(false);
  });

  it('heartbeat: an empty reply is due after 53 messages received without answering', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    // establish and complete the session
    await bob.m.decrypt(alice.jid, (await alice.m.encrypt('start', [bob.jid], w.fetch)).element);
    await alice.m.decrypt(bob.jid, await bob.m.emptyMessage([{ jid: alice.jid, deviceId: alice.id }]));
    const flags: boolean[] = [];
    for (let i = 0; i < 60; i++) {
      const el = (await alice.m.encrypt(`m${i}`, [bob.jid], w.fetch)).element;
      flags.push((await bob.m.decrypt(alice.jid, el)).sendEmptyReply);
    }
    const firstDue = flags.indexOf(true);
    expect(firstDue).toBe(52); // the 53rd message on the chain
    expect(flags.slice(firstDue).every(Boolean)).toBe(true);
    // the empty reply starts a new chain: no heartbeat for the next messages
    await alice.m.decrypt(bob.jid, await bob.m.emptyMessage([{ jid: alice.jid, deviceId: alice.id }]));
    const el = (await alice.m.encrypt('after', [bob.jid], w.fetch)).element;
    expect((await bob.m.decrypt(alice.jid, el)).sendEmptyReply).toBe(false);
  });

  it("messages keep the sender device's lastSeen to the hour, also across device list updates", async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    const lastSeen = async () => (await bob.store.getDevices(alice.jid)).find((d) => d.deviceId === alice.id)!.lastSeen;
    const send = async (text: string) => (await bob.m.decrypt(alice.jid, (await alice.m.encrypt(text, [bob.jid], w.fetch)).element)).trust;
    const t0 = w.clock;
    expect(await send('first')).toBe('trusted');
    expect(await lastSeen()).toBe(t0);
    w.clock = t0 + 30 * 60_000;
    await send('half an hour later');
    expect(await lastSeen()).toBe(t0); // within the hour: no write
    w.clock = t0 + 61 * 60_000;
    await send('an hour later');
    expect(await lastSeen()).toBe(t0 + 61 * 60_000);
    // A device list rewrites the devices (lastSeen = now); messages after it see that value.
    w.clock = t0 + 62 * 60_000;
    await bob.m.processDeviceList(alice.jid, [alice.id]);
    w.clock = t0 + 121.5 * 60_000; // 59.5 minutes after the list's write, 60.5 after the last message's
    await send('after the list');
    expect(await lastSeen()).toBe(t0 + 62 * 60_000);
    w.clock = t0 + 122.5 * 60_000;
    await send('one more');
    expect(await lastSeen()).toBe(t0 + 122.5 * 60_000);
    // Trust changes made meanwhile show on the next message.
    await bob.m.setTrust(alice.jid, await alice.m.ownFingerprint(), 'untrusted');
    expect(await send('after distrust')).toBe('untrusted');
  });

  it('catch-up defers prekey deletion and empty replies until finishCatchUp', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    const m1 = await alice.m.encrypt('archived 1', [bob.jid], w.fetch);
    const used = (await bob.store.listPreKeys()).map((p) => p.id);
    const r = await bob.m.decrypt(alice.jid, m1.element, { catchUp: true });
    expect(r.plaintext).toBe('archived 1');
    expect(r.bundleChanged).toBe(false);
    expect(r.sendEmptyReply).toBe(false);
    expect((await bob.store.listPreKeys()).map((p) => p.id)).toEqual(used);
    const fin = await bob.m.finishCatchUp();
    expect(fin.bundleChanged).toBe(true);
    expect(fin.emptyReplies).toEqual([{ jid: alice.jid, deviceId: alice.id }]);
    expect((await bob.store.listPreKeys()).length).toBe(100);
    expect((await bob.store.listPreKeys()).map((p) => p.id)).toContain(101);
    expect(await bob.m.finishCatchUp()).toEqual({ bundleChanged: false, emptyReplies: [] });
  });

  it('ensureIdentity is idempotent; signed prekey rotation follows the clock', async () => {
    const store = new MemoryOmemoStore();
    let now = 0;
    const m = new OmemoManager(store, { ownJid: 'me@example.org/res', now: () => now, signedPreKeyRotationMs: 1000 });
    const a = await m.ensureIdentity([]);
    expect(a.created).toBe(true);
    const b = await m.ensureIdentity([]);
    expect(b).toEqual({ created: false, deviceId: a.deviceId });
    expect((await m.ownBundle()).signedPreKeyId).toBe(1);
    now = 999;
    expect(await m.rotateSignedPreKeyIfDue()).toEqual({ bundleChanged: false });
    now = 1000;
    expect(await m.rotateSignedPreKeyIfDue()).toEqual({ bundleChanged: true });
    expect((await m.ownBundle()).signedPreKeyId).toBe(2);
  });
});

describe('OmemoManager: a known device id with a new identity key', () => {
  /** Replaces `victim` in the world by a device with the same id and a fresh identity key. */
  async function regenerate(w: World, victim: Dev): Promise<Dev> {
    const store = new MemoryOmemoStore();
    await new OmemoManager(store, { ownJid: victim.jid, now: () => w.clock }).ensureIdentity([]);
    const id = (await store.getOwnIdentity())!;
    await store.setOwnIdentity({ ...id, deviceId: victim.id });
    const dev: Dev = { jid: victim.jid, id: victim.id, store, m: new OmemoManager(store, { ownJid: victim.jid, now: () => w.clock }) };
    w.devs[w.devs.indexOf(victim)] = dev;
    await w.publishLists();
    return dev;
  }
  function withChanges(w: World, jid: string, mode: TrustMode = 'btbv') {
    const changes: IdentityChange[] = [];
    const store = new MemoryOmemoStore();
    const m = new OmemoManager(store, { ownJid: jid, trustMode: mode, now: () => w.clock, onIdentityChange: (c) => changes.push(c) });
    return { changes, store, m };
  }
  async function addWatched(w: World, jid: string, mode: TrustMode = 'btbv') {
    const { changes, store, m } = withChanges(w, jid, mode);
    const { deviceId } = await m.ensureIdentity([]);
    const dev: Dev = { jid, id: deviceId, store, m };
    w.devs.push(dev);
    await w.publishLists();
    return { dev, changes };
  }

  it('from a PreKey message: shown, but undecided, reported, and nothing is encrypted for it', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const { dev: bob, changes } = await addWatched(w, 'bob@example.org');
    const first = await alice.m.encrypt('hello', [bob.jid], w.fetch);
    expect((await bob.m.decrypt(alice.jid, first.element)).trust).toBe('trusted'); // btbv, nothing verified
    const oldFp = await alice.m.ownFingerprint();
    expect(changes).toEqual([]);

    const impostor = await regenerate(w, alice);
    const newFp = await impostor.m.ownFingerprint();
    expect(newFp).not.toBe(oldFp);
    const forged = await impostor.m.encrypt('it is me, really', [bob.jid], w.fetch);
    const got = await bob.m.decrypt(alice.jid, forged.element);
    expect(got.plaintext).toBe('it is me, really');
    expect(got.trust).toBe('undecided');
    expect(changes).toEqual([{ jid: alice.jid, deviceId: alice.id, oldFingerprint: oldFp, newFingerprint: newFp, state: 'undecided' }]);

    const reply = await bob.m.encrypt('secret', [alice.jid], w.fetch);
    expect(reply.element.keys.map((k) => k.rid)).toEqual([]);
    expect(reply.recipients).toMatchObject([{ deviceId: alice.id, status: 'untrusted', fingerprint: newFp }]);
    // The old key keeps its record; deciding for the new one makes it usable.
    expect((await bob.store.getTrust(alice.jid, oldFp))?.state).toBe('trusted');
    await bob.m.setTrust(alice.jid, newFp, 'trusted');
    const after = await bob.m.encrypt('now', [alice.jid], w.fetch);
    expect(after.element.keys.map((k) => k.rid)).toEqual([alice.id]);
  });

  it('from a bundle: undecided and reported even before any verification; a verified old key stays verified', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const { dev: bob, changes } = await addWatched(w, 'bob@example.org');
    expect(await bob.m.learnIdentities(alice.jid, [alice.id], w.fetch)).toEqual([]);
    const oldFp = await alice.m.ownFingerprint();
    await bob.m.setTrust(alice.jid, oldFp, 'verified');

    const impostor = await regenerate(w, alice);
    const res = await bob.m.encrypt('for alice', [alice.jid], w.fetch);
    expect(res.element.keys).toEqual([]);
    expect(res.recipients).toMatchObject([{ deviceId: alice.id, status: 'untrusted', reason: 'identity is undecided' }]);
    expect(changes).toMatchObject([{ deviceId: alice.id, oldFingerprint: oldFp, newFingerprint: await impostor.m.ownFingerprint(), state: 'undecided' }]);
    expect((await bob.store.getTrust(alice.jid, oldFp))?.state).toBe('verified');
  });

  it('blind trust mode trusts the new key, as the user chose, but still reports it', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const { dev: bob, changes } = await addWatched(w, 'bob@example.org', 'blind');
    await bob.m.learnIdentities(alice.jid, [alice.id], w.fetch);
    await regenerate(w, alice);
    const res = await bob.m.encrypt('x', [alice.jid], w.fetch);
    expect(res.element.keys.map((k) => k.rid)).toEqual([alice.id]);
    expect(changes).toMatchObject([{ deviceId: alice.id, state: 'trusted' }]);
  });
});

describe('OmemoManager: device lists are bounded', () => {
  it('takes at most MAX_DEVICES_PER_JID ids, own and known devices first, and says how many it ignored', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    expect(await alice.m.learnIdentities(bob.jid, [bob.id], w.fetch)).toEqual([]);
    const flood = Array.from({ length: 9000 }, (_, i) => i + 1);
    const res = await alice.m.processDeviceList(bob.jid, [...flood, bob.id]);
    expect(res.accepted).toHaveLength(MAX_DEVICES_PER_JID);
    expect(res.accepted[0]).toBe(bob.id); // known identity first, although listed last
    expect(res.ignored).toBe(9001 - MAX_DEVICES_PER_JID);
    expect(await alice.store.getDevices(bob.jid)).toHaveLength(MAX_DEVICES_PER_JID);
    // Our own list: this device survives any flood.
    const own = await alice.m.processDeviceList(alice.jid, [...flood, alice.id]);
    expect(own.accepted[0]).toBe(alice.id);
    expect(own.ownDeviceMissing).toBe(false);
    // At most 8 bundle fetches at once; only the capped devices are fetched.
    let running = 0;
    let peak = 0;
    let calls = 0;
    const slowFetch = async (jid: string, id: number) => {
      calls++;
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 1));
      running--;
      return w.fetch(jid, id);
    };
    await alice.m.learnIdentities(bob.jid, res.accepted, slowFetch);
    expect(calls).toBe(MAX_DEVICES_PER_JID - 1);
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThan(1);
  });

  it('forgets devices gone from the list: at once without an identity, after 90 days with one', async () => {
    const w = new World();
    const alice = await w.add('alice@example.org');
    const bob = await w.add('bob@example.org');
    await alice.m.learnIdentities(bob.jid, [bob.id], w.fetch);
    await alice.m.processDeviceList(bob.jid, [bob.id, 777, 778]);
    await alice.m.processDeviceList(bob.jid, []);
    expect((await alice.store.getDevices(bob.jid)).map((d) => d.deviceId)).toEqual([bob.id]);
    w.clock += DEVICE_FORGET_AFTER_MS + 1;
    await alice.m.processDeviceList(bob.jid, []);
    expect(await alice.store.getDevices(bob.jid)).toEqual([]);
    // Its trust record (by fingerprint) is history and stays.
    expect((await alice.store.listTrust(bob.jid)).map((r) => r.fingerprint)).toEqual([await bob.m.ownFingerprint()]);
  });
});
