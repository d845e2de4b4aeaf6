// Session persistence per message through the real on-disk store (FileOmemoStore: one small
// file per session, written atomically: temp + fsync + rename + fsync of the directory) in temp
// dirs. Two stores, one holding `small` sessions and one `big`, are measured alternately message
// by message, so load drift from other processes hits both sizes alike.
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
  /** Median ms per message for encryptForDevice (load, ratchet step, durable store), by size. */
  encryptStoreMs: Record<number, number>;
  /** Median ms per bare storeSession of an existing session, by size. */
  storeMs: Record<number, number>;
  /** Disk floor: median ms of rewriting one existing ~2 KB file in place + one fsync. */
  fsyncFloorMs: number;
}

const KEY32 = new Uint8Array(32).fill(7);

interface Fixture {
  store: FileOmemoStore;
  peer: DeviceAddress;
  dir: string;
}

/** A FileOmemoStore in a fresh temp dir with one real established session and `size` in all. */
async function fixture(baseDir: string, size: number): Promise<Fixture> {
  const dir = await fsp.mkdtemp(path.join(baseDir, 'xchat-bench-'));
  const store = await FileOmemoStore.open(dir);
  const me: DeviceAddress = { jid: 'alice@bench', deviceId: (await generateIdentity(store)).deviceId };
  const peerStore = new MemoryOmemoStore();
  const peer: DeviceAddress = { jid: 'bob@bench', deviceId: (await generateIdentity(peerStore)).deviceId };
  await initSessionFromBundle(store, peer, pickPreKeyBundle(await ownBundle(peerStore)));
  const first = await encryptForDevice(store, peer, KEY32);
  await decryptFromDevice(peerStore, me, first.data, first.prekey);
  const reply = await encryptForDevice(peerStore, me, new Uint8Array(16));
  await decryptFromDevice(store, peer, reply.data, reply.prekey);
  // Filler: copies of the real record under other contacts' addresses (same size on disk).
  const record = (await store.loadSession(peer))!;
  for (let i = 1; i < size; i++) await store.storeSession({ jid: `contact${i}@bench`, deviceId: i }, record);
  const files = (await fsp.readdir(store.sessionsDir)).filter((f) => /\.(json|log)$/.test(f)).length;
  if (files !== size) throw new Error(`persistence: expected ${size} session files, found ${files}`);
  return { store, peer, dir };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function persistence(small: number, big: number, messages: number, baseDir = os.tmpdir()): Promise<PersistenceResult> {
  const fixtures: Fixture[] = [];
  try {
    fixtures.push(await fixture(baseDir, small), await fixture(baseDir, big));
    const enc: number[][] = [[], []];
    const bare: number[][] = [[], []];
    for (let i = 0; i < messages; i++) {
      for (let f = 0; f < 2; f++) {
        const slot = (f + i) % 2 === 0 ? 0 : 1; // alternate which size goes first
        const { store, peer } = fixtures[slot];
        enc[slot].push(await time(() => encryptForDevice(store, peer, KEY32)));
      }
    }
    const records = await Promise.all(fixtures.map((x) => x.store.loadSession(x.peer)));
    for (let i = 0; i < messages; i++) {
      for (let f = 0; f < 2; f++) {
        const slot = (f + i) % 2 === 0 ? 0 : 1;
        const { store, peer } = fixtures[slot];
        bare[slot].push(await time(() => store.storeSession(peer, records[slot]!)));
      }
    }
    // The floor any durable per-message write pays on this disk: one fsync, no rename.
    const probe = path.join(fixtures[0].dir, 'fsync-probe');
    const fh = await fsp.open(probe, 'w');
    const floor: number[] = [];
    try {
      const data = Buffer.alloc(2048, 0x41);
      for (let i = 0; i < messages; i++) floor.push(await time(async () => {
        await fh.write(data, 0, data.length, 0);
        await fh.sync();
      }));
    } finally {
      await fh.close();
    }
    return {
      encryptStoreMs: { [small]: median(enc[0]), [big]: median(enc[1]) },
      storeMs: { [small]: median(bare[0]), [big]: median(bare[1]) },
      fsyncFloorMs: median(floor),
    };
  } finally {
    for (const f of fixtures) await fsp.rm(f.dir, { recursive: true, force: true });
  }
}
