// /win, /wins, /close, /clear, /notify through the CommandEngine, with and without windows.
import { describe, expect, it } from 'vitest';
import type { CoreApi, XchatEvent } from '../../src/core/api.js';
import { CommandEngine } from '../../src/commands/engine.js';
import { WindowManager } from '../../src/ui/windows.js';
import { FakeCore } from '../commands/fake-core.js';

function setup(withWindows = true) {
  const core = new FakeCore();
  const windows = new WindowManager({ core });
  windows.attach(core);
  const out: XchatEvent[] = [];
  const engine = new CommandEngine({ core: core as unknown as CoreApi, emit: (e) => out.push(e), ...(withWindows ? { windows } : {}) });
  const msg = (from: string): XchatEvent => ({ event: 'message', from, to: 'me@x', body: 'hi', encryption: 'none', stamp: '' });
  return { core, windows, engine, out, msg, text: () => out.map((e) => ('message' in e ? e.message : '')).join('\n') };
}

describe('window commands', () => {
  it('/win N and /win JID switch; bad targets are usage errors', async () => {
    const t = setup();
    t.core.emit(t.msg('bob@x/r'));
    t.core.emit(t.msg('carol@x/r'));
    expect((await t.engine.execute('/win 3')).ok).toBe(true);
    expect(t.windows.current().jid).toBe('carol@x');
    expect(t.core.calls).toContainEqual(['openChat', 'carol@x']);
    await t.engine.execute('/win bob@x');
    expect(t.windows.current().num).toBe(2);
    expect(await t.engine.execute('/win 9')).toEqual({ ok: false, usage: true });
    expect(await t.engine.execute('/win dave@x')).toEqual({ ok: false, usage: true });
    expect(t.text()).toContain('no window 9');
    expect(t.text()).toContain('no window for dave@x');
  });

  it('/wins lists, /wins unread filters, /wins prune closes read chat windows', async () => {
    const t = setup();
    t.core.emit(t.msg('bob@x/r'));
    t.core.emit(t.msg('carol@x/r'));
    await t.engine.execute('/win 2');
    t.out.length = 0;
    await t.engine.execute('/wins');
    expect(t.text()).toBe('windows:\n  1: console\n  2: bob@x (current, unencrypted)\n  3: carol@x (1 unread, unencrypted)');
    t.out.length = 0;
    await t.engine.execute('/wins unread');
    expect(t.text()).toBe('windows:\n  3: carol@x (1 unread, unencrypted)');
    await t.engine.execute('/win 1');
    t.out.length = 0;
    await t.engine.execute('/wins prune');
    expect(t.text()).toBe('closed window 2');
    expect(t.windows.list().map((w) => w.num)).toEqual([1, 3]);
    expect(await t.engine.execute('/wins later')).toEqual({ ok: false, usage: true });
  });

  it('/close [N] and /clear', async () => {
    const t = setup();
    t.core.emit(t.msg('bob@x/r'));
    t.core.emit(t.msg('carol@x/r'));
    await t.engine.execute('/close 3');
    expect(t.windows.list().map((w) => w.num)).toEqual([1, 2]);
    expect(await t.engine.execute('/close 1')).toEqual({ ok: false, usage: true });
    expect(t.text()).toContain('cannot be closed');
    expect(await t.engine.execute('/close x')).toEqual({ ok: false, usage: true });
    await t.engine.execute('/win 2');
    await t.engine.execute('/clear');
    expect(t.windows.current().lines).toEqual([]);
    await t.engine.execute('/close');
    expect(t.windows.current().num).toBe(1);
  });

  it('/notify on|off', async () => {
    const t = setup();
    await t.engine.execute('/notify off');
    expect(t.windows.notify()).toBe(false);
    await t.engine.execute('/notify');
    expect(t.text()).toContain('notifications off');
    expect(await t.engine.execute('/notify loud')).toEqual({ ok: false, usage: true });
  });

  it('without windows (xchat run) they fail with a clear error', async () => {
    const t = setup(false);
    for (const line of ['/win 2', '/wins', '/close', '/clear', '/notify on']) {
      expect(await t.engine.execute(line)).toEqual({ ok: false });
    }
    expect(t.out.every((e) => e.event === 'error' && e.message.includes('only in the full-screen UI'))).toBe(true);
  });

  it('completion: window numbers and JIDs, /wins options, /close chat windows only', () => {
    const t = setup();
    t.core.emit(t.msg('bob@x/r'));
    expect(t.engine.complete('/win ')).toEqual(['1', '2', 'bob@x']);
    expect(t.engine.complete('/win b')).toEqual(['bob@x']);
    expect(t.engine.complete('/wins ')).toEqual(['unread', 'prune']);
    expect(t.engine.complete('/close ')).toEqual(['2']);
    expect(t.engine.complete('/notify o')).toEqual(['on', 'off']);
    expect(t.engine.complete('/cl').sort()).toEqual(['/clear', '/close']);
  });
});
