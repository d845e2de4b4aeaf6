// The tokenizer cache the bundle gives Ink (scripts/build.mjs): the same cells as the real
// tokenizer, computed once per distinct line, and a bounded number of lines kept.
import { describe, expect, it } from 'vitest';
import * as real from '@alcalzone/ansi-tokenize';
import { MAX_LINES, styledCharsFromTokens, tokenize } from '../../src/ui/ink-tokenize-cache.js';

const lines = ['plain text', '\u001b[36mcyan\u001b[39m and \u001b[1mbold\u001b[22m', 'wide 漢字 and emoji 👍🏽', ''];

describe('ink tokenizer cache', () => {
  it('gives exactly what the real tokenizer gives', () => {
    for (const l of lines) expect(styledCharsFromTokens(tokenize(l))).toEqual(real.styledCharsFromTokens(real.tokenize(l)));
  });

  it('tokenizes a line once: the next frame gets the same cells back', () => {
    const a = styledCharsFromTokens(tokenize('same line, next frame'));
    const b = styledCharsFromTokens(tokenize('same line, next frame'));
    expect(b).toBe(a);
    expect(styledCharsFromTokens(tokenize('another line'))).not.toBe(a);
  });

  it('keeps at most MAX_LINES lines: old ones are tokenized afresh', () => {
    const first = tokenize('evicted first');
    for (let i = 0; i < MAX_LINES; i++) tokenize(`filler ${i}`);
    const again = tokenize('evicted first');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
