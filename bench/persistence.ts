// Session persistence per message through the real on-disk store (FileOmemoStore, one fsync'd
// file per session) in a temp dir: the cost of encrypt+store for one session and of a bare
// storeSession, first with 5 sessions stored, then with 500, in the same store.
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateIdentity, ownBundle, pickPreKeyBundle } from '../src/omemo/device.js';
import { MemoryOmemoStore } from '../src/omemo/memory-store.js';
import { decryptFromDevice, encryptForDevice, initSessionFromBundle } from '../src/omemo/session-cipher.js';
import type { DeviceAddress } from '../src/omemo/store.js';
import { FileOmemoStore } from '../src/store/omemo-file-store.js';
import { median } from './omemo.js';

export interface PersistenceResult {
  /** Median ms per message for encryptForDevice (load, ratchet, durable store) at each size. */
  encryptStoreMs: Record<number, number>;
  /** Median ms per bare storeSession of an existing session at each size. */
  storeMs: Record<number, number>;
  dir: string;
}

const KEY32 = new Uint8Array(32).fill(7);

async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** `sizes` ascending (e.g. [5, 500]); `messages` timed operations per size and kind. */
export async function persistence(sizes: number[], messages: number, baseDir = os.tmpdir()): Promise<PersistenceResult> {
  const dir = await fsp.mkdtemp(path.join(baseDir, 'xchat-bench-'));
  try {
    const store = await FileOmemoStore.open(dir);
    const own = await generateIdentity(store);
    const me: DeviceAddress = { jid: 'alice@bench', deviceId: own.deviceId };

    // One real, established session with a peer held in memory.
    const peerStore = new MemoryOmemoStore();
    const peer: DeviceAddress = { jid: 'bob@bench', deviceId: (await generateIdentity(peerStore)).deviceId };
    await initSessionFromBundle(store, peer, pickPreKeyBundle(await ownBundle(peerStore)));
    const first = await encryptForDevice(store, peer, KEY32);
    await decryptFromDevice(peerStore, me, first.data, first.prekey);
    const reply = await encryptForDevice(peerStore, me, new Uint8Array(16));
    await decryptFromDevice(store, peer, reply.data, reply.prekey);
    const record = (await store.loadSession(peer))!;

    let stored = 1;
    const encryptStoreMs: Record<number, number> = {};
    const storeMs: Record<number, number> = {};
    for (const size of sizes) {
      // Filler sessions: copies of a real record under other contacts' addresses.
      for (; stored < size; stored++) await store.storeSession({ jid: `contact${stored}@bench`, deviceId: stored }, record);
      const have = (await fsp.readdir(store.sessionsDir)).filter((f) => f.endsWith('.json')).length;
      if (have !== size) throw new Error(`persistence: expected ${size} session files, found ${have}`);
      encryptStoreMs[size] = await timeEach(messages, () => encryptForDevice(store, peer, KEY32));
      const current = (await store.loadSession(peer))!;
      storeMs[size] = await timeEach(messages, () => store.storeSession(peer, current));
    }
    return { encryptStoreMs, storeMs, dir };
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
