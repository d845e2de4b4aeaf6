// Room windows as Profanity shows them (join/leave/nick/subject/role lines, only in the room's
// window; mentions highlighted and rung), /close leaving a room, /search's numbered list with the
// words marked and /search open N, and what the top of a window says after PageUp.
import { describe, expect, it } from 'vitest';
import type { CoreApi, MessageEvent, OlderPage, XchatEvent } from '../../src/core/api.js';
import { WindowManager } from '../../src/ui/windows.js';
import { mentions, occupantLine } from '../../src/ui/room-text.js';
import { visibleRows } from '../../src/ui/rows.js';
import { loadTextWidth } from '../../src/ui/text-width.js';
import { CommandEngine } from '../../src/commands/engine.js';
import { olderPageText } from '../../src/commands/history-commands.js';
import { describeOccupants } from '../../src/commands/muc-commands.js';
import { FakeCore } from '../commands/fake-core.js';

const ROOM = 'team@muc.example.org';
const roomMsg = (nick: string, body: string, extra: Partial<MessageEvent> = {}): XchatEvent => ({
  event: 'message', from: `${ROOM}/${nick}`, to: 'me@example.org', body, encryption: 'none', stamp: '2024-05-01T19:03:00.000Z', groupchat: true, nick, ...extra,
});
const bodies = (wm: WindowManager, jid: string) => wm.chatWindow(jid)?.lines.map((l) => l.body) ?? [];

describe('room windows', () => {
  it("Profanity's lines for joins, leaves, nick changes, subject and roles, in the room's window only", () => {
    const wm = new WindowManager({ now: () => 0 });
    wm.handle(roomMsg('bob', 'early bird')); // before we joined: the window exists already
    wm.handle({ event: 'room', room: ROOM, status: 'joined', nick: 'me', created: true });
    wm.handle({ event: 'occupant', room: ROOM, nick: 'bob', change: 'joined', jid: 'bob@example.org', role: 'participant' });
    wm.handle({ event: 'occupant', room: ROOM, nick: 'carol', change: 'joined', role: 'moderator', affiliation: 'owner' });
    wm.handle({ event: 'occupant', room: ROOM, nick: 'bob', change: 'nick', new_nick: 'robert' });
    wm.handle({ event: 'subject', room: ROOM, subject: 'plans', nick: 'carol' });
    wm.handle({ event: 'occupant', room: ROOM, nick: 'robert', change: 'changed', role: 'moderator', affiliation: 'admin' });
    wm.handle({ event: 'occupant', room: ROOM, nick: 'robert', change: 'left', jid: 'bob@example.org' });
    wm.handle({ event: 'chatstate', from: `${ROOM}/carol`, state: 'composing' });
    expect(bodies(wm, ROOM)).toEqual([
      'early bird',
      '-> You have joined the room as me (a new room: you are its owner)',
      '-> bob has joined the room',
      '-> carol has joined the room, moderator, owner',
      '** bob is now known as robert',
      '** carol has set the room subject: plans',
      '** robert is now role moderator, affiliation admin',
      '<- robert has left the room',
    ]);
    expect(wm.chatWindow(ROOM)!.lines.slice(1).map((l) => l.look)).toEqual(['join', 'join', 'join', 'room', 'room', 'room', 'leave']);
    // Nothing in bob's own window (there is none), nothing in the console, no typing in the title.
    expect(wm.chatWindow('bob@example.org')).toBeUndefined();
    expect(wm.get(1)!.lines).toEqual([]);
    expect(wm.chatWindow(ROOM)!.chatState).toBeUndefined();
    for (const l of wm.list().flatMap((w) => w.lines)) expect(l.body).not.toContain('{"event"');
  });

  it("the subject comes while we join: it opens the room's window; an empty one is not shown", () => {
    const wm = new WindowManager({ now: () => 0 });
    wm.handle({ event: 'subject', room: ROOM, subject: '' });
    expect(wm.list()).toHaveLength(1);
    expect(wm.get(1)!.lines).toEqual([]);
    wm.handle({ event: 'subject', room: ROOM, subject: 'plans' });
    wm.handle({ event: 'room', room: ROOM, status: 'joined', nick: 'me' });
    expect(bodies(wm, ROOM)).toEqual(['** Room subject: plans', '-> You have joined the room as me']);
    expect(wm.get(1)!.lines).toEqual([]);
  });

  it('a mention of our nick is highlighted and rings, in any window; other room messages do not ring', () => {
    const wm = new WindowManager({ now: () => 0 });
    const rung: string[] = [];
    wm.onNotify((_w, l) => rung.push(l.body));
    wm.handle({ event: 'room', room: ROOM, status: 'joined', nick: 'Alice' });
    wm.focus(wm.chatWindow(ROOM)!.num);
    wm.handle(roomMsg('bob', 'hello everyone'));
    wm.handle(roomMsg('bob', 'alice: look at this'));
    wm.handle(roomMsg('bob', 'malice aforethought'));
    wm.handle({ event: 'occupant', room: ROOM, nick: 'Alice', change: 'nick', new_nick: 'al' });
    wm.handle(roomMsg('bob', 'thanks @al!'));
    wm.focus(1);
    wm.handle(roomMsg('bob', 'more chatter'));
    expect(rung).toEqual(['alice: look at this', 'thanks @al!']);
    expect(wm.chatWindow(ROOM)!.lines.filter((l) => l.look === 'mention').map((l) => l.body)).toEqual(['alice: look at this', 'thanks @al!']);
    expect(mentions('bob, alice2 is here', 'alice')).toBe(false);
    expect(mentions('ALICE?', 'alice')).toBe(true);
  });

  it('/close in a room window leaves the room; in a chat window it only closes', async () => {
    const core = new FakeCore();
    const left: string[] = [];
    Object.assign(core, { muc: { isRoom: (j: string) => j === ROOM, leave: async (r?: string) => void left.push(r ?? '') } });
    const wm = new WindowManager({ core, now: () => 0 });
    wm.attach(core);
    const engine = new CommandEngine({ core: core as unknown as CoreApi, emit: (e) => wm.show(e), windows: wm });
    core.emit({ event: 'room', room: ROOM, status: 'joined', nick: 'me' });
    core.emit({ event: 'message', from: 'bob@example.org/p', to: 'me@example.org', body: 'hi', encryption: 'none', stamp: '2024-05-01T19:03:00.000Z' });
    wm.focus(ROOM);
    expect((await engine.execute('/close')).ok).toBe(true);
    expect(left).toEqual([ROOM]);
    expect(wm.chatWindow(ROOM)).toBeUndefined();
    wm.focus('bob@example.org');
    await engine.execute('/close');
    expect(left).toEqual([ROOM]);
  });
});

describe('/search', () => {
  const hit = (from: string, body: string, stamp: string, extra: Partial<MessageEvent> = {}): MessageEvent => ({ event: 'message', from, to: 'me@example.org', body, encryption: 'omemo', stamp, archived: true, ...extra });

  it('lists the hits numbered with window, time and sender, the words marked on screen', async () => {
    await loadTextWidth(); // word wrapping, as the App has it after its first frame
    const wm = new WindowManager({ now: () => 0 });
    wm.handle({
      event: 'search',
      text: 'Pizza tonight',
      hits: [
        hit('bob@example.org/p', 'pizza tonight?', new Date(2024, 4, 1, 19, 3).toISOString(), { id: 'b1' }),
        hit('me@example.org/x', 'yes, PIZZA! tonight', new Date(2024, 4, 1, 19, 4).toISOString(), { to: 'bob@example.org', carbon: 'sent' }),
        hit(`${ROOM}/carol`, 'pizza for all tonight', new Date(2024, 4, 2, 8, 0).toISOString(), { groupchat: true, nick: 'carol' }),
      ],
    });
    const lines = wm.get(1)!.lines;
    expect(lines.map((l) => l.body)).toEqual([
      '3 stored messages with "Pizza tonight" in all chats, oldest first (/search open N shows one in its window):',
      '1. bob@example.org 2024-05-01 19:03 bob@example.org: pizza tonight?',
      '2. bob@example.org 2024-05-01 19:04 me: yes, PIZZA! tonight',
      `3. ${ROOM} 2024-05-02 08:00 carol: pizza for all tonight`,
    ]);
    // Every occurrence of each word is a 'match' span, also after wrapping to a narrow screen.
    const rows = visibleRows(lines, 0, 20, 30);
    const matched = rows.flatMap((r) => r.spans.filter((s) => s.style === 'match').map((s) => r.text.slice(s.start, s.start + s.length)));
    expect(matched.map((m) => m.toLowerCase()).sort()).toEqual(['pizza', 'pizza', 'pizza', 'tonight', 'tonight', 'tonight']);
  });

  it('/search open N shows the hit in its window, in place among the stored messages around it, marked', async () => {
    const core = new FakeCore();
    const wm = new WindowManager({ core, now: () => 0 });
    wm.attach(core);
    const around: [string, string][] = [];
    Object.assign(core, {
      historyAround: async (jid: string, stamp: string) => {
        around.push([jid, stamp]);
        core.emit(hit('bob@example.org/p', 'before it', '2024-05-01T10:00:00.000Z'));
        core.emit(hit('bob@example.org/p', 'after it', '2024-05-01T12:00:00.000Z'));
      },
      historySearch: async (text: string) => core.emit({ event: 'search', text, hits: [hit('bob@example.org/p', 'the pizza hit', '2024-05-01T11:00:00.000Z', { id: 'h1' })] }),
    });
    const engine = new CommandEngine({ core: core as unknown as CoreApi, emit: (e) => wm.show(e), windows: wm });
    core.emit({ event: 'message', from: 'bob@example.org/p', to: 'me@example.org', body: 'live today', encryption: 'omemo', stamp: '2024-05-03T09:00:00.000Z' });
    await engine.execute('/search pizza');
    expect((await engine.execute('/search open 1')).ok).toBe(true);
    expect(around).toEqual([['bob@example.org', '2024-05-01T11:00:00.000Z']]);
    const w = wm.current();
    expect(w.jid).toBe('bob@example.org');
    expect(w.lines.map((l) => l.body)).toEqual(['before it', 'the pizza hit', 'after it', 'live today']);
    expect(w.lines[1].marks).toEqual(['pizza']);
    // The view ends a few lines below the hit: the hit is on screen.
    expect(visibleRows(w.lines, w.scroll, 3, 80).map((r) => r.text)).toContainEqual(expect.stringContaining('the pizza hit'));
    expect((await engine.execute('/search open 2')).ok).toBe(false);
  });
});

describe('the top of a window after PageUp', () => {
  const say = (p: OlderPage) => olderPageText('bob@example.org', p);
  it('tells local history and the archive apart, and never claims an empty archive it did not ask', () => {
    expect(say({ shown: 40, from: 'local', atStart: false })).toBeUndefined();
    expect(say({ shown: 0, from: 'local', atStart: false, archiveSkipped: 'offline: the server archive is asked once you are online' })).toBe(
      '-- no older messages with bob@example.org in local history; offline: the server archive is asked once you are online --',
    );
    expect(say({ shown: 3, from: 'archive', atStart: true })).toBe('-- start of the conversation with bob@example.org: nothing older in local history or in the server archive --');
    expect(say({ shown: 0, from: 'archive', atStart: false, unreadable: 2 })).toMatch(/^-- 2 older encrypted messages cannot be shown/);
  });

  it('PageUp at the top asks with the oldest message shown, says the truth once, and stops asking at the start', async () => {
    const asked: (string | undefined)[] = [];
    const pages: OlderPage[] = [{ shown: 0, from: 'archive', atStart: true }];
    const core = { openChat: () => undefined, currentChat: () => 'bob@example.org', fetchOlder: async (_j?: string, o?: { before?: string }) => (asked.push(o?.before), pages.shift()) };
    const wm = new WindowManager({ core, now: () => 0 });
    wm.handle({ event: 'message', from: 'bob@example.org/p', to: 'me@example.org', body: 'only line', encryption: 'none', stamp: '2024-05-01T10:00:00.000Z' });
    wm.focus('bob@example.org');
    wm.scrollBy(10, 11);
    await new Promise((r) => setImmediate(r));
    wm.scrollBy(10, 11);
    await new Promise((r) => setImmediate(r));
    expect(asked).toEqual(['2024-05-01T10:00:00.000Z']);
    expect(wm.current().lines[0].body).toBe('-- start of the conversation with bob@example.org: nothing older in local history or in the server archive --');
    expect(wm.current().lines.filter((l) => l.body.startsWith('-- '))).toHaveLength(1);
  });
});

describe('PageUp that brings back only lines already shown', () => {
  it('asks again at once, so one PageUp reaches older lines or the start', async () => {
    const pages: OlderPage[] = [{ shown: 2, from: 'local', atStart: false }, { shown: 0, from: 'archive', atStart: true }];
    const core = { openChat: () => undefined, currentChat: () => 'bob@example.org', fetchOlder: async () => pages.shift() };
    const wm = new WindowManager({ core, now: () => 0 });
    wm.handle({ event: 'message', from: 'bob@example.org/p', to: 'me@example.org', body: 'shown', encryption: 'none', stamp: '2024-05-01T10:00:00.000Z' });
    wm.focus('bob@example.org');
    wm.scrollBy(10, 11);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(pages).toEqual([]);
    expect(wm.current().lines[0].body).toMatch(/^-- start of the conversation/);
  });
});

describe('/occupants', () => {
  it('grouped by role as in Profanity, with real JIDs and affiliations', () => {
    expect(
      describeOccupants([
        { nick: 'alice', jid: 'alice@x', affiliation: 'owner', role: 'moderator', self: true },
        { nick: 'bob', jid: 'bob@x', affiliation: 'none', role: 'participant', self: false },
        { nick: 'eve', role: 'visitor', self: false },
      ]),
    ).toBe(['occupants (3):', '  Moderators:', '    alice (alice@x), owner (you)', '  Participants:', '    bob (bob@x)', '  Visitors:', '    eve'].join('\n'));
  });
});

describe('room line text', () => {
  it('roles and affiliations are named only when they say something', () => {
    expect(occupantLine({ event: 'occupant', room: ROOM, nick: 'x', change: 'joined', role: 'participant', affiliation: 'none' }).body).toBe('-> x has joined the room');
    expect(occupantLine({ event: 'occupant', room: ROOM, nick: 'x', change: 'joined', role: 'visitor' }).body).toBe('-> x has joined the room, visitor');
  });
});
