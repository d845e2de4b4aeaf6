// /history N reads the store page by page (the TUI's memory peak with 100 000 lines): the pages
// together are exactly recent(N), oldest first, also across equal stamps and page edges.
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore, type HistoryRecord } from '../../src/store/history.js';

const A = 'alice@example.org';
const B = 'bob@example.org';

function rec(i: number, stamp: string): HistoryRecord {
  return { account: A, peer: B, direction: i % 2 ? 'in' : 'out', from: i % 2 ? `${B}/phone` : `${A}/x`, to: i % 2 ? A : B, body: `m${i}`, encryption: 'omemo', stamp, msgId: `id${i}` };
}

describe('HistoryStore.recentPages', () => {
  let h: HistoryStore | undefined;
  afterEach(() => {
    h?.close();
    h = undefined;
  });

  it('yields recent(n) in pages, oldest first, with repeated stamps and out-of-order inserts', () => {
    h = HistoryStore.open(':memory:');
    // 25 messages, stamps repeat in threes and arrive out of order (as archive pages do).
    const order = Array.from({ length: 25 }, (_, i) => i).sort((a, b) => ((a * 7) % 25) - ((b * 7) % 25));
    for (const i of order) h.add(rec(i, new Date(Date.UTC(2024, 0, 1, 0, 0, Math.floor(i / 3))).toISOString()));
    h.add({ ...rec(99, '2024-01-01T00:00:00Z'), peer: 'carol@example.org', from: 'carol@example.org/x' });
    for (const n of [1, 7, 10, 24, 25, 40]) {
      for (const page of [1, 3, 10, 1000]) {
        const pages = [...h.recentPages(A, B, n, page)];
        expect(pages.every((p) => p.length <= page && p.length > 0)).toBe(true);
        expect(pages.flat().map((r) => r.body)).toEqual(h.recent(A, B, n).map((r) => r.body));
      }
    }
    expect([...h.recentPages(A, B, 0)]).toEqual([]);
    expect([...h.recentPages(A, 'nobody@example.org', 5)]).toEqual([]);
  });
});
