// Room events as Profanity shows them in a room's window: "-> bob has joined the room",
// "<- bob has left the room", "** bob is now known as robert", the subject, role and affiliation
// changes; and whether a room message names our nick (a mention). `xchat run` keeps the
// self-contained wording of event-text.ts, which names the room on every line.
import type { XchatEvent } from '../core/api.js';
import type { WindowLine } from '../commands/windows-api.js';

type EventOf<K extends XchatEvent['event']> = Extract<XchatEvent, { event: K }>;

export type RoomLine = Pick<WindowLine, 'body' | 'kind' | 'look'>;

function roleText(affiliation: string | undefined, role: string | undefined): string {
  const parts = [role && role !== 'participant' && role !== 'none' ? role : undefined, affiliation && affiliation !== 'none' ? affiliation : undefined].filter(Boolean);
  return parts.join(', ');
}

export function occupantLine(e: EventOf<'occupant'>): RoomLine {
  switch (e.change) {
    case 'joined': {
      const as = roleText(e.affiliation, e.role);
      return { body: `-> ${e.nick} has joined the room${as ? `, ${as}` : ''}`, kind: 'info', look: 'join' };
    }
    case 'left':
      return { body: `<- ${e.nick} has left the room`, kind: 'info', look: 'leave' };
    case 'nick':
      return { body: `** ${e.nick} is now known as ${e.new_nick ?? '?'}`, kind: 'info', look: 'room' };
    case 'changed':
      return { body: `** ${e.nick} is now ${[e.role ? `role ${e.role}` : '', e.affiliation ? `affiliation ${e.affiliation}` : ''].filter(Boolean).join(', ') || 'changed'}`, kind: 'info', look: 'room' };
    default: {
      const never: never = e.change;
      return { body: `** ${String(never)}`, kind: 'info', look: 'room' };
    }
  }
}

export function subjectLine(e: EventOf<'subject'>): RoomLine {
  return { body: e.nick ? `** ${e.nick} has set the room subject: ${e.subject}` : `** Room subject: ${e.subject}`, kind: 'info', look: 'room' };
}

export function roomStatusLine(e: EventOf<'room'>): RoomLine {
  switch (e.status) {
    case 'joined':
      return {
        body: `-> You have joined the room as ${e.nick ?? '?'}${e.created ? ' (a new room: you are its owner)' : ''}${e.encryption === 'omemo' ? ', messages are encrypted with OMEMO' : ''}`,
        kind: 'info',
        look: 'join',
      };
    case 'left':
      return { body: '<- You have left the room', kind: 'info', look: 'leave' };
    case 'kicked':
    case 'banned':
    case 'removed':
      return { body: `!! You have been ${e.status === 'removed' ? 'removed from' : `${e.status} from`} the room${e.message ? `: ${e.message}` : ''}`, kind: 'warning' };
    case 'error':
      return { body: `!! ${e.message ?? 'error'}`, kind: 'error' };
    default: {
      const never: never = e.status;
      return { body: `** ${String(never)}`, kind: 'info', look: 'room' };
    }
  }
}

const WORD = /[\p{L}\p{N}_]/u;

/** Whether `body` names `nick` as a word of its own (case-insensitive): "bob:", "@bob", "hi bob!". */
export function mentions(body: string, nick: string | undefined): boolean {
  if (!nick) return false;
  const b = body.toLowerCase();
  const n = nick.toLowerCase();
  for (let i = b.indexOf(n); i >= 0; i = b.indexOf(n, i + 1)) {
    const before = i === 0 ? '' : b[i - 1];
    const after = b[i + n.length] ?? '';
    if (!(before && WORD.test(before)) && !(after && WORD.test(after))) return true;
  }
  return false;
}
