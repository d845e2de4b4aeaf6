// The UI-agnostic window model: routing of core events, numbering, unread/activity, scrolling.
import { describe, expect, it } from 'vitest';
import type { XchatEvent } from '../../src/core/api.js';
import { WindowManager } from '../../src/ui/windows.js';

function fakeCore() {
  const calls: string[] = [];
  let current: string | undefined;
  return {
    calls,
    currentChat: () => current,
    openChat: (jid: string) => {
      calls.push(jid);
      current = jid;
    },
    setCurrent: (jid: string) => {
      current = jid;
    },
  };
}

const msg = (from: string, body: string, extra: Partial<Extract<XchatEvent, { event: 'message' }>> = {}): XchatEvent => ({
  event: 'message',
  from: `${from}/phone`,
  to: 'alice@localhost',
  body,
  encryption: 'omemo',
  trust: 'trusted',
  stamp: '2024-05-01T19:03:00.000Z',
  ...extra,
});

describe('WindowManager', () => {
  it('shows room messages under the sender nick in one room window, and our own once', () => {
    const wm = new WindowManager();
    const room = (nick: string, body: string, extra: Partial<Extract<XchatEvent, { event: 'message' }>> = {}): XchatEvent =>
      msg('chess@conference.localhost', body, { from: `chess@conference.localhost/${nick}`, groupchat: true, nick, ...extra });
    wm.handle(room('bob', 'e4'));
    wm.handle(room('carol', 'e5'));
    wm.handle({ event: 'sent', to: 'chess@conference.localhost', id: 'm1', body: 'Nf3', encryption: 'omemo', groupchat: true });
    wm.handle(room('alice', 'Nf3', { own: true, id: 'm1' })); // the room reflects our message
    wm.handle(room('alice', 'older own line', { own: true, id: 'm0', archived: true, stamp: '2024-05-01T18:00:00.000Z' }));
    const rooms = wm.list().filter((w) => w.kind === 'chat');
    expect(rooms.map((w) => [w.jid, w.room])).toEqual([['chess@conference.localhost', true]]);
    expect(rooms[0].lines.map((l) => [l.from, l.body, l.kind])).toEqual([
      ['me', 'older own line', 'sent'],
      ['bob', 'e4', 'message'],
      ['carol', 'e5', 'message'],
      ['me', 'Nf3', 'sent'],
    ]);
  });

  it('starts with the console as window 1 and routes status/info there', () => {
    const wm = new WindowManager();
    wm.handle({ event: 'status', status: 'online', jid: 'alice@localhost' });
    wm.handle({ event: 'info', message: 'hello console' });
    expect(wm.list().map((w) => [w.num, w.kind])).toEqual([[1, 'console']]);
    expect(wm.current().lines.map((l) => l.body)).toEqual(['online as alice@localhost', 'hello console'].map((s, i) => (i === 0 ? expect.stringContaining('online') : s)));
    expect(wm.status).toEqual({ state: 'online', jid: 'alice@localhost' });
  });

  it('an incoming message opens a window per bare JID and counts unread', () => {
    const wm = new WindowManager();
    wm.handle(msg('bob@localhost', 'one'));
    wm.handle(msg('Bob@localhost', 'two'));
    wm.handle(msg('carol@localhost', 'hi'));
    const [, bob, carol] = wm.list();
    expect([bob.num, bob.jid, bob.unread]).toEqual([2, 'bob@localhost', 2]);
    expect([carol.num, carol.jid, carol.unread]).toEqual([3, 'carol@localhost', 1]);
    expect(bob.lines.map((l) => [l.from, l.body, l.kind, l.encryption, l.trust])).toEqual([
      ['bob@localhost', 'one', 'message', 'omemo', 'trusted'],
      ['bob@localhost', 'two', 'message', 'omemo', 'trusted'],
    ]);
    // The trust label follows the contact (the core's contactTrust), not a message's device.
    expect(bob.trust).toBeUndefined();
    expect(bob.encryption).toBe('omemo');
  });

  it('sent messages and sent carbons go to the recipient window as "me"', () => {
    const wm = new WindowManager();
    wm.handle({ event: 'sent', to: 'bob@localhost', id: 'm1', body: 'hi bob', encryption: 'none' });
    wm.handle(msg('alice@localhost', 'from my phone', { to: 'bob@localhost', carbon: 'sent' }));
    const bob = wm.chatWindow('bob@localhost')!;
    expect(bob.lines.map((l) => [l.from, l.body, l.kind])).toEqual([
      ['me', 'hi bob', 'sent'],
      ['me', 'from my phone', 'sent'],
    ]);
    expect(bob.unread).toBe(0); // our own lines are activity, not unread messages
    expect(bob.activity).toBe(true);
  });

  it('a chat event (from /msg) opens and focuses the window and makes it the core chat', () => {
    const core = fakeCore();
    const wm = new WindowManager({ core });
    core.setCurrent('bob@localhost'); // core.openChat ran (/msg bob)
    wm.handle({ event: 'chat', jid: 'bob@localhost', encryption: 'omemo' });
    expect(wm.current().jid).toBe('bob@localhost');
    expect(wm.current().encryption).toBe('omemo');
    // A chat event for a chat the core does not have current (e.g. /omemo end JID) does not steal focus.
    wm.handle({ event: 'chat', jid: 'carol@localhost', encryption: 'none' });
    expect(wm.current().jid).toBe('bob@localhost');
  });

  it('switching to a chat window opens that chat in the core; the console does not', () => {
    const core = fakeCore();
    const wm = new WindowManager({ core });
    wm.handle(msg('bob@localhost', 'x'));
    wm.handle(msg('carol@localhost', 'y'));
    expect(wm.focus(3)?.jid).toBe('carol@localhost');
    expect(wm.focus('bob@localhost')?.num).toBe(2);
    expect(wm.focus(1)?.kind).toBe('console');
    expect(wm.focus(9)).toBeUndefined();
    expect(core.calls).toEqual(['carol@localhost', 'bob@localhost']);
  });

  it('focusing clears unread and activity; next-unread and cycling', () => {
    const wm = new WindowManager();
    wm.handle(msg('bob@localhost', 'x'));
    wm.handle(msg('carol@localhost', 'y'));
    wm.handle({ event: 'warning', message: 'w', jid: 'bob@localhost' });
    expect(wm.nextUnread()?.num).toBe(2);
    expect(wm.get(2)!.unread).toBe(0);
    expect(wm.get(2)!.activity).toBe(false);
    expect(wm.nextUnread()?.num).toBe(3);
    expect(wm.nextUnread()).toBeUndefined();
    expect(wm.cycle(1).num).toBe(1);
    expect(wm.cycle(-1).num).toBe(3);
  });

  it('errors/warnings/trust about a JID go to its window if open, else the console', async () => {
    const trust = new Map<string, 'untrusted' | 'trusted'>([['bob@localhost', 'trusted']]);
    const wm = new WindowManager({ core: { ...fakeCore(), contactTrust: async (jid: string) => trust.get(jid) } });
    wm.handle({ event: 'error', message: 'cannot decrypt', from: 'dave@localhost/x' });
    wm.handle(msg('bob@localhost', 'x'));
    wm.handle({ event: 'error', message: 'bad', from: 'bob@localhost/phone' });
    await Promise.resolve();
    expect(wm.get(2)!.trust).toBe('trusted');
    trust.set('bob@localhost', 'untrusted');
    wm.handle({ event: 'trust', jid: 'bob@localhost', fingerprint: 'ab'.repeat(32), state: 'untrusted' });
    expect(wm.get(1)!.lines.map((l) => l.kind)).toEqual(['error']);
    expect(wm.get(2)!.lines.map((l) => l.kind)).toEqual(['message', 'error', 'info']);
    await Promise.resolve();
    expect(wm.get(2)!.trust).toBe('untrusted');
  });

  it('unknown event kinds become info lines instead of being lost', () => {
    const wm = new WindowManager();
    wm.handle({ event: 'roster-push', jid: 'x@y', whatever: 1 } as unknown as XchatEvent);
    expect(wm.get(1)!.lines).toHaveLength(1);
    expect(wm.get(1)!.lines[0].kind).toBe('info');
    expect(wm.get(1)!.lines[0].body).toContain('roster-push');
  });

  it('close frees the number (the console cannot be closed), prune keeps unread windows', () => {
    const wm = new WindowManager();
    for (const j of ['b@x', 'c@x', 'd@x']) wm.handle(msg(j, 'hi'));
    wm.focus(2);
    expect(() => wm.close(1)).toThrow(/cannot be closed/);
    wm.close(3);
    wm.handle(msg('e@x', 'new'));
    expect(wm.chatWindow('e@x')!.num).toBe(3);
    wm.focus(3); // e read; d (4) still unread
    wm.focus(2);
    expect(wm.prune()).toEqual([3]);
    expect(wm.list().map((w) => w.num)).toEqual([1, 2, 4]);
    wm.close();
    expect(wm.current().num).toBe(1);
  });

  it('multi-line text is stored as one line per text line', () => {
    const wm = new WindowManager();
    wm.show({ event: 'info', message: 'a\nb\nc' });
    expect(wm.current().lines.map((l) => [l.body, !!l.cont])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
    ]);
  });

  it('a scrolled-up window stays on the same lines when new ones arrive; PageDown returns', () => {
    const wm = new WindowManager();
    for (let i = 0; i < 50; i++) wm.show({ event: 'info', message: `line ${i}` });
    wm.scrollBy(10);
    const bottom = () => wm.current().lines[wm.current().lines.length - 1 - wm.current().scroll].body;
    expect(bottom()).toBe('line 39');
    wm.handle({ event: 'info', message: 'new' });
    expect(bottom()).toBe('line 39');
    wm.scrollBy(-1000);
    expect(wm.current().scroll).toBe(0);
    expect(bottom()).toBe('new');
  });

  it('holds 100 000 lines per window and drops the oldest beyond the cap', () => {
    const wm = new WindowManager({ maxLines: 100_000 });
    const w = wm.current();
    for (let i = 0; i < 100_000; i++) wm.addLine(w, { time: 0, body: `l${i}`, kind: 'info' });
    expect(w.lines).toHaveLength(100_000);
    wm.addLine(w, { time: 0, body: 'one more', kind: 'info' });
    expect(w.lines.length).toBeLessThanOrEqual(100_000);
    expect(w.lines[w.lines.length - 1].body).toBe('one more');
  });

  it('corrections and retractions rewrite the line with that id', () => {
    const wm = new WindowManager();
    wm.handle(msg('bob@localhost', 'helo', { id: 'm1' }));
    wm.handle({ event: 'correction', from: 'bob@localhost/phone', to: 'alice@localhost', id: 'm1', body: 'hello', encryption: 'omemo', stamp: '' } as XchatEvent);
    expect(wm.get(2)!.lines.map((l) => l.body)).toEqual(['hello [corrected]']);
    wm.handle({ event: 'retraction', from: 'bob@localhost/phone', to: 'alice@localhost', id: 'm1' } as XchatEvent);
    expect(wm.get(2)!.lines.map((l) => l.body)).toEqual(['[retracted]']);
  });

  it('notifies for messages in other windows only, and not when /notify is off', () => {
    const wm = new WindowManager();
    const seen: string[] = [];
    wm.onNotify((w, l) => seen.push(`${w.num}:${l.body}`));
    wm.handle(msg('bob@localhost', 'ping'));
    wm.focus(2);
    wm.handle(msg('bob@localhost', 'in current window'));
    wm.notify(false);
    wm.handle(msg('carol@localhost', 'muted'));
    expect(seen).toEqual(['2:ping']);
  });
});

describe('WindowManager: history replays and presence', () => {
  const at = (iso: string, body: string, id: string, archived = true): XchatEvent => ({
    event: 'message',
    from: 'bob@localhost/phone',
    to: 'alice@localhost',
    body,
    encryption: 'omemo',
    trust: 'trusted',
    stamp: iso,
    id,
    ...(archived ? { archived: true } : {}),
  });

  it('archived messages go in time order, are not unread, and are not shown twice', () => {
    const wm = new WindowManager();
    const seen: string[] = [];
    wm.onNotify((_w, l) => seen.push(l.body));
    wm.handle(at('2024-05-01T10:00:00Z', 'live 10:00', 'a', false));
    wm.handle(at('2024-05-01T11:00:00Z', 'live 11:00', 'b', false));
    wm.handle(at('2024-05-01T09:00:00Z', 'old 09:00\nsecond line', 'c'));
    wm.handle(at('2024-05-01T10:30:00Z', 'old 10:30', 'd'));
    wm.handle(at('2024-05-01T10:00:00Z', 'live 10:00', 'a')); // replay of a live one
    const w = wm.chatWindow('bob@localhost')!;
    expect(w.lines.map((l) => l.body)).toEqual(['old 09:00', 'second line', 'live 10:00', 'old 10:30', 'live 11:00']);
    expect(w.unread).toBe(2);
    expect(seen).toEqual(['live 10:00', 'live 11:00']);
  });

  it('PageUp at the top of a chat window asks the core for older messages', () => {
    const asked: string[] = [];
    const core = {
      currentChat: () => 'bob@localhost',
      openChat: () => undefined,
      fetchOlder: async (jid?: string) => {
        asked.push(jid ?? '');
      },
    };
    const wm = new WindowManager({ core });
    for (let i = 0; i < 5; i++) wm.handle(msg('bob@localhost', `m${i}`));
    wm.focus(2);
    wm.scrollBy(3);
    expect(asked).toEqual([]);
    wm.scrollBy(3); // reaches the top
    wm.scrollBy(3); // already there: fetch
    expect(asked).toEqual(['bob@localhost']);
  });

  it('presence shows in an open chat window and its title; other presences are not shown', () => {
    const wm = new WindowManager();
    wm.handle({ event: 'presence', jid: 'carol@localhost', show: 'online' } as XchatEvent);
    expect(wm.get(1)!.lines).toEqual([]);
    wm.handle(msg('bob@localhost', 'hi'));
    wm.handle({ event: 'presence', jid: 'bob@localhost', show: 'away', status: 'lunch' } as XchatEvent);
    expect(wm.get(2)!.presence).toBe('away: lunch');
    expect(wm.get(2)!.lines).toHaveLength(2);
  });
});
