// OMEMO workloads from /work/shared/docs/performance.md, on the active primitives (node:crypto by
// default; `--noble` for pure noble). Optionally runs bench/python_omemo.py in the same run so the
// ratio to python-omemo is measured on the same machine state (`--python`).
//   node --import tsx bench/omemo.ts [--noble] [--python] [--w1 N]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ownBundle, pickPreKeyBundle, type Bundle } from '../src/omemo/device.js';
import { OmemoManager, type EncryptedElement } from '../src/omemo/manager.js';
import { MemoryOmemoStore } from '../src/omemo/memory-store.js';
import { currentPrimitives, noblePrimitives, usePrimitives } from '../src/omemo/primitives.js';
import { decryptFromDevice, encryptForDevice, initSessionFromBundle } from '../src/omemo/session-cipher.js';

const args = process.argv.slice(2);
if (args.includes('--noble')) usePrimitives(noblePrimitives);
const W1_MESSAGES = Number(args[args.indexOf('--w1') + 1]) > 0 && args.includes('--w1') ? Number(args[args.indexOf('--w1') + 1]) : 10_000;
const MSG32 = 'x'.repeat(32);

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

async function introduce(a: Party, b: Party): Promise<void> {
  await a.m.processDeviceList(b.jid, [b.id]);
  await b.m.processDeviceList(a.jid, [a.id]);
}

const fetchFrom = (parties: Party[]) => async (jid: string, id: number): Promise<Bundle> => {
  const p = parties.find((x) => x.jid === jid && x.id === id);
  if (!p) throw new Error('no bundle');
  return ownBundle(p.store);
};

/** W1: Bob decrypts 10 000 messages from Alice; Bob replies after every 3, so every 3rd message ratchets. */
async function w1(): Promise<{ sessionMsgsPerS: number; managerMsgsPerS: number }> {
  const run = async (viaManager: boolean): Promise<number> => {
    const alice = await party('alice@bench');
    const bob = await party('bob@bench');
    await introduce(alice, bob);
    const fetch = fetchFrom([alice, bob]);
    const toBob = { jid: alice.jid, deviceId: alice.id };
    // establish and complete the session (untimed)
    await bob.m.decrypt(alice.jid, (await alice.m.encrypt(MSG32, [bob.jid], fetch)).element);
    await alice.m.decrypt(bob.jid, await bob.m.emptyMessage([toBob]));
    let timed = 0;
    for (let i = 0; i < W1_MESSAGES; i++) {
      const el: EncryptedElement = (await alice.m.encrypt(MSG32, [bob.jid], fetch)).element;
      const key = el.keys[0];
      const t0 = performance.now();
      if (viaManager) await bob.m.decrypt(alice.jid, el);
      else await decryptFromDevice(bob.store, toBob, key.data, key.prekey);
      timed += performance.now() - t0;
      if (i % 3 === 2) await alice.m.decrypt(bob.jid, await bob.m.emptyMessage([toBob]));
    }
    return W1_MESSAGES / (timed / 1000);
  };
  return { sessionMsgsPerS: await run(false), managerMsgsPerS: await run(true) };
}

/** W2: one device builds 100 sessions from bundles and encrypts a first 32-byte message for each. */
async function w2(): Promise<{ sessionMs: number; managerMs: number }> {
  const bobs: Party[] = [];
  for (let i = 0; i < 100; i++) bobs.push(await party(`bob${i}@bench`));
  const bundles = await Promise.all(bobs.map((b) => ownBundle(b.store)));
  const key = new Uint8Array(32).fill(1);

  const alice = await party('alice@bench');
  let t0 = performance.now();
  for (let i = 0; i < bobs.length; i++) {
    const addr = { jid: bobs[i].jid, deviceId: bobs[i].id };
    await initSessionFromBundle(alice.store, addr, pickPreKeyBundle(bundles[i]));
    await encryptForDevice(alice.store, addr, key);
  }
  const sessionMs = performance.now() - t0;

  // The same through the manager: one contact with 100 devices, one encrypt call.
  const carol = await party('carol@bench');
  const devices = bobs.map((b, i) => ({ jid: 'dave@bench', id: b.id, bundle: bundles[i] }));
  await carol.m.processDeviceList('dave@bench', devices.map((d) => d.id));
  const fetch = async (_jid: string, id: number) => devices.find((d) => d.id === id)!.bundle;
  t0 = performance.now();
  const res = await carol.m.encrypt(MSG32, ['dave@bench'], fetch);
  const managerMs = performance.now() - t0;
  if (res.element.keys.length !== 100) throw new Error('W2: not all sessions built');
  return { sessionMs, managerMs };
}

/** W3: one 32-byte payload for 10 established sessions (median µs per encrypt call). */
async function w3(): Promise<number> {
  const alice = await party('alice@bench');
  const bobs: Party[] = [];
  for (let i = 0; i < 10; i++) bobs.push(await party('bob@bench'));
  await alice.m.processDeviceList('bob@bench', bobs.map((b) => b.id));
  const fetch = fetchFrom(bobs);
  await alice.m.encrypt(MSG32, ['bob@bench'], fetch); // builds the sessions
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    await alice.m.encrypt(MSG32, ['bob@bench'], fetch);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] * 1000;
}

function python(): { w1: number; w2: number } | undefined {
  const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'python_omemo.py');
  const r = spawnSync('/usr/bin/python3', [script, String(W1_MESSAGES)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    console.error(`python bench failed: ${r.stderr}`);
    return undefined;
  }
  return JSON.parse(r.stdout);
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const prim = currentPrimitives().name;
  const r1 = await w1();
  const r2 = await w2();
  const r3 = await w3();
  console.log(`| implementation | W1 msgs/s | W2 ms | W3 µs |`);
  console.log(`|---|---|---|---|`);
  console.log(`| xchat session-cipher (${prim}) | ${fmt(r1.sessionMsgsPerS)} | ${fmt(r2.sessionMs, 1)} | |`);
  console.log(`| xchat OmemoManager (${prim}) | ${fmt(r1.managerMsgsPerS)} | ${fmt(r2.managerMs, 1)} | ${fmt(r3)} |`);
  if (args.includes('--python')) {
    const py = python();
    if (py) {
      console.log(`| python-omemo/oldmemo (same run) | ${fmt(py.w1)} | ${fmt(py.w2, 1)} | |`);
      console.log(`\nratio W1 manager/python: ${fmt(r1.managerMsgsPerS / py.w1, 2)}x; W2 python/manager: ${fmt(py.w2 / r2.managerMs, 2)}x`);
    }
  }
}

await main();
