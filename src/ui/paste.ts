// Bracketed paste: pasted text is never run as commands. One line goes into the input line at the
// caret (to edit or send with Enter, as typed text); several lines become one multi-line message
// to the current window, in that window's encryption: at once up to PASTE_CONFIRM_LINES lines,
// above that only after the user confirms (Enter sends, Esc cancels), the text shown first.
import type { LineEditor } from './line-editor.js';

/** A paste of more lines than this is shown and waits for Enter before it is sent. */
export const PASTE_CONFIRM_LINES = 5;

/** Line ends as one '\n'; other control characters (ESC above all) dropped; no trailing newlines. */
export function cleanPaste(raw: string): string {
  return raw
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(/\n+$/, '');
}

export type PasteOutcome = { kind: 'inserted' } | { kind: 'send'; text: string } | { kind: 'confirm'; text: string };

/**
 * What a paste does to the line being edited: the pasted text lands at the caret. One line stays
 * in the input line; when the result has more lines, the whole of it is a message (the caller
 * sends it or holds it for confirmation, and empties the input line).
 */
export function applyPaste(raw: string, editor: LineEditor): PasteOutcome {
  const pasted = cleanPaste(raw);
  if (!pasted.includes('\n')) {
    if (pasted !== '') editor.insert(pasted);
    return { kind: 'inserted' };
  }
  const text = editor.text.slice(0, editor.cursor) + pasted + editor.text.slice(editor.cursor);
  return { kind: lineCount(text) > PASTE_CONFIRM_LINES ? 'confirm' : 'send', text };
}

export function lineCount(text: string): number {
  return text.split('\n').length;
}

/** A multi-line paste waiting for Enter (send) or Esc (cancel). */
export class PendingPaste {
  text?: string;
  /** The input line as it was, given back on cancel. */
  private saved?: { text: string; cursor: number };

  /** Holds `text`; the input line is emptied meanwhile. */
  hold(text: string, editor: LineEditor): void {
    this.text = text;
    this.saved = { text: editor.text, cursor: editor.cursor };
    editor.load('');
  }

  /** Enter: the text to send, and nothing pending any more. */
  take(): string | undefined {
    const t = this.text;
    this.text = undefined;
    this.saved = undefined;
    return t;
  }

  /** Esc: nothing is sent and the input line is as it was before the paste. */
  cancel(editor: LineEditor): void {
    const s = this.saved;
    this.text = undefined;
    this.saved = undefined;
    if (s) editor.load(s.text, s.cursor);
  }
}
