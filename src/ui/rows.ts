// The rows of a window on screen: each stored line as styled pieces (time, trust mark, sender,
// body), wrapped to the width, with the pieces' styles carried onto the rows they land on. Only
// the rows in the viewport are ever formatted.
import type { WindowLine } from './windows.js';
import type { nickColour as NickColour } from './nick-colour.js';
import type { StyleName } from './theme.js';
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

/** A styled piece of text: a theme style, or a nick in its XEP-0392 colour (xterm 256). */
export interface Seg {
  text: string;
  style?: StyleName;
  nick?: number;
}

/** A styled stretch of a row. */
export interface Span {
  start: number;
  length: number;
  style?: StyleName;
  nick?: number;
}

export interface Row {
  text: string;
  kind: WindowLine['kind'];
  /** The stored line this row is (part of). */
  line: number;
  /** The style of the whole row (info, error, room events, a mention), under its spans. */
  base?: StyleName;
  spans: Span[];
}

/** Printable ASCII only: one column per character, nothing to measure. */
const PLAIN = /^[\x20-\x7e]*$/;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text as it may reach the terminal: a tab becomes spaces, a carriage return goes, and every
 * other control character (ESC above all: a message must not move the cursor, recolour the
 * screen or retitle the terminal) is shown as a visible stand-in, ^X for C0, \ufffd for the rest.
 * Character by character, so printable(a + b) === printable(a) + printable(b).
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

/** The mark before a message that is not plain trusted OMEMO: security state on every such line. */
function markOf(l: WindowLine): Seg | undefined {
  if (l.encryption === 'none') return { text: '[unencrypted] ', style: 'unencrypted' };
  if (l.encryption === 'omemo' && (l.trust === 'untrusted' || l.trust === 'undecided')) return { text: `[${l.trust}] `, style: `trust.${l.trust}` };
  return undefined;
}

export interface LookOptions {
  /** A room window: senders are nicks. */
  room?: boolean;
  /** Nicks in their XEP-0392 colours (the theme may turn them off). */
  nickColours?: boolean;
}

/** The pieces of one stored line (before wrapping). */
export function lineSegs(l: WindowLine, o: LookOptions = {}): Seg[] {
  if (l.cont) return [{ text: `         ${l.body}` }];
  const time: Seg = { text: `${hhmmss(l.time)} `, style: 'time' };
  if (l.from === undefined) return [time, { text: l.body }];
  const mark = markOf(l);
  const who: Seg =
    l.kind === 'sent'
      ? { text: l.from, style: 'me' }
      : o.room && o.nickColours !== false && colourOf && l.from !== ''
        ? { text: l.from, nick: colourOf(l.from) }
        : { text: l.from, style: 'them' };
  return [time, ...(mark ? [mark] : []), who, { text: `: ${l.body}` }];
}

/** The text of one stored line (before wrapping). */
export function lineText(l: WindowLine): string {
  return lineSegs(l).map((s) => s.text).join('');
}

const LOOK_STYLE: Record<NonNullable<WindowLine['look']>, StyleName> = { join: 'room.join', leave: 'room.leave', room: 'room.info', mention: 'mention', top: 'info' };
const KIND_STYLE: Partial<Record<WindowLine['kind'], StyleName>> = { info: 'info', error: 'error', warning: 'warning' };

function baseStyle(l: WindowLine): StyleName | undefined {
  return l.look ? LOOK_STYLE[l.look] : KIND_STYLE[l.kind];
}

/** Where `marks` (search words) occur in `row`, case-insensitively. */
function matchSpans(row: string, marks: readonly string[]): Span[] {
  const out: Span[] = [];
  const lower = row.toLowerCase();
  for (const m of marks) {
    const w = m.toLowerCase();
    if (!w) continue;
    for (let i = lower.indexOf(w); i >= 0; i = lower.indexOf(w, i + w.length)) out.push({ start: i, length: w.length, style: 'match' });
  }
  return out;
}

/**
 * The styled spans of each wrapped row: the pieces' places in the whole text cut to the row's
 * stretch of it (a row that cannot be placed, which wrapping never makes, stays unstyled).
 */
function spansOfRows(segs: Seg[], rows: string[], marks: readonly string[] | undefined): Span[][] {
  const placed: Span[] = [];
  let at = 0;
  for (const s of segs) {
    const text = printable(s.text);
    if (s.style || s.nick !== undefined) placed.push({ start: at, length: text.length, ...(s.style ? { style: s.style } : {}), ...(s.nick !== undefined ? { nick: s.nick } : {}) });
    at += text.length;
  }
  const full = segsText(segs);
  let cursor = 0;
  return rows.map((row) => {
    const from = full.indexOf(row, cursor);
    if (from < 0) return marks ? matchSpans(row, marks) : [];
    cursor = from + row.length;
    const spans: Span[] = [];
    for (const p of placed) {
      const a = Math.max(p.start, from);
      const b = Math.min(p.start + p.length, from + row.length);
      if (b > a) spans.push({ ...p, start: a - from, length: b - a });
    }
    return marks ? overlay(spans, matchSpans(row, marks)) : spans;
  });
}

const segsText = (segs: Seg[]) => segs.map((s) => printable(s.text)).join('');

/** Spans with `top` laid over them (top wins where they overlap); sorted, never overlapping. */
function overlay(under: Span[], top: Span[]): Span[] {
  if (top.length === 0) return under;
  const out: Span[] = [];
  for (const u of under) {
    let pieces: Span[] = [u];
    for (const t of top) {
      pieces = pieces.flatMap((p) => {
        const a = Math.max(p.start, t.start);
        const b = Math.min(p.start + p.length, t.start + t.length);
        if (b <= a) return [p];
        return [
          ...(a > p.start ? [{ ...p, length: a - p.start }] : []),
          ...(p.start + p.length > b ? [{ ...p, start: b, length: p.start + p.length - b }] : []),
        ];
      });
    }
    out.push(...pieces);
  }
  const merged = [...out, ...top].sort((x, y) => x.start - y.start);
  return merged.filter((s, i) => i === 0 || s.start >= merged[i - 1].start + merged[i - 1].length);
}

/**
 * The `height` rows that end at stored line `lines.length - 1 - scroll`, wrapped to `width`.
 * Walks backwards from that line and stops once the viewport is full, so the cost depends on
 * the viewport, never on how many lines the window holds.
 */
export function visibleRows(lines: readonly WindowLine[], scroll: number, height: number, width: number, o: LookOptions = {}): Row[] {
  const out: Row[] = [];
  const end = lines.length - 1 - scroll;
  for (let i = end; i >= 0 && out.length < height; i--) {
    const rows = rowsOf(lines[i], i, width, o);
    for (let k = rows.length - 1; k >= 0 && out.length < height; k--) out.push(rows[k]);
  }
  out.reverse();
  // Scrolled past the top: the view stops there, the first rows fill the screen.
  for (let i = end + 1; i < lines.length && out.length < height; i++) {
    for (const r of rowsOf(lines[i], i, width, o)) if (out.length < height) out.push(r);
  }
  return out;
}

/** One stored line as its styled rows. */
function rowsOf(l: WindowLine, line: number, width: number, o: LookOptions): Row[] {
  const w = Math.max(1, width);
  const segs = lineSegs(l, o);
  const text = segsText(segs);
  // Most lines are short plain text: one row as is, nothing to measure.
  const wrapped = text.length <= w && PLAIN.test(text) ? [text] : wrapText(text, w);
  const spans = spansOfRows(segs, wrapped, l.marks);
  const base = baseStyle(l);
  return wrapped.map((t, k) => ({ text: t, kind: l.kind, line, ...(base ? { base } : {}), spans: spans[k] }));
}
