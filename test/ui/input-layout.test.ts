// Where the input line's text and caret go on screen (issue 10): wide characters take two
// columns and never straddle a row's end, emoji and accents are measured as Ink draws them (and
// as every terminal does: emoji sequences terminals disagree on are drawn by their first part),
// control and direction-changing characters are shown as visible stand-ins, and a 4,000-character
// line wraps over a bounded number of rows with the caret always among them.
import { describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { cellOf, layoutInput, maxInputRows, viewInput, wrapInput } from '../../src/ui/input-layout.js';

describe('cells', () => {
  it('wide characters take two columns, accents none of their own, emoji two', () => {
    expect(cellOf('漢')).toEqual({ shown: '漢', width: 2 });
    expect(cellOf('e\u0301')).toEqual({ shown: 'e\u0301', width: 1 });
    expect(cellOf('👍')).toEqual({ shown: '👍', width: 2 });
    expect(cellOf('🇫🇷')).toEqual({ shown: '🇫🇷', width: 2 });
    expect(cellOf('a')).toEqual({ shown: 'a', width: 1 });
  });

  it('an emoji sequence that terminals measure differently is drawn by its first code point', () => {
    // Per code point (xterm, VTE, tmux 3.3) 👍🏽 is 4 columns, ❤️ 1; per cluster both are 2.
    expect(cellOf('👍🏽')).toEqual({ shown: '👍', width: 2 });
    expect(cellOf('❤️')).toEqual({ shown: '❤', width: 1 });
    expect(cellOf('👨‍👩‍👧')).toEqual({ shown: '👨', width: 2 });
    expect(cellOf('1️⃣')).toEqual({ shown: '1', width: 1 });
    // Where both counts agree the sequence is drawn whole; other scripts are never cut short.
    expect(cellOf('👍️')).toEqual({ shown: '👍️', width: 2 });
    expect(cellOf('क्षि').shown).toBe('क्षि');
  });

  it('control, bidi and zero-width characters are shown as visible stand-ins', () => {
    expect(cellOf('\u001b').shown).toBe('^[');
    expect(cellOf('\u007f').shown).toBe('^?');
    expect(cellOf('\u0085').shown).toBe('\ufffd');
    for (const c of ['\u202e', '\u2067', '\u200f', '\u061c', '\u2028', '\u200b']) expect(cellOf(c)).toEqual({ shown: '\ufffd', width: 1 });
    expect(cellOf('\u0301')).toEqual({ shown: '\u25cc\u0301', width: 1 }); // a lone accent on a dotted circle
    expect(cellOf('\t')).toEqual({ shown: '    ', width: 4 });
  });

  it('Hebrew and Arabic letters are drawn as they are, one column each, in the order typed', () => {
    const w = wrapInput('> ', 'שלום abc', 4, 40);
    expect(w.rows).toEqual(['> שלום abc']);
    expect(w.caret).toEqual({ row: 0, col: 6 });
  });
});

describe('caret', () => {
  it('sits before the grapheme at the cursor, counted in columns', () => {
    expect(wrapInput('> ', 'abcdef', 3, 40).caret).toEqual({ row: 0, col: 5 });
    // ok👍👍: after the first emoji is column 2 + 2 + 2.
    expect(wrapInput('> ', 'ok👍👍', 'ok👍'.length, 40).caret).toEqual({ row: 0, col: 6 });
    expect(wrapInput('> ', '漢字', '漢'.length, 40).caret).toEqual({ row: 0, col: 4 });
  });

  it('at the end of a full row, goes to the start of the next one', () => {
    const w = wrapInput('> ', 'abcdefgh', 8, 10);
    expect(w.rows).toEqual(['> abcdefgh', '']);
    expect(w.caret).toEqual({ row: 1, col: 0 });
  });
});

describe('wrapping', () => {
  it('a wide character that does not fit at the end of a row starts the next', () => {
    const w = wrapInput('> ', 'abc漢字', 0, 6);
    expect(w.rows).toEqual(['> abc', '漢字']);
    expect(w.rows.every((r) => stringWidth(r) <= 6)).toBe(true);
  });

  it('a 4,000-character line fills rows of the width, shows at most the limit, the caret in view', () => {
    const text = Array.from({ length: 4000 }, (_, i) => (i % 7 === 6 ? ' ' : String.fromCharCode(97 + (i % 26)))).join('');
    for (const columns of [160, 60]) {
      const w = wrapInput('> ', text, text.length, columns);
      expect(w.rows.length).toBe(Math.ceil((4000 + 2) / columns) + ((4000 + 2) % columns === 0 ? 1 : 0));
      expect(w.rows.every((r) => r.length <= columns)).toBe(true);
      expect(w.rows.join('')).toBe('> ' + text);
      const v = viewInput(w, 10);
      expect(v.rows).toHaveLength(10);
      expect(v.caret.row).toBe(9); // the end, at the bottom
      // Home: the view moves up to the first row.
      const home = layoutInput('> ', text, 0, columns, 10, v.start);
      expect(home.start).toBe(0);
      expect(home.caret).toEqual({ row: 0, col: 2 });
      // A move within the rows shown does not scroll.
      const within = layoutInput('> ', text, columns * 3, columns, 10, 0);
      expect(within.start).toBe(0);
    }
  });

  it('the input takes a quarter of the screen at most: 1 to 10 rows', () => {
    expect(maxInputRows(15)).toBe(3);
    expect(maxInputRows(50)).toBe(10);
    expect(maxInputRows(3)).toBe(1);
  });
});
