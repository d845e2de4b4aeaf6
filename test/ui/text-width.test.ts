// Column widths: narrow text is measured by its length from the start; wide characters (CJK,
// emoji) exactly once wrap-ansi is loaded, after the first frame, and roughly before that.
import { describe, expect, it } from 'vitest';
import { cut, loadTextWidth, NARROW, wrapText } from '../../src/ui/text-width.js';

describe('text width', () => {
  it('narrow text (Latin, punctuation, blocks) is cut and wrapped by length, without wrap-ansi', () => {
    expect(NARROW.test('café – “quoted” … → ▀▄█ ├─┤')).toBe(true);
    expect(NARROW.test('漢字')).toBe(false);
    expect(NARROW.test('e\u0301')).toBe(false); // combining accent: zero columns
    expect(cut('\u001b[1mxchat…\u001b[0m console', 7)).toBe('\u001b[1mxchat…\u001b[0m ');
    expect(wrapText('abc…', 4)).toEqual(['abc…']);
  });

  it('before wrap-ansi is loaded wide text is counted per code point, and loading says so', async () => {
    expect(wrapText('漢字漢字', 4)).toEqual(['漢字漢字']);
    expect(await loadTextWidth()).toBe(true);
  });

  it('once loaded, wide characters take two columns', async () => {
    await loadTextWidth();
    expect(wrapText('漢字漢字', 4)).toEqual(['漢字', '漢字']);
    expect(cut('漢字漢', 5)).toBe('漢字');
    expect(cut('\u001b[7m漢\u001b[27m字漢', 4)).toMatch(/^\u001b\[7m漢\u001b\[27m字/);
    // Word wrap for long narrow lines: the break falls at a space.
    expect(wrapText('aaa bbb ccc', 8)).toEqual(['aaa bbb ', 'ccc']);
  });
});
