// The input line: editing keys, history and Tab completion, as plain state (the Input component
// maps keys onto it). Completion comes from CommandEngine.completeAt, cycling on repeated Tab.
import type { Completion } from '../commands/engine.js';

export type Completer = (line: string, cursor: number) => Completion;

export class LineEditor {
  text = '';
  cursor = 0;
  private history: string[] = [];
  /** Index into history while browsing with Up/Down; history.length = the line being typed. */
  private hist = 0;
  private draft = '';
  private cycle?: { start: number; candidates: string[]; index: number; suffix: string };

  constructor(private readonly maxHistory = 1000) {}

  private set(text: string, cursor = text.length): void {
    this.text = text;
    this.cursor = Math.max(0, Math.min(cursor, text.length));
  }

  /** Every key but Tab ends a completion cycle. */
  private endCycle(): void {
    this.cycle = undefined;
  }

  insert(s: string): void {
    this.endCycle();
    this.set(this.text.slice(0, this.cursor) + s + this.text.slice(this.cursor), this.cursor + s.length);
  }

  left(): void {
    this.endCycle();
    this.cursor = Math.max(0, this.cursor - 1);
  }

  right(): void {
    this.endCycle();
    this.cursor = Math.min(this.text.length, this.cursor + 1);
  }

  home(): void {
    this.endCycle();
    this.cursor = 0;
  }

  end(): void {
    this.endCycle();
    this.cursor = this.text.length;
  }

  backspace(): void {
    this.endCycle();
    if (this.cursor === 0) return;
    this.set(this.text.slice(0, this.cursor - 1) + this.text.slice(this.cursor), this.cursor - 1);
  }

  del(): void {
    this.endCycle();
    this.set(this.text.slice(0, this.cursor) + this.text.slice(this.cursor + 1), this.cursor);
  }

  /** Ctrl-U: delete from the start of the line to the cursor. */
  killToStart(): void {
    this.endCycle();
    this.set(this.text.slice(this.cursor), 0);
  }

  /** Ctrl-W: delete the word before the cursor (and the spaces after it). */
  killWord(): void {
    this.endCycle();
    const before = this.text.slice(0, this.cursor);
    const m = /\S*\s*$/.exec(before);
    const start = this.cursor - (m ? m[0].length : 0);
    this.set(this.text.slice(0, start) + this.text.slice(this.cursor), start);
  }

  up(): void {
    this.endCycle();
    if (this.hist === 0) return;
    if (this.hist === this.history.length) this.draft = this.text;
    this.hist--;
    this.set(this.history[this.hist]);
  }

  down(): void {
    this.endCycle();
    if (this.hist >= this.history.length) return;
    this.hist++;
    this.set(this.hist === this.history.length ? this.draft : this.history[this.hist]);
  }

  /** Enter: returns the line and remembers it. */
  submit(): string {
    this.endCycle();
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
