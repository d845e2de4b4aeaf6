// Every event kind has readable text, in `xchat run` and in the TUI: none is ever shown as raw JSON.
// The table below is typed by kind, so a new kind does not compile until it has an example here.
import { describe, expect, it } from 'vitest';
import type { XchatEvent } from '../../src/core/api.js';
import { formatEvent } from '../../src/ui/event-text.js';
import { WindowManager } from '../../src/ui/windows.js';

const stamp = new Date(2026, 0, 1, 12, 0, 0).toISOString();
const EXAMPLES: { [K in XchatEvent['event']]: Extract<XchatEvent, { event: K }>[] } = {
  message: [{ event: 'message', from: 'bob@x/r', to: 'me@x', body: 'hi', encryption: 'omemo', trust: 'trusted', stamp }],
  sent: [{ event: 'sent', to: 'bob@x', id: 'i1', body: 'yo', encryption: 'none' }],
  pending: [{ event: 'pending', to: 'bob@x', id: 'p1', body: 'typed offline', queued_at: stamp }],
  error: [{ event: 'error', message: 'broken', reason: 'bad-mac' }],
  info: [{ event: 'info', message: 'for your information' }],
  status: [
    { event: 'status', status: 'online', jid: 'me@x/r' },
    { event: 'status', status: 'reconnecting', jid: 'me@x', retry_in: 4 },
  ],
  subscription: [{ event: 'subscription', from: 'bob@x', type: 'subscribe' }],
  device: [{ event: 'device', jid: 'bob@x', device: 7, change: 'new' }],
  trust: [{ event: 'trust', jid: 'bob@x', fingerprint: 'ab'.repeat(32), state: 'verified' }],
  warning: [{ event: 'warning', message: 'careful', reason: 'identity-changed' }],
  chat: [{ event: 'chat', jid: 'bob@x', encryption: 'omemo' }],
  room: [
    { event: 'room', room: 'r@m', status: 'joined', nick: 'me', encryption: 'omemo' },
    { event: 'room', room: 'r@m', status: 'kicked', nick: 'me', message: 'spam' },
    { event: 'room', room: 'r@m', status: 'error', message: 'conflict' },
  ],
  occupant: [
    { event: 'occupant', room: 'r@m', nick: 'bob', change: 'joined', jid: 'bob@x', role: 'moderator' },
    { event: 'occupant', room: 'r@m', nick: 'bob', change: 'nick', new_nick: 'robert' },
  ],
  subject: [{ event: 'subject', room: 'r@m', subject: 'plans', nick: 'bob' }],
  invite: [{ event: 'invite', room: 'r@m', from: 'bob@x/r', reason: 'come' }],
  presence: [{ event: 'presence', jid: 'bob@x/r', show: 'away', status: 'lunch' }],
  receipt: [{ event: 'receipt', id: 'i1', from: 'bob@x/r' }],
  chatstate: [{ event: 'chatstate', from: 'bob@x/r', state: 'composing' }],
  correction: [{ event: 'correction', from: 'bob@x/r', to: 'me@x', id: 'i1', body: 'fixed', encryption: 'none', stamp }],
  retraction: [{ event: 'retraction', from: 'bob@x/r', to: 'me@x', id: 'i1' }],
  progress: [{ event: 'progress', id: 'f', direction: 'upload', file: 'a.txt', bytes: 5, total: 10 }],
  file: [{ event: 'file', action: 'saved', jid: 'bob@x', path: '/tmp/a.txt', url: 'aesgcm://h/a', size: 10, encryption: 'omemo' }],
  search: [{ event: 'search', text: 'pizza', chat: 'bob@x', hits: [{ event: 'message', from: 'bob@x/r', to: 'me@x', body: 'I like pizza', encryption: 'omemo', stamp, archived: true }] }],
};
const ALL = Object.values(EXAMPLES).flat() as XchatEvent[];

describe('readable text of every event', () => {
  it('formatEvent gives words for each kind, never JSON', () => {
    expect(ALL.length).toBeGreaterThanOrEqual(Object.keys(EXAMPLES).length);
    for (const e of ALL) {
      const text = formatEvent(e, new Date(stamp));
      expect(text, e.event).not.toMatch(/^\s*\{|"event"/);
      expect(text.length, e.event).toBeGreaterThan(3);
    }
    expect(formatEvent(EXAMPLES.room[0])).toBe('* joined r@m as me, OMEMO');
    expect(formatEvent(EXAMPLES.occupant[1])).toBe('* bob is now robert in r@m');
    expect(formatEvent(EXAMPLES.chatstate[0])).toBe('* bob@x/r is typing');
    expect(formatEvent(EXAMPLES.status[1])).toBe('* connection lost; reconnecting me@x in 4 s (/connect: now, /disconnect: stop)');
  });

  it('the TUI window model shows no event as JSON either', () => {
    const wm = new WindowManager({ now: () => 0 });
    for (const e of ALL) wm.handle(e);
    const lines = wm.list().flatMap((w) => w.lines.map((l) => l.body));
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(l).not.toMatch(/^\s*\{|"event"/);
    // In the TUI a room's events are in its window, in Profanity's words.
    expect(lines).toContain('-> You have joined the room as me, messages are encrypted with OMEMO');
  });
});
