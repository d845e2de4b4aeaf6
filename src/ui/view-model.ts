// Pure text for the screen: title bar, status bar, and the visible rows of a window. Kept out of
// the components so the viewport logic (only the rows on screen are ever formatted) is plain code.
import type { Window, WindowLine, WindowManager } from './windows.js';
import type { nickColour as NickColour } from './nick-colour.js';
import { wrapText } from './text-width.js';

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
  /** A sender's nick on this row (room windows): where it is and its XEP-0392 colour (xterm 256). */
  nick?: { start: number; length: number; colour: number };
}

/** Printable ASCII only: one column per character, nothing to measure. */
const PLAIN = /^[\x20-\x7e]*$/;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text as it may reach the terminal: a tab becomes spaces, a carriage return goes, and every
 * other control character (ESC above all: a message must not move the cursor, recolour the
 * screen or retitle the terminal) is shown as a visible stand-in, ^X for C0, \ufffd for the rest.
 */
export function printable(text: string): string {
  if (PLAIN.test(text)) return text;
  return text.replace(CONTROL, (c) => {
    if (c === '\t') return '    ';
    if (c === '\r') return '';
    const code = c.charCodeAt(0);
    return code < 0x20 ? `^${String.fromCharCode(code + 64)}` : code === 0x7f ? '^?' : '\ufffd';
  });
}

/**
 * The `height` rows that end at stored line `lines.length - 1 - scroll`, wrapped to `width`.
 * Walks backwards from that line and stops once the viewport is full, so the cost depends on
 * the viewport, never on how many lines the window holds.
 */
export function visibleRows(lines: readonly WindowLine[], scroll: number, height: number, width: number, room = false): Row[] {
  const out: Row[] = [];
  const w = Math.max(1, width);
  for (let i = lines.length - 1 - scroll; i >= 0 && out.length < height; i--) {
    const l = lines[i];
    const text = lineText(l);
    // Most lines are short plain text: one row as is, nothing to measure.
    const wrapped = text.length <= w && PLAIN.test(text) ? [text] : wrapText(printable(text), w);
    const nick = room ? nickOnFirstRow(l, wrapped[0]) : undefined;
    for (let k = wrapped.length - 1; k >= 0 && out.length < height; k--) out.push(k === 0 && nick ? { text: wrapped[k], kind: l.kind, nick } : { text: wrapped[k], kind: l.kind });
  }
  out.reverse();
  return out;
}

// Nick colours need SHA-1 (the OMEMO primitives module and its crypto libraries): loaded after
// the first frame, like the exact text width; room rows are drawn uncoloured until then.
let colourOf: typeof NickColour | undefined;
let loadingColours: Promise<void> | undefined;

/** Starts loading nick colours; the rows drawn after it resolves carry them. */
export function loadNickColours(): Promise<void> {
  loadingColours ??= import('./nick-colour.js').then((m) => {
    colourOf = m.nickColour;
  });
  return loadingColours;
}

/** Where a received room message's sender nick sits on its first row (it follows time and mark). */
function nickOnFirstRow(l: WindowLine, row: string): Row['nick'] {
  if (!colourOf || l.kind !== 'message' || l.cont || l.from === undefined || l.from === '') return undefined;
  const nick = printable(l.from);
  const start = printable(lineText({ ...l, from: '', body: '' })).length - 2; // minus ': '
  const length = Math.min(nick.length, row.length - start);
  if (length <= 0 || row.slice(start, start + length) !== nick.slice(0, length)) return undefined;
  return { start, length, colour: colourOf(l.from) };
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
    const state = s.state === 'reconnecting' ? `reconnecting in ${s.retryIn ?? '?'} s` : s.state;
    return printable(`xchat console -${who} ${state}`);
  }
  const parts = [w.name];
  if (w.presence) parts.push(`(${w.presence})`);
  const enc = encryptionLabel(w);
  if (enc) parts.push(enc);
  if (w.chatState === 'composing') parts.push('typing…');
  return printable(parts.join(' '));
}

/** One window in the status bar: `[2:bob@localhost*3]` (*N unread messages, + other activity). */
export function windowTag(w: Window): string {
  const mark = w.unread > 0 ? `*${w.unread}` : w.activity ? '+' : '';
  return printable(`[${w.num}:${w.name}${mark}]`);
}

export function statusParts(wm: WindowManager, now: number): { time: string; tags: { text: string; current: boolean }[]; right: string } {
  const cur = wm.current();
  const right = printable([cur.scroll > 0 ? `-- more (${cur.scroll}) --` : '', encryptionLabel(cur)].filter(Boolean).join(' '));
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
