// The masked password prompt of the TUI (as Profanity asks at /connect): while it is open, keys
// go to it, the input line shows one '*' per character, Enter answers, Esc cancels. The answer
// is handed to whoever asked and kept nowhere else.
import type { KeyPress } from './keys.js';

export class SecretPrompt {
  private pending?: { label: string; resolve: (answer: string | undefined) => void };
  private chars: string[] = [];
  private readonly listeners = new Set<() => void>();

  /** Opens the prompt; resolves with what was typed, or undefined when cancelled. */
  ask(label: string): Promise<string | undefined> {
    this.pending?.resolve(undefined); // one question at a time: a new one replaces the old
    this.chars = [];
    return new Promise((resolve) => {
      this.pending = { label, resolve };
      this.changed();
    });
  }

  get active(): boolean {
    return this.pending !== undefined;
  }

  get label(): string {
    return this.pending?.label ?? '';
  }

  /** What the input line shows: a star per character, never the text. */
  get masked(): string {
    return '*'.repeat(this.chars.length);
  }

  /** A key while open: true when the prompt took it. */
  key(k: KeyPress): boolean {
    const p = this.pending;
    if (!p) return false;
    if (k.name === 'return' || k.name === 'enter') return this.close(this.chars.join(''));
    if (k.name === 'escape') return this.close(undefined);
    if (k.name === 'backspace') this.chars.pop();
    else if (k.ctrl && k.name === 'u') this.chars = [];
    else if (k.text !== undefined && !k.ctrl && !k.meta) this.chars.push(...k.text);
    // A pasted password: its first line, without control characters (Enter still answers).
    else if (k.paste !== undefined) this.chars.push(...k.paste.split(/[\r\n]/)[0].replace(/[\u0000-\u001f\u007f]/g, ''));
    else return true; // every other key is swallowed: nothing leaks into the command line
    this.changed();
    return true;
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private close(answer: string | undefined): true {
    const p = this.pending;
    this.pending = undefined;
    this.chars = [];
    p?.resolve(answer);
    this.changed();
    return true;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
