// OMEMO 2 through the manager: two of our devices talk, one identity gives one fingerprint and one
// trust decision across both versions, bad bundle signatures are refused, and the SCE envelope is
// checked against the stanza without changing any state when it does not fit.
import { describe, expect, it } from 'vitest';
import { legacyBackend } from '../../src/omemo/legacy-backend.js';
import { OmemoManager, type ManagerOptions } from '../../src/omemo/manager.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { NS_OMEMO2, omemo2Backend } from '../../src/omemo/omemo2-backend.js';
import { ed25519PublicToX25519 } from '../../src/omemo/primitives.js';
import { serializePublicKey } from '../../src/omemo/keys.js';
import { xeddsaSign } from '../../src/omemo/xeddsa.js';
import type { DeviceAddress, OmemoStore } from '../../src/omemo/store.js';

/**
 * One profile's store as both versions would share it: identity, prekeys, devices and trust in
 * common, each version's sessions in a slot of their own (what the wiring has to provide).
 */
function sessionSlot(shared: MemoryOmemoStore): OmemoStore {
  const sessions = new MemoryOmemoStore();
  return new Proxy(shared, {
    get(target, prop, receiver) {
      if (prop === 'loadSession' || prop === 'storeSession' || prop === 'removeSession' || prop === 'listSessionDevices') {
        const f = sessions[prop] as (...a: unknown[]) => unknown;
        return (...a: unknown[]) => f.apply(sessions, a);
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

async function manager(jid: string, opts: Partial<ManagerOptions> = {}, store: OmemoStore = new MemoryOmemoStore()) {
  const m = new OmemoManager(store, { ownJid: jid, trustMode: 'blind', backend: omemo2Backend, ...opts });
  const { deviceId } = await m.ensureIdentity([]);
  return { m, id: deviceId, store };
}

async function pair() {
  const alice = await manager('alice@x');
  const bob = await manager('bob@x');
  await alice.m.processDeviceList('bob@x', [bob.id]);
  await bob.m.processDeviceList('alice@x', [alice.id]);
  const bobBundle = await bob.m.ownBundle();
  return { alice, bob, fetchBob: async () => bobBundle };
}

describe('OMEMO 2 through the manager', () => {
  it('two devices talk: key exchange, session completion with an empty message, bodies both ways', async () => {
    expect(omemo2Backend.namespace).toBe(NS_OMEMO2);
    expect(NS_OMEMO2).toBe('urn:xmpp:omemo:2');
    const { alice, bob, fetchBob } = await pair();
    const res = await alice.m.encrypt('hello bob', ['bob@x', 'alice@x'], fetchBob, { to: 'bob@x' });
    expect(res.element.keys.map((k) => [k.jid, k.rid, k.prekey])).toEqual([['bob@x', bob.id, true]]);
    const got = await bob.m.decrypt('alice@x', res.element, { to: 'bob@x' });
    expect([got.plaintext, got.sendEmptyReply, got.bundleChanged]).toEqual(['hello bob', true, true]);
    expect(got.fingerprint).toBe(await alice.m.ownFingerprint());
    const empty = await bob.m.emptyMessage([{ jid: 'alice@x', deviceId: alice.id }]);
    expect(empty.payload).toBeUndefined();
    expect((await alice.m.decrypt('bob@x', empty)).plaintext).toBeNull();
    const next = await alice.m.encrypt('again', ['bob@x'], fetchBob);
    expect(next.element.keys[0].prekey).toBe(false);
    expect((await bob.m.decrypt('alice@x', next.element)).plaintext).toBe('again');
  });

  it('one identity: the Ed25519 <ik> maps to the legacy identity key, and a trust decision covers both versions', async () => {
    const alice = await manager('alice@x');
    const legacyBundle = await legacyBackend.ownBundle(alice.store);
    const omemo2Bundle = await alice.m.ownBundle();
    expect(omemo2Bundle.identityKey).not.toEqual(legacyBundle.identityKey);
    expect(ed25519PublicToX25519(omemo2Bundle.identityKey)).toEqual(legacyBundle.identityKey);
    // Both bundles publish the same signed prekey and prekeys, each signed the way its version wants.
    expect([omemo2Bundle.signedPreKeyId, omemo2Bundle.preKeys.length]).toEqual([legacyBundle.signedPreKeyId, legacyBundle.preKeys.length]);

    const shared = new MemoryOmemoStore();
    const bobLegacy = await manager('bob@x', { backend: legacyBackend, trustMode: 'manual' }, sessionSlot(shared));
    const bob2 = await manager('bob@x', { trustMode: 'manual' }, sessionSlot(shared));
    await bobLegacy.m.processDeviceList('alice@x', [alice.id]);
    expect(await bobLegacy.m.learnIdentities('alice@x', [alice.id], async () => legacyBundle)).toEqual([]);
    const [dev] = await bobLegacy.m.listDevices('alice@x');
    expect([dev.fingerprint, dev.trust]).toEqual([await alice.m.ownFingerprint(), 'undecided']);
    const refused = await bob2.m.encrypt('not yet', ['alice@x'], async () => omemo2Bundle);
    expect(refused.recipients.map((r) => [r.status, r.fingerprint])).toEqual([['untrusted', dev.fingerprint]]);
    await bobLegacy.m.setTrust('alice@x', dev.fingerprint!, 'verified');
    const sent = await bob2.m.encrypt('verified once', ['alice@x'], async () => omemo2Bundle);
    expect(sent.recipients.map((r) => r.status)).toEqual(['ok']);
    expect((await alice.m.decrypt('bob@x', sent.element)).plaintext).toBe('verified once');
  });

  it('a bundle whose <spks> does not verify is refused as bad-signature, legacy-style signatures included', async () => {
    const alice = await manager('alice@x');
    const bob = await manager('bob@x');
    await alice.m.processDeviceList('bob@x', [bob.id]);
    const good = await bob.m.ownBundle();
    const flipped = good.signedPreKeySignature.slice();
    flipped[5] ^= 1;
    const own = (await bob.store.getOwnIdentity())!;
    const legacyStyle = xeddsaSign(own.identityKey.priv, serializePublicKey(good.signedPreKey)); // over 0x05‖spk
    for (const signedPreKeySignature of [flipped, legacyStyle]) {
      const res = await alice.m.encrypt('hi', ['bob@x'], async () => ({ ...good, signedPreKeySignature }));
      expect(res.recipients.map((r) => r.status)).toEqual(['bundle-error']);
      expect(res.recipients[0].reason).toMatch(/^bad-signature/);
      expect(res.element.keys).toEqual([]);
    }
    expect(await omemo2Backend.hasSession(alice.store, { jid: 'bob@x', deviceId: bob.id })).toBe(false);
  });

  it('the envelope is checked against the stanza (sender, room), and a refusal changes nothing', async () => {
    const { alice, bob, fetchBob } = await pair();
    const room = 'room@muc.x';
    const inRoom = await alice.m.encrypt('to the room', ['bob@x'], fetchBob, { to: room, groupchat: true });
    const addr: DeviceAddress = { jid: 'alice@x', deviceId: alice.id };
    const before = { session: await bob.store.loadSession(addr), preKeys: (await bob.store.listPreKeys()).length };
    // Another sender, a private message, another room: each refused.
    await expect(bob.m.decrypt('mallory@x', inRoom.element, { to: room, groupchat: true })).rejects.toMatchObject({ code: 'envelope-mismatch' });
    await expect(bob.m.decrypt('alice@x', inRoom.element, { to: 'bob@x' })).rejects.toMatchObject({ code: 'envelope-mismatch' });
    await expect(bob.m.decrypt('alice@x', inRoom.element, { to: 'other@muc.x', groupchat: true })).rejects.toMatchObject({ code: 'envelope-mismatch' });
    expect({ session: await bob.store.loadSession(addr), preKeys: (await bob.store.listPreKeys()).length }).toEqual(before);
    expect(await bob.store.loadSession({ jid: 'mallory@x', deviceId: alice.id })).toBeUndefined();
    const ok = await bob.m.decrypt('alice@x', inRoom.element, { to: room, groupchat: true });
    expect([ok.plaintext, ok.bundleChanged]).toEqual(['to the room', true]);
    // A private message (no <to>) presented as a room message is refused too.
    const direct = await alice.m.encrypt('just you', ['bob@x'], fetchBob);
    await expect(bob.m.decrypt('alice@x', direct.element, { to: room, groupchat: true })).rejects.toMatchObject({ code: 'envelope-mismatch' });
    expect((await bob.m.decrypt('alice@x', direct.element)).plaintext).toBe('just you');
  });

  it('a key addressed to our device id under another JID is not ours', async () => {
    const { alice, bob, fetchBob } = await pair();
    const res = await alice.m.encrypt('hi', ['bob@x'], fetchBob);
    const elsewhere = { ...res.element, keys: res.element.keys.map((k) => ({ ...k, jid: 'someone-else@x' })) };
    await expect(bob.m.decrypt('alice@x', elsewhere)).rejects.toMatchObject({ code: 'no-key-for-us' });
    expect((await bob.m.decrypt('alice@x', res.element)).plaintext).toBe('hi');
  });
});
