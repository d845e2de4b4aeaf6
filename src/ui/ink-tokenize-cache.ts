// Ink rasterizes the whole screen on every frame, and most of a frame's cost is turning each text
// line into styled cells: @alcalzone/ansi-tokenize's tokenize (a grapheme-segmenter walk over
// every character) and styledCharsFromTokens. Ink caches those within one frame only, while a
// keystroke changes one row of forty. The bundle (scripts/build.mjs) routes Ink's output.js import
// of the tokenizer here, which keeps the results for recent lines across frames. Ink only reads
// them (it copies cell references into its grid and prints them), so sharing them is safe.
import { styledCharsFromTokens as realStyledChars, tokenize as realTokenize } from '@alcalzone/ansi-tokenize';

export * from '@alcalzone/ansi-tokenize';

type Tokens = ReturnType<typeof realTokenize>;
type StyledChars = ReturnType<typeof realStyledChars>;

/** Lines kept: about a dozen screens' worth (a cached line's cells cost ~100 bytes a column). */
export const MAX_LINES = 512;
const tokensOf = new Map<string, Tokens>();
const charsOf = new WeakMap<Tokens, StyledChars>();

export function tokenize(str: string, endChar?: number): Tokens {
  if (endChar !== undefined) return realTokenize(str, endChar);
  let tokens = tokensOf.get(str);
  if (tokens === undefined) {
    tokens = realTokenize(str);
    if (tokensOf.size >= MAX_LINES) tokensOf.delete(tokensOf.keys().next().value as string);
    tokensOf.set(str, tokens);
  }
  return tokens;
}

export function styledCharsFromTokens(tokens: Tokens): StyledChars {
  let chars = charsOf.get(tokens);
  if (chars === undefined) {
    chars = realStyledChars(tokens);
    charsOf.set(tokens, chars);
  }
  return chars;
}
