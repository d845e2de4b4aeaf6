// Terminal key decoding. Ink's useInput hides F-keys and reports Backspace (0x7f) as Delete, so
// raw input goes through Node's own keypress parser (readline.emitKeypressEvents), which names
// every key the TUI binds. It runs synchronously on each write. A bracketed paste (the terminal
// wraps pasted text in ESC[200~ … ESC[201~ once the TUI asks with ESC[?2004h) arrives as one
// key named 'paste' carrying the text: its newlines are never Enter.
import { PassThrough } from 'node:stream';
import * as readline from 'node:readline';

export interface KeyPress {
  /** 'up', 'f1', 'backspace', 'a', … (undefined for plain non-ASCII text). */
  name?: string;
  ctrl: boolean;
  meta: boolean;
  shift: boolean;
  /** Printable text to insert, when the key is one. */
  text?: string;
  /** The pasted text, raw (name 'paste'). */
  paste?: string;
  sequence: string;
}

export function createKeyDecoder(onKey: (k: KeyPress) => void): { write(chunk: string): void; close(): void } {
  const stream = new PassThrough();
  readline.emitKeypressEvents(stream);
  /** The pieces of a paste under way. */
  let pasting: string[] | undefined;
  stream.on('keypress', (str: string | undefined, key: { name?: string; ctrl?: boolean; meta?: boolean; shift?: boolean; sequence?: string } | undefined) => {
    const sequence = key?.sequence ?? str ?? '';
    if (key?.name === 'paste-start') {
      pasting = [];
      return;
    }
    if (pasting) {
      if (key?.name !== 'paste-end') return void pasting.push(sequence);
      const paste = pasting.join('');
      pasting = undefined;
      return onKey({ name: 'paste', ctrl: false, meta: false, shift: false, paste, sequence: paste });
    }
    // ESC ESC [ D: Alt+Left in some terminals (the parser drops the meta flag there).
    const meta = !!key?.meta || sequence.startsWith('\u001b\u001b');
    const ctrl = !!key?.ctrl;
    const printable = str !== undefined && !ctrl && !meta && str.length > 0 && !/[\u0000-\u001f\u007f]/.test(str);
    onKey({
      ...(key?.name ? { name: key.name } : {}),
      ctrl,
      meta,
      shift: !!key?.shift,
      ...(printable ? { text: str } : {}),
      sequence,
    });
  });
  return {
    write: (chunk) => {
      // Ink's own parser hands over a lone ESC only once no sequence follows it: it is the Esc
      // key now, not after the 500 ms Node's parser waits for a sequence to complete.
      if (chunk === '\u001b' && !pasting) return onKey({ name: 'escape', ctrl: false, meta: false, shift: false, sequence: chunk });
      stream.write(chunk);
    },
    close: () => {
      stream.destroy();
    },
  };
}
