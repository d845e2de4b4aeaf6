// Where the input line's text goes on screen: wrapped over as many rows as it needs (up to a
// limit, scrolled so the caret stays in view), each grapheme measured as Ink lays it out, and the
// row and column of the caret, where the real terminal cursor is put. Plain code, no Ink.
// Every grapheme is shown safely: control characters as ^X, zero-width and direction-changing
// characters (bidi overrides and isolates, line separators) as a visible stand-in, so nothing
// typed or pasted can move the cursor, reorder the row or hide from the user; an emoji sequence
// that terminals measure differently is drawn by its first code point (see emojiAgreed).
import stringWidth from 'string-width';
import { graphemes } from './text-units.js';

export interface Cell {
  /** What is drawn for the grapheme. */
  shown: string;
  /** Columns it takes, exactly as Ink places it (at least one). */
  width: number;
}

export interface InputLayout {
  /** The rows on screen, top to bottom. */
  rows: string[];
  /** The caret within `rows`. */
  caret: { row: number; col: number };
  /** Index of the first row shown (the line scrolls when it is taller than the limit). */
  start: number;
  /** Rows the whole line would take. */
  total: number;
}

const ASCII_CHAR = /^[\x20-\x7e]$/;
const LEADING_MARK = /^\p{M}/u;
/** Characters that reorder text or break rows in some terminals: bidi controls, separators. */
const UNSAFE = /[\p{Zl}\p{Zp}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const cells = new Map<string, Cell>();

/** How one grapheme is drawn. */
export function cellOf(g: string): Cell {
  if (ASCII_CHAR.test(g)) return { shown: g, width: 1 };
  let c = cells.get(g);
  if (c) return c;
  const code = g.codePointAt(0) ?? 0;
  if (g === '\t') c = { shown: '    ', width: 4 };
  else if (code < 0x20) c = { shown: `^${String.fromCharCode(code + 64)}`, width: 2 };
  else if (code === 0x7f) c = { shown: '^?', width: 2 };
  else if ((code < 0xa0 && code >= 0x80) || UNSAFE.test(g)) c = { shown: '\ufffd', width: 1 };
  else if (stringWidth(g) === 0) {
    // A lone accent sits on a dotted circle, as character charts show it; anything else that
    // takes no column (bidi controls, zero-width spaces, separators) becomes U+FFFD.
    c = LEADING_MARK.test(g) ? { shown: `\u25cc${g}`, width: 1 } : { shown: '\ufffd', width: 1 };
  } else c = emojiAgreed(g) ?? { shown: g, width: Math.max(1, stringWidth(g)) };
  if (cells.size > 4096) cells.clear();
  cells.set(g, c);
  return c;
}

/** Medial vowels and final consonants of old Hangul: no column of their own in any terminal. */
const JAMO_TAIL = /[\u1160-\u11ff]/;
/** What makes an emoji sequence: pictographs, skin tones, keycaps, emoji presentation. */
const EMOJI_PART = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\u20e3\ufe0f]/u;

/**
 * An emoji sequence drawn the same in every terminal. Terminals that measure per code point
 * (xterm, VTE, tmux 3.3) draw 👍🏽 in four columns and ❤️ in one, terminals that measure
 * clusters in two: where the two counts differ only the sequence's first code point is drawn
 * (👍, ❤), on whose width all agree, so the caret and everything after it stay in place.
 */
function emojiAgreed(g: string): Cell | undefined {
  if (!EMOJI_PART.test(g)) return undefined;
  let perCodePoint = 0;
  for (const ch of g) perCodePoint += JAMO_TAIL.test(ch) ? 0 : stringWidth(ch);
  if (perCodePoint === stringWidth(g)) return undefined;
  const first = String.fromCodePoint(g.codePointAt(0) ?? 0xfffd);
  return { shown: first, width: Math.max(1, stringWidth(first)) };
}

/** Rows the input line may take on a screen of `screenRows`: a quarter of it, 1 to 10. */
export function maxInputRows(screenRows: number): number {
  return Math.max(1, Math.min(10, Math.floor(screenRows / 4)));
}

/** The whole line wrapped to rows, and the caret's row and column in them. */
export interface Wrapped {
  rows: string[];
  caret: { row: number; col: number };
}

/**
 * Lays out `prompt` + `text` in rows of `columns`, the caret before the grapheme at `cursor`. A
 * wide grapheme that does not fit at the end of a row starts the next.
 */
export function wrapInput(prompt: string, text: string, cursor: number, columns: number): Wrapped {
  const width = Math.max(1, columns);
  const rows: string[] = [];
  let row = '';
  let col = 0;
  let caret = { row: 0, col: 0 };
  const place = (c: Cell) => {
    if (col + c.width > width && col > 0) {
      rows.push(row);
      row = '';
      col = 0;
    }
    row += c.shown;
    col += c.width;
  };
  for (const g of graphemes(prompt)) place(cellOf(g));
  let offset = 0;
  for (const g of graphemes(text)) {
    const c = cellOf(g);
    if (offset === cursor) caret = atNextCell(rows.length, col, c.width, width);
    place(c);
    offset += g.length;
  }
  if (cursor >= text.length) caret = atNextCell(rows.length, col, 1, width);
  rows.push(row);
  if (caret.row >= rows.length) rows.push('');
  return { rows, caret };
}

/** Where a cell of `w` columns goes after `col` on row `row`: on the next row when it does not fit. */
function atNextCell(row: number, col: number, w: number, width: number): { row: number; col: number } {
  return col + w > width && col > 0 ? { row: row + 1, col: 0 } : { row, col };
}

/**
 * The rows shown of a wrapped line: at most `maxRows`, the caret among them. `prevStart` is the
 * first row shown last time: the view moves only as far as the caret needs.
 */
export function viewInput(w: Wrapped, maxRows: number, prevStart = 0): InputLayout {
  const total = w.rows.length;
  const max = Math.max(1, maxRows);
  let start = Math.min(Math.max(0, prevStart), Math.max(0, total - max));
  if (w.caret.row < start) start = w.caret.row;
  else if (w.caret.row >= start + max) start = w.caret.row - max + 1;
  return { rows: w.rows.slice(start, start + max), caret: { row: w.caret.row - start, col: w.caret.col }, start, total };
}

export function layoutInput(prompt: string, text: string, cursor: number, columns: number, maxRows: number, prevStart = 0): InputLayout {
  return viewInput(wrapInput(prompt, text, cursor, columns), maxRows, prevStart);
}
