// Local history append cost by size: two SQLite history stores (src/store/history.ts) in temp
// dirs, one pre-filled with `small` messages and one with `big`, appended to alternately message
// by message (so load drift from other processes hits both alike). Goal: big/small ≤ 1.2.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { HistoryStore, type HistoryRecord } from '../src/store/history.js';
import { median } from './omemo.js';

export interface HistoryBenchResult {
  /** Median ms per appended message (with de-duplication lookups and FTS indexing), by size. */
  appendMs: Record<number, number>;
  /** appendMs[big] / appendMs[small]. */
  ratio: number;
}

const ACCOUNT = 'alice@example.org';

function record(i: number, tag: string): HistoryRecord {
  const peer = `contact${i % 50}@example.org`;
  return {
    account: ACCOUNT,
    peer,
    direction: i % 2 ? 'in' : 'out',
    from: i % 2 ? `${peer}/phone` : `${ACCOUNT}/xchat`,
    to: i % 2 ? ACCOUNT : peer,
    body: `message ${tag} ${i} with a few words of ordinary chat text`,
    encryption: 'omemo',
    stamp: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    msgId: `${tag}-m-${i}`,
    serverId: `${tag}-s-${i}`,
  };
}

export async function historyAppend(small = 1_000, big = 100_000, messages = 500, baseDir = os.tmpdir()): Promise<HistoryBenchResult> {
  const dirs: string[] = [];
  const stores = new Map<number, HistoryStore>();
  try {
    for (const size of [small, big]) {
      const dir = await mkdtemp(path.join(baseDir, `xchat-bench-history-${size}-`));
      dirs.push(dir);
      const h = HistoryStore.open(dir);
      stores.set(size, h);
      // Pre-fill in one transaction (setup, not measured).
      h.transaction(() => {
        for (let i = 0; i < size; i++) h.add(record(i, 'fill'));
      });
    }
    const times = new Map<number, number[]>([[small, []], [big, []]]);
    for (let i = 0; i < messages; i++) {
      for (const size of [small, big]) {
        const h = stores.get(size)!;
        const t0 = performance.now();
        h.add(record(size + i, 'new'));
        times.get(size)!.push(performance.now() - t0);
      }
    }
    const appendMs = { [small]: median(times.get(small)!), [big]: median(times.get(big)!) };
    return { appendMs, ratio: appendMs[big] / appendMs[small] };
  } finally {
    for (const h of stores.values()) h.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}
