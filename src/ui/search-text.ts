// The words of /search results, for both front ends: a head line and one numbered line per hit
// (window, date and time, sender, the message). The TUI marks the matched words on screen.
import type { MessageEvent, XchatEvent } from '../core/api.js';
import { bareJid } from '../lib/jid.js';

type SearchEvent = Extract<XchatEvent, { event: 'search' }>;

const pad = (n: number) => String(n).padStart(2, '0');

/** Local date and time to the minute, as short as is clear: 21:03 today, else 2024-05-01 21:03. */
export function dateTime(stamp: string, now: Date = new Date()): string {
  const d = new Date(stamp);
  if (Number.isNaN(d.getTime())) return stamp;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const today = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return today ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** The window a hit belongs to: the room, or the contact of a 1:1 chat. */
export function hitWindow(h: MessageEvent): string {
  if (h.groupchat) return bareJid(h.from);
  return bareJid(h.carbon === 'sent' ? h.to : h.from);
}

export function hitSender(h: MessageEvent): string {
  if (h.carbon === 'sent' || h.own) return 'me';
  return h.groupchat ? (h.nick ?? h.from) : bareJid(h.from);
}

/** The words searched for, as the search matched them (each must occur). */
export function searchWords(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

export function searchHead(e: SearchEvent): string {
  const n = e.hits.length;
  const where = e.chat ? ` in ${e.chat}` : ' in all chats';
  if (n === 0) return `no stored message with "${e.text}"${where}`;
  return `${n} stored message${n === 1 ? '' : 's'} with "${e.text}"${where}, oldest first (/search open N shows one in its window):`;
}

/** One hit, numbered from 1; multi-line messages on one line. */
export function hitLine(n: number, h: MessageEvent): string {
  return `${n}. ${hitWindow(h)} ${dateTime(h.stamp)} ${hitSender(h)}: ${h.body.replace(/\s*\n\s*/g, ' ↵ ')}`;
}

export function searchText(e: SearchEvent): string {
  return [searchHead(e), ...e.hits.map((h, i) => hitLine(i + 1, h))].join('\n');
}
