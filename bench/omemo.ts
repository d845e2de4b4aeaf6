// OMEMO workloads W1–W3 (docs/benchmarks.md, /work/shared/docs/performance.md) on the real
// src/omemo code, measured on whatever primitives backend is active (bench/run.ts switches it).
// Each function sets up its parties untimed and returns one measurement.
import { performance } from 'node:perf_hooks';
import { generateIdentity, ownBundle, pickPreKeyBundle, type Bundle } from '../src/omemo/device.js';
import { MAX_DEVICES_PER_JID, OmemoManager } from '../src/omemo/manager.js';
import { MemoryOmemoStore } from '../src/omemo/memory-store.js';
import { noblePrimitives, nodePrimitives, usePrimitives, currentPrimitives } from '../src/omemo/primitives.js';
import { decryptFromDevice, encryptForDevice, initSessionFromBundle } from '../src/omemo/session-cipher.js';
import type { DeviceAddress } from '../src/omemo/store.js';

const MSG32 = 'x'.repeat(32);
const KEY32 = new Uint8Array(32).fill(7); // what a session carries per message: key(16) ‖ tag(16)
const EMPTY16 = new Uint8Array(16).fill(3); // key-transport reply

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Device {
  addr: DeviceAddress;
  store: MemoryOmemoStore;
}

async function device(jid: string): Promise<Device> {
  const store = new MemoryOmemoStore();
  const id = await generateIdentity(store);
  return { addr: { jid, deviceId: id.deviceId }, store };
}

/** Alice builds a session from Bob's bundle; Bob answers once, so both chains exist (untimed). */
async function establish(alice: Device, bob: Device): Promise<void> {
  await initSessionFromBundle(alice.store, bob.addr, pickPreKeyBundle(await ownBundle(bob.store)));
  const first = await encryptForDevice(alice.store, bob.addr, KEY32);
  await decryptFromDevice(bob.store, alice.addr, first.data, first.prekey);
  const reply = await encryptForDevice(bob.store, alice.addr, EMPTY16);
  await decryptFromDevice(alice.store, bob.addr, reply.data, reply.prekey);
}

/**
 * W1 at the session-cipher level (the level python-oldmemo is driven at): Bob decrypts `messages`
 * WhisperMessages from Alice; after every 3rd Bob replies (untimed), so Alice's next message
 * carries a new ratchet key and costs Bob a DH ratchet step. Timed: decryptFromDevice only
 * (wire parsing, ratchet, session record load/store). Returns msgs/s.
 */
export async function w1Session(messages: number): Promise<number> {
  const alice = await device('alice@bench');
  const bob = await device('bob@bench');
  await establish(alice, bob);
  let timed = 0;
  for (let i = 0; i < messages; i++) {
    const m = await encryptForDevice(alice.store, bob.addr, KEY32);
    const t0 = performance.now();
    const r = await decryptFromDevice(bob.store, alice.addr, m.data, m.prekey);
    timed += performance.now() - t0;
    if (r.plaintext.length !== 32) throw new Error('W1: wrong plaintext');
    if (i % 3 === 2) {
      const reply = await encryptForDevice(bob.store, alice.addr, EMPTY16);
      await decryptFromDevice(alice.store, bob.addr, reply.data, reply.prekey);
    }
  }
  return messages / (timed / 1000);
}

interface Party {
  jid: string;
  id: number;
  store: MemoryOmemoStore;
  m: OmemoManager;
}

async function party(jid: string): Promise<Party> {
  const store = new MemoryOmemoStore();
  const m = new OmemoManager(store, { ownJid: jid, trustMode: 'blind' });
  const { deviceId } = await m.ensureIdentity([]);
  return { jid, id: deviceId, store, m };
}

const bundleOf = (parties: Party[]) => async (jid: string, id: number): Promise<Bundle> => {
  const p = parties.find((x) => x.jid === jid && x.id === id);
  if (!p) throw new Error(`bench: no bundle for ${jid}/${id}`);
  return ownBundle(p.store);
};

/** W1 through OmemoManager.decrypt (adds AES-GCM payload, trust and device bookkeeping). msgs/s. */
export async function w1Manager(messages: number): Promise<number> {
  const alice = await party('alice@bench');
  const bob = await party('bob@bench');
  await alice.m.processDeviceList(bob.jid, [bob.id]);
  await bob.m.processDeviceList(alice.jid, [alice.id]);
  const fetch = bundleOf([alice, bob]);
  const toAlice = [{ jid: alice.jid, deviceId: alice.id }];
  await bob.m.decrypt(alice.jid, (await alice.m.encrypt(MSG32, [bob.jid], fetch)).element);
  await alice.m.decrypt(bob.jid, await bob.m.emptyMessage(toAlice));
  let timed = 0;
  for (let i = 0; i < messages; i++) {
    const el = (await alice.m.encrypt(MSG32, [bob.jid], fetch)).element;
    const t0 = performance.now();
    const r = await bob.m.decrypt(alice.jid, el);
    timed += performance.now() - t0;
    if (r.plaintext !== MSG32) throw new Error('W1: wrong plaintext');
    if (i % 3 === 2) await alice.m.decrypt(bob.jid, await bob.m.emptyMessage(toAlice));
  }
  return messages / (timed / 1000);
}

let bundleCache: { jid: string; bundle: Bundle }[] | undefined;

/**
 * Published bundles of `n` peer devices (100 prekeys each, as clients publish). They are plain
 * data, so they are generated once (on node:crypto, for speed) and reused by every run/backend.
 */
async function peerBundles(n: number): Promise<{ jid: string; bundle: Bundle }[]> {
  if (!bundleCache || bundleCache.length < n) {
    const prev = currentPrimitives();
    usePrimitives(nodePrimitives);
    try {
      bundleCache = [];
      for (let i = 0; i < n; i++) {
        const d = await device(`peer${i}@bench`);
        bundleCache.push({ jid: d.addr.jid, bundle: await ownBundle(d.store) });
      }
    } finally {
      usePrimitives(prev);
    }
  }
  return bundleCache.slice(0, n);
}

/**
 * W2 at the session-cipher level: a fresh device builds `n` sessions from published bundles
 * (bundle validation incl. XEdDSA signature check, X3DH, ratchet init) and encrypts and
 * serializes a first 32-byte key for each (a PreKeyWhisperMessage). Returns ms.
 */
export async function w2Session(n: number): Promise<number> {
  const bundles = await peerBundles(n);
  const alice = await device('alice@bench');
  const t0 = performance.now();
  for (const { jid, bundle } of bundles) {
    const addr = { jid, deviceId: bundle.deviceId };
    await initSessionFromBundle(alice.store, addr, pickPreKeyBundle(bundle));
    const m = await encryptForDevice(alice.store, addr, KEY32);
    if (!m.prekey) throw new Error('W2: expected a PreKeyWhisperMessage');
  }
  return performance.now() - t0;
}

/**
 * W2 as the app does it: one OmemoManager.encrypt to `n` new devices. A JID's list is used up to
 * MAX_DEVICES_PER_JID devices (issue 7), so they are spread over as many contacts as needed. ms.
 */
export async function w2Manager(n: number): Promise<number> {
  const bundles = await peerBundles(n);
  const carol = await party('carol@bench');
  const byId = new Map(bundles.map((b) => [b.bundle.deviceId, b.bundle]));
  const ids = [...byId.keys()];
  const contacts: string[] = [];
  for (let i = 0; i < ids.length; i += MAX_DEVICES_PER_JID) {
    const jid = `dave${contacts.length}@bench`;
    contacts.push(jid);
    await carol.m.processDeviceList(jid, ids.slice(i, i + MAX_DEVICES_PER_JID));
  }
  const fetch = async (_jid: string, id: number): Promise<Bundle> => byId.get(id)!;
  const t0 = performance.now();
  const res = await carol.m.encrypt(MSG32, contacts, fetch);
  const ms = performance.now() - t0;
  if (res.element.keys.length !== n) throw new Error(`W2: ${res.element.keys.length}/${n} sessions built`);
  return ms;
}

/**
 * W3: one 32-byte message encrypted with OmemoManager.encrypt for 10 established sessions (one
 * contact with 10 devices that have all answered). Median µs per encrypt call over `iterations`.
 */
export async function w3Manager(devices: number, iterations: number): Promise<number> {
  const alice = await party('alice@bench');
  const bobs: Party[] = [];
  for (let i = 0; i < devices; i++) bobs.push(await party('bob@bench'));
  await alice.m.processDeviceList('bob@bench', bobs.map((b) => b.id));
  const fetch = bundleOf(bobs);
  const first = (await alice.m.encrypt(MSG32, ['bob@bench'], fetch)).element;
  for (const b of bobs) {
    await b.m.processDeviceList(alice.jid, [alice.id]);
    await b.m.decrypt(alice.jid, first);
    await alice.m.decrypt('bob@bench', await b.m.emptyMessage([{ jid: alice.jid, deviceId: alice.id }]));
  }
  const times: number[] = [];
  for (let i = 0; i < iterations + 20; i++) {
    const t0 = performance.now();
    const res = await alice.m.encrypt(MSG32, ['bob@bench'], fetch);
    const dt = performance.now() - t0;
    if (i >= 20) times.push(dt); // the first calls warm up the JIT
    if (res.element.keys.length !== devices || res.element.keys.some((k) => k.prekey)) {
      throw new Error('W3: sessions not established');
    }
  }
  return median(times) * 1000;
}

export const BACKENDS = { node: nodePrimitives, noble: noblePrimitives } as const;
export type BackendName = keyof typeof BACKENDS;
