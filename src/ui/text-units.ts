// What the input line's keys move over: user-perceived characters (grapheme clusters, through
// Intl.Segmenter) and words. An emoji with its skin tone, a flag, a letter with its combining
// accents or a CRLF is one step of the cursor and one Backspace, never half a surrogate pair.
// Offsets are UTF-16 indices into the string, always on a grapheme boundary.

/** Printable ASCII: every character is its own grapheme, no segmenter needed. */
const ASCII = /^[\x20-\x7e]*$/;

let segmenter: Intl.Segmenter | undefined;
/** The last text segmented and its boundaries: one keystroke asks several times about one text. */
let cached: { text: string; bounds: number[] } | undefined;

/** Every grapheme boundary of `text`, from 0 to text.length inclusive. */
export function boundaries(text: string): number[] {
  if (cached?.text === text) return cached.bounds;
  let bounds: number[];
  if (ASCII.test(text)) {
    bounds = Array.from({ length: text.length + 1 }, (_, i) => i);
  } else {
    // Created on first use: the ICU set-up is paid when the first non-ASCII text is edited.
    segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    bounds = [];
    for (const { index } of segmenter.segment(text)) bounds.push(index);
    bounds.push(text.length);
  }
  cached = { text, bounds };
  return bounds;
}

/** The graphemes of `text`, in order. */
export function graphemes(text: string): string[] {
  const b = boundaries(text);
  const out: string[] = [];
  for (let i = 0; i + 1 < b.length; i++) out.push(text.slice(b[i], b[i + 1]));
  return out;
}

/** Index in `bounds` of the last boundary at or before `offset`. */
function indexAtOrBefore(bounds: number[], offset: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (bounds[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The grapheme boundary before `offset` (0 at the start). */
export function prevBoundary(text: string, offset: number): number {
  if (offset <= 0) return 0;
  const b = boundaries(text);
  const i = indexAtOrBefore(b, offset);
  return b[i] < offset ? b[i] : b[Math.max(0, i - 1)];
}

/** The grapheme boundary after `offset` (text.length at the end). */
export function nextBoundary(text: string, offset: number): number {
  if (offset >= text.length) return text.length;
  const b = boundaries(text);
  return b[Math.min(b.length - 1, indexAtOrBefore(b, offset) + 1)];
}

/** The nearest grapheme boundary at or before `offset` (or after it, for a cursor past inserted text). */
export function snapToBoundary(text: string, offset: number, side: 'before' | 'after' = 'before'): number {
  const clamped = Math.max(0, Math.min(offset, text.length));
  const b = boundaries(text);
  const i = indexAtOrBefore(b, clamped);
  return side === 'after' && b[i] < clamped ? b[i + 1] : b[i];
}

/** A grapheme that belongs to a word (readline's alphanumerics, in any script). */
const WORD = /^[\p{L}\p{N}\p{M}_]/u;
const SPACE = /^\s/u;

type Is = (g: string) => boolean;
const isWord: Is = (g) => WORD.test(g);
const notWord: Is = (g) => !WORD.test(g);
const isSpace: Is = (g) => SPACE.test(g);
const notSpace: Is = (g) => !SPACE.test(g);

/** From `offset` backwards: skip graphemes matching `skip`, then those matching `take`. */
function scanBack(text: string, offset: number, skip: Is, take: Is): number {
  const b = boundaries(text);
  let i = indexAtOrBefore(b, offset);
  while (i > 0 && skip(text.slice(b[i - 1], b[i]))) i--;
  while (i > 0 && take(text.slice(b[i - 1], b[i]))) i--;
  return b[i];
}

/** From `offset` forwards: skip graphemes matching `skip`, then those matching `take`. */
function scanForward(text: string, offset: number, skip: Is, take: Is): number {
  const b = boundaries(text);
  let i = indexAtOrBefore(b, offset);
  while (i + 1 < b.length && skip(text.slice(b[i], b[i + 1]))) i++;
  while (i + 1 < b.length && take(text.slice(b[i], b[i + 1]))) i++;
  return b[i];
}

/** Alt-B, Ctrl-Left: the start of the word before `offset` (readline's backward-word). */
export const wordStartBefore = (text: string, offset: number): number => scanBack(text, offset, notWord, isWord);

/** Alt-F, Ctrl-Right, Alt-D: the end of the word after `offset` (readline's forward-word). */
export const wordEndAfter = (text: string, offset: number): number => scanForward(text, offset, notWord, isWord);

/** Ctrl-W: back over spaces, then to the previous space (readline's unix-word-rubout). */
export const spaceWordStartBefore = (text: string, offset: number): number => scanBack(text, offset, isSpace, notSpace);
