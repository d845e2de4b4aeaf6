// What a keystroke costs: typing re-renders the input line only, never the window body (with
// 100 000 lines that body is where the time went); new lines or scrolling still redraw it.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { WindowLine } from '../../src/ui/windows.js';
import { loadTextWidth } from '../../src/ui/text-width.js';
import { loadNickColours } from '../../src/ui/view-model.js';
import { setup, tick } from './helpers.js';

afterEach(() => cleanup());
// The App redraws the body once these arrive after its first frame: not during the typing below.
beforeAll(() => Promise.all([loadTextWidth(), loadNickColours()]));

/** Replaces the current window's lines with a proxy that counts element reads. */
function countReads(t: ReturnType<typeof setup>): { reads: () => number } {
  const w = t.windows.current();
  let reads = 0;
  w.lines = new Proxy(w.lines, {
    get(target, key, recv) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, recv) as unknown;
    },
  }) as WindowLine[];
  return { reads: () => reads };
}

describe('keystroke cost', () => {
  it('typing echoes without reading a single window line; a new line redraws the body', async () => {
    const t = setup({ rows: 12, columns: 60 });
    for (let i = 0; i < 1000; i++) t.windows.show({ event: 'info', message: `line ${i}` });
    await tick();
    const c = countReads(t);
    for (const k of 'hello') {
      t.stdin.write(k);
      await tick(5);
    }
    await tick();
    expect(t.lines().at(-1)).toMatch(/^> hello/);
    expect(c.reads()).toBe(0);
    // The body still follows the window: the memo is keyed on its changes.
    t.windows.show({ event: 'info', message: 'fresh' });
    await tick();
    expect(c.reads()).toBeGreaterThan(0);
    expect(t.lines().slice(1, 10).at(-1)).toMatch(/fresh$/);
    expect(t.lines().at(-1)).toMatch(/^> hello/);
  });
});
