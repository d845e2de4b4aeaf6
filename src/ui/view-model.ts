// Pure text for the screen: title bar and status bar as styled pieces. Kept out of the components
// so what each bar says (and in which style) is plain code; the window body is rows.ts.
import type { Window, WindowManager } from './windows.js';
import { hhmm, printable, type Seg } from './rows.js';

export { hhmm, hhmmss, lineText, loadNickColours, printable, visibleRows, type Row, type Seg, type Span } from './rows.js';

/** The chat's encryption and the contact's trust, as pieces: [OMEMO] [trusted], [unencrypted]… */
export function encryptionSegs(w: Window): Seg[] {
  if (w.kind !== 'chat') return [];
  if (w.encryptionPending) return [{ text: '[encryption: decided once online]', style: 'pending' }];
  if (w.encryption === 'omemo') return [{ text: '[OMEMO]', style: 'encrypted' }, ...(w.trust && !w.room ? [{ text: ' ' }, { text: `[${w.trust}]`, style: `trust.${w.trust}` as const }] : [])];
  if (w.encryption === 'none') return [{ text: '[unencrypted]', style: 'unencrypted' }];
  return [];
}

export function encryptionLabel(w: Window): string {
  return encryptionSegs(w).map((s) => s.text).join('');
}

/** The title bar: the console's connection state, or the chat's name, presence, encryption, typing. */
export function titleSegs(wm: WindowManager): Seg[] {
  const w = wm.current();
  if (w.kind === 'console') {
    const s = wm.status;
    const who = s.jid ? ` ${s.jid}` : '';
    const state = s.state === 'reconnecting' ? `reconnecting in ${s.retryIn ?? '?'} s` : s.state;
    return [{ text: printable(`xchat console -${who} ${state}`) }];
  }
  const out: Seg[] = [{ text: printable(w.name) }];
  if (w.presence) out.push({ text: printable(` (${w.presence})`) });
  const enc = encryptionSegs(w);
  if (enc.length) out.push({ text: ' ' }, ...enc);
  if (w.chatState === 'composing') out.push({ text: ' typing…' });
  return out;
}

export function titleText(wm: WindowManager): string {
  return titleSegs(wm).map((s) => s.text).join('');
}

/** One window in the status bar: `[2:bob@localhost*3]` (*N unread messages, + other activity). */
export function windowTag(w: Window): string {
  const mark = w.unread > 0 ? `*${w.unread}` : w.activity ? '+' : '';
  return printable(`[${w.num}:${w.name}${mark}]`);
}

export interface StatusTag {
  text: string;
  current: boolean;
  unread: boolean;
}

/** `below`: lines under the last one on screen (default: how far the view is scrolled up). */
export function statusParts(wm: WindowManager, now: number, below?: number): { time: string; tags: StatusTag[]; right: Seg[] } {
  const cur = wm.current();
  const enc = encryptionSegs(cur);
  const more = below ?? cur.scroll;
  const right: Seg[] = [...(more > 0 ? [{ text: `-- more (${more}) --` }, ...(enc.length ? [{ text: ' ' }] : [])] : []), ...enc];
  return {
    time: `[${hhmm(now)}]`,
    tags: wm.list().map((w) => ({ text: windowTag(w), current: w.num === cur.num, unread: w.unread > 0 })),
    right,
  };
}

export function statusText(wm: WindowManager, now: number): string {
  const p = statusParts(wm, now);
  return [p.time, ...p.tags.map((t) => t.text), p.right.map((s) => s.text).join('')].filter(Boolean).join(' ');
}
