// Where each core event goes in the windows and how it reads there (every kind handled by name):
// chat lines into their chat's window, room events as Profanity words in the room's window only,
// search results into the current window, the rest to the console or the window they concern.
import type { MessageEvent, XchatEvent } from '../core/api.js';
import type { Window, WindowLine } from '../commands/windows-api.js';
import { bareJid as bare, resourceOf } from '../lib/jid.js';
import { mentions, occupantLine, roomStatusLine, subjectLine, type RoomLine } from './room-text.js';
import { hitLine, searchHead, searchWords } from './search-text.js';

type EventOf<K extends XchatEvent['event']> = Extract<XchatEvent, { event: K }>;

/** What routing needs of the window model (windows.ts WindowManager). */
export interface WindowHost {
  status: { state: EventOf<'status'>['status']; jid?: string; retryIn?: number };
  lastSearch?: EventOf<'search'>;
  now(): number;
  current(): Window;
  console(): Window;
  chatWindow(jid: string): Window | undefined;
  openWindow(jid: string): Window;
  /** Its chat window if open, else the console. */
  windowFor(jid: string | undefined): Window;
  addLine(w: Window, line: WindowLine): void;
  addArchived(w: Window, line: WindowLine): void;
  editLine(w: Window, id: string, body: string, newId?: string): boolean;
  eventLine(e: XchatEvent): WindowLine;
  changed(): void;
  isOwn(jid: string | undefined): boolean;
  refreshTrust(w: Window): void;
  followCurrent(w: Window): void;
}

type WindowManager = WindowHost;

function onMessage(wm: WindowManager, e: MessageEvent): void {
  const peer = e.groupchat ? bare(e.from) : e.carbon === 'sent' ? e.to : e.from;
  const w = wm.openWindow(peer);
  if (e.groupchat) w.room = true;
  // Our own room message comes back from the room; its 'sent' line already shows it.
  if (e.groupchat && e.own && !e.archived && e.id && w.ids.has(e.id)) return;
  const mine = e.carbon === 'sent' || e.own === true;
  const t = Date.parse(e.stamp);
  const line: WindowLine = {
    time: Number.isNaN(t) ? wm.now() : t,
    from: mine ? 'me' : e.groupchat ? (e.nick ?? resourceOf(e.from) ?? e.from) : bare(e.from),
    body: e.body,
    kind: mine ? 'sent' : 'message',
    encryption: e.encryption,
    ...(e.trust ? { trust: e.trust } : {}),
    ...(e.id ? { id: e.id } : {}),
    ...(e.groupchat && !mine && mentions(e.body, w.nick) ? { look: 'mention' as const } : {}),
  };
  if (e.archived) {
    wm.addArchived(w, line);
    return;
  }
  w.encryption = e.encryption;
  w.encryptionPending = false;
  // The title follows the contact's trust (all their devices), not this message's device.
  if (!e.groupchat && !mine && e.encryption === 'omemo' && e.trust !== w.trust) wm.refreshTrust(w);
  wm.addLine(w, line);
}

function onChat(wm: WindowManager, e: EventOf<'chat'>): void {
  const w = wm.openWindow(e.jid);
  const before = w.encryptionPending ? undefined : w.encryption;
  w.encryption = e.encryption;
  w.encryptionPending = e.pending === true;
  if (e.pending) {
    wm.addLine(w, { time: wm.now(), body: 'offline: the encryption of this chat is decided once you are online (messages wait until then)', kind: 'info' });
  } else if (before !== e.encryption) {
    wm.addLine(w, { time: wm.now(), body: e.encryption === 'omemo' ? 'messages are encrypted with OMEMO' : 'messages are NOT encrypted', kind: 'info' });
  }
  if (e.encryption === 'omemo' && !w.room) wm.refreshTrust(w);
  wm.followCurrent(w);
}

/** Typing and presence: shown in an open chat window only (at login every contact reports in). */
function onContactState(wm: WindowManager, e: EventOf<'chatstate'> | EventOf<'presence'>): void {
  const w = wm.chatWindow(e.event === 'chatstate' ? e.from : e.jid);
  if (!w || w.room) return; // a room is not one contact: who types there is not its state
  if (e.event === 'chatstate') {
    w.chatState = e.state;
    wm.changed();
    return;
  }
  w.presence = e.status ? `${e.show}: ${e.status}` : e.show;
  wm.addLine(w, wm.eventLine(e));
}

/** A correction or retraction rewrites the line it names, else it is told as an event. */
function onEdit(wm: WindowManager, e: EventOf<'correction'> | EventOf<'retraction'>): void {
  const peer = e.carbon === 'sent' || wm.isOwn(e.from) ? e.to : e.from;
  const w = wm.chatWindow(peer);
  const body = e.event === 'retraction' ? '[retracted]' : `${e.body} [corrected]`;
  if (w && wm.editLine(w, e.id, body, e.event === 'correction' ? e.new_id : undefined)) return;
  wm.addLine(wm.windowFor(peer), wm.eventLine(e));
}

/** A room event: in Profanity's words in the room's window; the console only when none is open. */
function roomLine(wm: WindowManager, room: string, e: XchatEvent, line: RoomLine): void {
  const w = wm.chatWindow(room);
  if (w) wm.addLine(w, { time: wm.now(), ...line });
  else wm.addLine(wm.console(), wm.eventLine(e));
}

function onRoom(wm: WindowManager, e: EventOf<'room'> | EventOf<'occupant'> | EventOf<'subject'>): void {
  if (e.event === 'subject') {
    if (e.subject === '' && !e.nick) return; // a room without a subject says so with an empty one
    wm.openWindow(e.room).room = true; // it comes while we join, before the join is reported
  }
  if (e.event === 'room' && e.status === 'joined') {
    // The room's window opens with the join (autojoin too, as in Profanity); focus follows /join.
    const w = wm.openWindow(e.room);
    w.room = true;
    if (e.nick) w.nick = e.nick;
    if (e.encryption) w.encryption = e.encryption;
  }
  if (e.event === 'occupant' && e.change === 'nick') {
    const w = wm.chatWindow(e.room);
    if (w && w.nick === e.nick && e.new_nick) w.nick = e.new_nick;
  }
  const line = e.event === 'room' ? roomStatusLine(e) : e.event === 'occupant' ? occupantLine(e) : subjectLine(e);
  roomLine(wm, e.room, e, line);
}

/** /search results in the current window: the hits numbered, the words marked. */
function onSearch(wm: WindowManager, e: EventOf<'search'>): void {
  wm.lastSearch = e;
  const marks = searchWords(e.text);
  const w = wm.current();
  wm.addLine(w, { time: wm.now(), body: searchHead(e), kind: 'info' });
  e.hits.forEach((h, i) => wm.addLine(w, { time: wm.now(), body: hitLine(i + 1, h), kind: 'info', marks, cont: true }));
}

type Handler<K extends XchatEvent['event']> = (wm: WindowManager, e: EventOf<K>) => void;

const toConsole = (wm: WindowManager, e: XchatEvent) => wm.addLine(wm.console(), wm.eventLine(e));

/** Every event kind by name: a new kind does not compile until it is routed here. */
export const ROUTES: { [K in XchatEvent['event']]: Handler<K> } = {
  message: onMessage,
  sent: (wm, e) => {
    const w = wm.openWindow(e.to);
    if (e.groupchat) w.room = true;
    w.encryption = e.encryption;
    w.encryptionPending = false;
    // A message typed while offline has its pending line already: it now reads as sent.
    if (w.ids.has(e.id) && wm.editLine(w, e.id, e.body)) return;
    wm.addLine(w, { time: wm.now(), from: 'me', body: e.body, kind: 'sent', encryption: e.encryption, id: e.id });
  },
  pending: (wm, e) => wm.addLine(wm.openWindow(e.to), { time: wm.now(), from: 'me', body: `[pending] ${e.body}`, kind: 'sent', id: e.id }),
  chat: onChat,
  status: (wm, e) => {
    const again = e.status === 'offline' && wm.status.state === 'offline';
    wm.status = { state: e.status, ...(e.jid ? { jid: e.jid } : {}), ...(e.retry_in !== undefined ? { retryIn: e.retry_in } : {}) };
    if (!again) toConsole(wm, e); // "offline" once, however many parts say it
  },
  trust: (wm, e) => {
    const w = wm.chatWindow(e.jid);
    if (w) wm.refreshTrust(w);
    wm.addLine(wm.windowFor(e.jid), wm.eventLine(e));
  },
  device: (wm, e) => {
    const w = wm.chatWindow(e.jid);
    if (w) wm.refreshTrust(w);
    wm.addLine(wm.windowFor(e.jid), wm.eventLine(e));
  },
  error: (wm, e) => wm.addLine(wm.windowFor(e.from), wm.eventLine(e)),
  warning: (wm, e) => wm.addLine(wm.windowFor(e.jid), wm.eventLine(e)),
  subscription: (wm, e) => wm.addLine(wm.windowFor(e.from), wm.eventLine(e)),
  info: toConsole,
  chatstate: onContactState,
  presence: onContactState,
  receipt: () => undefined, // not shown: a line per delivered message would drown the chat
  correction: onEdit,
  retraction: onEdit,
  room: onRoom,
  occupant: onRoom,
  subject: onRoom,
  invite: toConsole,
  progress: toConsole,
  file: (wm, e) => wm.addLine(wm.windowFor(e.jid), wm.eventLine(e)),
  search: onSearch,
};

export function routeEvent(wm: WindowManager, e: XchatEvent): void {
  const route = ROUTES[e.event] as Handler<XchatEvent['event']> | undefined;
  if (route) route(wm, e);
  else toConsole(wm, e); // a kind from a newer core still shows, as words
}
