// Terminal columns. Most text is made of characters one column wide each, measured by its length
// alone. Anything else (East Asian wide characters, emoji, combining marks) is measured by
// wrap-ansi (string-width), which is loaded after the first frame: string-width creates an
// Intl.Segmenter when it loads, ~12 ms of ICU set-up that the first paint does not wait for.
// Until it is there, such text is counted one column per code point, and the screen is repainted
// exactly once it arrives.
import type wrapAnsiFn from 'wrap-ansi';

let wrapAnsi: typeof wrapAnsiFn | undefined;
let loading: Promise<boolean> | undefined;
/** Text was measured by code points before wrap-ansi arrived. */
let approximated = false;

/**
 * Characters known to take one column and to stand alone: printable ASCII, Latin-1 and the Latin,
 * Greek and Cyrillic letters, general punctuation (… – ‘ ’ “ ” •), arrows, box drawing and block
 * elements (the QR code). No combining marks, no soft hyphen, no line separators.
 */
export const NARROW = /^[\x20-\x7e\u00a0-\u00ac\u00ae-\u02ff\u0370-\u0377\u037a-\u037f\u0384-\u0482\u048a-\u052f\u2010-\u2027\u2030-\u205e\u2190-\u21ff\u2500-\u259f]*$/;

const STYLES = /\u001b\[[0-9;]*m/g;

/** Starts loading the exact measure; resolves true when text was measured roughly before. */
export function loadTextWidth(): Promise<boolean> {
  loading ??= import('wrap-ansi').then((m) => {
    wrapAnsi = m.default;
    return approximated;
  });
  return loading;
}

/** Plain `text` (no control characters) hard-wrapped to rows of at most `width` columns. */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  if (NARROW.test(text)) {
    if (text.length <= w) return [text];
    // wrap-ansi's word wrapping, for the common case: break at the last space that fits.
    if (wrapAnsi) return wrapAnsi(text, w, { hard: true, trim: false }).split('\n');
  }
  if (wrapAnsi) return wrapAnsi(text, w, { hard: true, trim: false }).split('\n');
  approximated = true;
  const chars = Array.from(text);
  const rows: string[] = [];
  for (let i = 0; i < chars.length; i += w) rows.push(chars.slice(i, i + w).join(''));
  return rows.length ? rows : [''];
}

/** A styled string (SGR sequences only) cut to `width` columns, its styles kept. */
export function cut(styled: string, width: number): string {
  const w = Math.max(1, width);
  const plain = styled.includes('\u001b') ? styled.replace(STYLES, '') : styled;
  if (plain.length <= w && NARROW.test(plain)) return styled;
  if (wrapAnsi && !NARROW.test(plain)) return wrapAnsi(styled, w, { hard: true, trim: false, wordWrap: false }).split('\n')[0];
  if (!NARROW.test(plain)) approximated = true;
  // One column per code point: walk the text, copying styles through, until the width is used.
  let out = '';
  let cols = 0;
  for (let i = 0; i < styled.length && cols < w; ) {
    if (styled[i] === '\u001b') {
      const m = /^\u001b\[[0-9;]*m/.exec(styled.slice(i, i + 32));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    const cp = styled.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    out += ch;
    i += ch.length;
    cols++;
  }
  return out;
}
