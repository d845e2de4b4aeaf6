// The input line: editing keys, kill and yank, history (Up/Down and Ctrl-R search) and Tab
// completion, as plain state (app-input.ts maps keys onto it). Readline's behaviour, moving over
// graphemes (text-units.ts) so an emoji or an accented letter is one step and one Backspace.
// Completion comes from CommandEngine.completeAt, cycling on repeated Tab.
import type { Completion } from '../commands/engine.js';
import { nextBoundary, prevBoundary, snapToBoundary, spaceWordStartBefore, wordEndAfter, wordStartBefore } from './text-units.js';
import { HistorySearch } from './history-search.js';

export type Completer = (line: string, cursor: number) => Completion;

/** Kills remembered for Ctrl-Y and Alt-Y. */
const KILL_RING = 16;

type Action = 'kill' | 'yank' | 'other';

export class LineEditor {
  text = '';
  cursor = 0;
  private history: string[] = [];
  /** Index into history while browsing with Up/Down; history.length = the line being typed. */
  private hist = 0;
  private draft = '';
  private cycle?: { start: number; candidates: string[]; index: number; suffix: string };
  /** Killed text, newest first. */
  private ring: string[] = [];
  private last: Action = 'other';
  /** What the last yank inserted, for Alt-Y. */
  private yanked?: { start: number; end: number; index: number };
  private search?: HistorySearch;
  private lastQuery = '';

  constructor(private readonly maxHistory = 1000) {}

  private set(text: string, cursor = text.length, side: 'before' | 'after' = 'before'): void {
    this.text = text;
    this.cursor = snapToBoundary(text, cursor, side);
  }

  /** Every key but Tab ends a completion cycle; every key but a kill ends a run of kills. */
  private begin(action: Action = 'other'): Action {
    this.cycle = undefined;
    const previous = this.last;
    this.last = action;
    return previous;
  }

  /** Replaces the whole line (a paste put back after Esc). */
  load(text: string, cursor = text.length): void {
    this.begin();
    this.set(text, cursor);
  }

  insert(s: string): void {
    this.begin();
    // After what was typed, even when it joins the grapheme that follows (a combining accent).
    this.set(this.text.slice(0, this.cursor) + s + this.text.slice(this.cursor), this.cursor + s.length, 'after');
  }

  left(): void {
    this.begin();
    this.cursor = prevBoundary(this.text, this.cursor);
  }

  right(): void {
    this.begin();
    this.cursor = nextBoundary(this.text, this.cursor);
  }

  home(): void {
    this.begin();
    this.cursor = 0;
  }

  end(): void {
    this.begin();
    this.cursor = this.text.length;
  }

  /** Alt-B, Ctrl-Left. */
  wordLeft(): void {
    this.begin();
    this.cursor = wordStartBefore(this.text, this.cursor);
  }

  /** Alt-F, Ctrl-Right. */
  wordRight(): void {
    this.begin();
    this.cursor = wordEndAfter(this.text, this.cursor);
  }

  /** Removes the whole grapheme before the cursor (an emoji with its modifiers, e + accent). */
  backspace(): void {
    this.begin();
    const start = prevBoundary(this.text, this.cursor);
    this.set(this.text.slice(0, start) + this.text.slice(this.cursor), start);
  }

  del(): void {
    this.begin();
    const end = nextBoundary(this.text, this.cursor);
    this.set(this.text.slice(0, this.cursor) + this.text.slice(end), this.cursor);
  }

  /** Ctrl-U: kill from the start of the line to the cursor. */
  killToStart(): void {
    this.kill(0, this.cursor, 'back');
  }

  /** Ctrl-K: kill from the cursor to the end of the line. */
  killToEnd(): void {
    this.kill(this.cursor, this.text.length, 'forward');
  }

  /** Ctrl-W: kill the space-delimited word before the cursor (and the spaces after it). */
  killWord(): void {
    this.kill(spaceWordStartBefore(this.text, this.cursor), this.cursor, 'back');
  }

  /** Alt-Backspace: kill back to the start of the word (letters and digits). */
  killWordBack(): void {
    this.kill(wordStartBefore(this.text, this.cursor), this.cursor, 'back');
  }

  /** Alt-D: kill to the end of the word after the cursor. */
  killWordForward(): void {
    this.kill(this.cursor, wordEndAfter(this.text, this.cursor), 'forward');
  }

  /** Kills in a row make one entry (as in readline), so Ctrl-Y gives back all of it. */
  private kill(start: number, end: number, direction: 'back' | 'forward'): void {
    const previous = this.begin('kill');
    if (end <= start) return;
    const killed = this.text.slice(start, end);
    if (previous === 'kill' && this.ring.length > 0) this.ring[0] = direction === 'back' ? killed + this.ring[0] : this.ring[0] + killed;
    else {
      this.ring.unshift(killed);
      if (this.ring.length > KILL_RING) this.ring.pop();
    }
    this.set(this.text.slice(0, start) + this.text.slice(end), start);
  }

  /** Ctrl-Y: insert the last killed text at the cursor. */
  yank(): void {
    this.begin('yank');
    if (this.ring.length === 0) return;
    this.putYank(0);
  }

  /** Alt-Y right after Ctrl-Y or Alt-Y: replace what was yanked with the kill before it. */
  yankPop(): void {
    const previous = this.begin('yank');
    if (previous !== 'yank' || !this.yanked || this.ring.length < 2) return;
    const { start, end, index } = this.yanked;
    this.set(this.text.slice(0, start) + this.text.slice(end), start);
    this.putYank((index + 1) % this.ring.length);
  }

  private putYank(index: number): void {
    const s = this.ring[index];
    const start = this.cursor;
    this.set(this.text.slice(0, start) + s + this.text.slice(start), start + s.length);
    this.yanked = { start, end: start + s.length, index };
  }

  up(): void {
    this.begin();
    if (this.hist === 0) return;
    if (this.hist === this.history.length) this.draft = this.text;
    this.hist--;
    this.set(this.history[this.hist]);
  }

  down(): void {
    this.begin();
    if (this.hist >= this.history.length) return;
    this.hist++;
    this.set(this.hist === this.history.length ? this.draft : this.history[this.hist]);
  }

  /** Enter: returns the line and remembers it. */
  submit(): string {
    this.begin();
    this.endSearch();
    const line = this.text;
    if (line.trim() !== '' && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      if (this.history.length > this.maxHistory) this.history.shift();
    }
    this.hist = this.history.length;
    this.draft = '';
    this.set('');
    return line;
  }

  // ---- Ctrl-R: reverse incremental search through the history ---------------------------------

  /** True while Ctrl-R is searching: keys go to the search (see app-input.ts). */
  get searching(): boolean {
    return this.search !== undefined;
  }

  /** What the input line shows before the text while searching. */
  get searchPrompt(): string {
    return this.search?.prompt() ?? '';
  }

  /** Ctrl-R: start searching, or find the next older match. */
  searchBack(): void {
    this.begin();
    if (this.search) this.show(this.search.older());
    else this.search = new HistorySearch(this.history, { text: this.text, cursor: this.cursor }, this.lastQuery);
  }

  /** A character typed while searching: the query grows. */
  searchType(s: string): void {
    this.show(this.search?.type(s));
  }

  /** Backspace while searching: the query shrinks. */
  searchErase(): void {
    this.show(this.search?.erase());
  }

  /** Esc or Ctrl-G: the line as it was before the search. */
  searchCancel(): void {
    const s = this.endSearch();
    if (s) this.set(s.saved.text, s.saved.cursor);
  }

  /** Any other key: the match stays in the line, to edit or send. */
  searchAccept(): void {
    this.endSearch();
    this.hist = this.history.length;
  }

  private endSearch(): HistorySearch | undefined {
    const s = this.search;
    this.search = undefined;
    if (s?.query) this.lastQuery = s.query;
    return s;
  }

  private show(found: { text: string; cursor: number } | undefined): void {
    if (found) this.set(found.text, found.cursor);
  }

  /**
   * Tab: one candidate completes it (plus a space); several insert the first and each further
   * Tab replaces it with the next. Returns the candidates (for showing them), [] when none.
   */
  tab(complete: Completer): string[] {
    if (this.cycle) {
      const c = this.cycle;
      c.index = (c.index + 1) % c.candidates.length;
      const word = c.candidates[c.index];
      this.set(this.text.slice(0, c.start) + word + c.suffix, c.start + word.length);
      return c.candidates;
    }
    this.begin();
    const { start, candidates } = complete(this.text, this.cursor);
    if (candidates.length === 0) return [];
    const suffix = this.text.slice(this.cursor);
    if (candidates.length === 1) {
      const word = candidates[0] + (suffix.startsWith(' ') ? '' : ' ');
      this.set(this.text.slice(0, start) + word + suffix, start + word.length);
      return candidates;
    }
    this.cycle = { start, candidates, index: 0, suffix };
    this.set(this.text.slice(0, start) + candidates[0] + suffix, start + candidates[0].length);
    return candidates;
  }
}
