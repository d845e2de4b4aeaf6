// Pure text for the screen: title bar, status bar, and the visible rows of a window. Kept out of
// the components so the viewport logic (only the rows on screen are ever formatted) is plain code.
import wrapAnsi from 'wrap-ansi';
import type { Window, WindowLine, WindowManager } from '../core/windows.js';

const pad = (n: number) => String(n).padStart(2, '0');

export function hhmm(t: number): string {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function hhmmss(t: number): string {
  const d = new Date(t);
  return `${hhmm(t)}:${pad(d.getSeconds())}`;
}

/** The text of one stored line (before wrapping). */
export function lineText(l: WindowLine): string {
  if (l.cont) return `         ${l.body}`;
  if (l.from === undefined) return `${hhmmss(l.time)} ${l.body}`;
  // Security state is visible on every message that is not plain trusted OMEMO.
  const mark = l.encryption === 'none' ? '[unencrypted] ' : l.encryption === 'omemo' && l.trust && l.trust !== 'trusted' && l.trust !== 'verified' ? `[${l.trust}] ` : '';
  return `${hhmmss(l.time)} ${mark}${l.from}: ${l.body}`;
}

export interface Row {
  text: string;
  kind: WindowLine['kind'];
}

/** Printable ASCII only: one column per character, nothing to measure. */
const PLAIN = /^[\x20-\x7e]*$/;

/**
 * The `height` rows that end at stored line `lines.length - 1 - scroll`, wrapped to `width`.
 * Walks backwards from that line and stops once the viewport is full, so the cost depends on
 * the viewport, never on how many lines the window holds.
 */
export function visibleRows(lines: readonly WindowLine[], scroll: number, height: number, width: number): Row[] {
  const out: Row[] = [];
  const w = Math.max(1, width);
  for (let i = lines.length - 1 - scroll; i >= 0 && out.length < height; i--) {
    const l = lines[i];
    const text = lineText(l);
    // Most lines are short plain text: one row as is, without wrap-ansi's width measuring.
    const wrapped = text.length <= w && PLAIN.test(text) ? [text] : wrapAnsi(text, w, { hard: true, trim: false }).split('\n');
    for (let k = wrapped.length - 1; k >= 0 && out.length < height; k--) out.push({ text: wrapped[k], kind: l.kind });
  }
  out.reverse();
  return out;
}

export function encryptionLabel(w: Window): string {
  if (w.kind !== 'chat') return '';
  if (w.encryption === 'omemo') return w.trusted === undefined ? '[OMEMO]' : `[OMEMO] [${w.trusted ? 'trusted' : 'untrusted'}]`;
  if (w.encryption === 'none') return '[unencrypted]';
  return '';
}

export function titleText(wm: WindowManager): string {
  const w = wm.current();
  if (w.kind === 'console') {
    const s = wm.status;
    const who = s.jid ? ` ${s.jid}` : '';
    return `xchat console -${who} ${s.state}`;
  }
  const parts = [w.name];
  if (w.presence) parts.push(`(${w.presence})`);
  const enc = encryptionLabel(w);
  if (enc) parts.push(enc);
  if (w.chatState === 'composing') parts.push('typing…');
  return parts.join(' ');
}

/** One window in the status bar: `[2:bob@localhost*3]` (*N unread messages, + other activity). */
export function windowTag(w: Window): string {
  const mark = w.unread > 0 ? `*${w.unread}` : w.activity ? '+' : '';
  return `[${w.num}:${w.name}${mark}]`;
}

export function statusParts(wm: WindowManager, now: number): { time: string; tags: { text: string; current: boolean }[]; right: string } {
  const cur = wm.current();
  const right = [cur.scroll > 0 ? `-- more (${cur.scroll}) --` : '', encryptionLabel(cur)].filter(Boolean).join(' ');
  return {
    time: `[${hhmm(now)}]`,
    tags: wm.list().map((w) => ({ text: windowTag(w), current: w.num === cur.num })),
    right,
  };
}

export function statusText(wm: WindowManager, now: number): string {
  const p = statusParts(wm, now);
  return [p.time, ...p.tags.map((t) => t.text), p.right].filter(Boolean).join(' ');
}
