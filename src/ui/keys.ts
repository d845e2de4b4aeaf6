// Terminal key decoding. Ink's useInput hides F-keys and reports Backspace (0x7f) as Delete, so
// raw input goes through Node's own keypress parser (readline.emitKeypressEvents), which names
// every key the TUI binds. It runs synchronously on each write.
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
  sequence: string;
}

export function createKeyDecoder(onKey: (k: KeyPress) => void): { write(chunk: string): void; close(): void } {
  const stream = new PassThrough();
  readline.emitKeypressEvents(stream);
  stream.on('keypress', (str: string | undefined, key: { name?: string; ctrl?: boolean; meta?: boolean; shift?: boolean; sequence?: string } | undefined) => {
    const sequence = key?.sequence ?? str ?? '';
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
      stream.write(chunk);
    },
    close: () => {
      stream.destroy();
    },
  };
}
