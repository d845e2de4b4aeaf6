// What the keys of the TUI do, apart from React: window keys (Alt+N, F-keys, PageUp…), line-editing
// keys, running a typed line, and the chat state the typing implies. App.tsx wires them to Ink.
import type { WindowManager } from './windows.js';
import type { KeyPress } from './keys.js';
import type { LineEditor } from './line-editor.js';
import type { Completion, ExecResult } from '../commands/engine.js';

export interface AppEngine {
  execute(line: string): Promise<ExecResult>;
  completeAt(line: string, cursor?: number): Completion;
}

/** Seconds of no typing after which a composing chat state turns into paused. */
const PAUSE_AFTER_MS = 5000;

export type ChatStateSent = 'composing' | 'paused' | 'active';

/** Alt+N, F-keys, Alt+Left/Right, Alt+a, PageUp/PageDown. True when the key was one of them. */
export function windowKey(k: KeyPress, windows: WindowManager, page: number): boolean {
  const n = k.name;
  if (k.meta && n && /^[0-9]$/.test(n)) {
    windows.focus(n === '0' ? 10 : Number(n));
    return true;
  }
  const f = n ? /^f([1-9]|10)$/.exec(n) : null;
  if (f) {
    windows.focus(Number(f[1]));
    return true;
  }
  if (k.meta && n === 'left') windows.cycle(-1);
  else if (k.meta && n === 'right') windows.cycle(1);
  else if (k.meta && n === 'a') windows.nextUnread();
  else if (n === 'pageup') windows.scrollBy(page);
  else if (n === 'pagedown') windows.scrollBy(-page);
  else return false;
  return true;
}

const EDIT_KEYS: Record<string, (e: LineEditor) => void> = {
  up: (e) => e.up(),
  down: (e) => e.down(),
  left: (e) => e.left(),
  right: (e) => e.right(),
  home: (e) => e.home(),
  end: (e) => e.end(),
  backspace: (e) => e.backspace(),
  delete: (e) => e.del(),
};

const CTRL_KEYS: Record<string, (e: LineEditor) => void> = {
  a: (e) => e.home(),
  e: (e) => e.end(),
  u: (e) => e.killToStart(),
  w: (e) => e.killWord(),
  h: (e) => e.backspace(),
};

/**
 * A key for the input line: editing, history, completion, Enter. True when the line (or its
 * cursor) may have changed and needs drawing.
 */
export function editorKey(k: KeyPress, editor: LineEditor, run: (line: string) => void, engine: () => AppEngine): boolean {
  const n = k.name;
  if (k.meta) return false; // unbound Alt combination: never typed into the line
  if (k.ctrl) {
    const f = n ? CTRL_KEYS[n] : undefined;
    f?.(editor);
    return f !== undefined;
  }
  if (n === 'return' || n === 'enter') run(editor.submit());
  else if (n === 'tab') editor.tab((l, c) => engine().completeAt(l, c));
  else if (n && EDIT_KEYS[n]) EDIT_KEYS[n](editor);
  else if (k.text !== undefined) editor.insert(k.text);
  else return false;
  return true;
}

/**
 * Runs typed lines one after another, in the order typed (a message typed during /connect waits).
 * Plain text in the console is refused: there is nobody to send it to.
 */
export function createLineRunner(windows: WindowManager, engine: () => AppEngine, onQuit: () => void): (line: string) => void {
  let queue: Promise<void> = Promise.resolve();
  return (line) => {
    const isCommand = line.trimStart().startsWith('/');
    if (!isCommand && line.trim() !== '' && windows.current().kind === 'console') {
      windows.show({ event: 'error', message: 'this is the console: open a chat with /msg JID, or switch with /win N' });
      return;
    }
    queue = queue
      .then(() => engine().execute(line))
      .then(
        (r) => {
          if (r.quit) onQuit();
        },
        (e: unknown) => windows.show({ event: 'error', message: e instanceof Error ? e.message : String(e) }),
      );
  };
}

/**
 * After each edit, tells the current chat whether a message is being written (not for /commands):
 * composing, paused after a while, active when the line is emptied or another window is chosen.
 * Only changes are told.
 */
export function createTypingReporter(
  windows: WindowManager,
  editor: LineEditor,
  tellCore: (jid: string, state: ChatStateSent) => void,
): { edited(): void; dispose(): void } {
  let pauseTimer: NodeJS.Timeout | undefined;
  const told = new Map<string, ChatStateSent>();
  const tell = (jid: string, state: ChatStateSent) => {
    if (told.get(jid) === state) return;
    told.set(jid, state);
    tellCore(jid, state);
  };
  return {
    edited() {
      const jid = windows.current().jid;
      clearTimeout(pauseTimer);
      for (const [other, state] of told) if (other !== jid && state !== 'active') tell(other, 'active');
      if (!jid) return;
      if (editor.text.trim() !== '' && !editor.text.startsWith('/')) {
        tell(jid, 'composing');
        pauseTimer = setTimeout(() => tell(jid, 'paused'), PAUSE_AFTER_MS);
        pauseTimer.unref?.();
      } else if (told.has(jid)) tell(jid, 'active');
    },
    dispose() {
      clearTimeout(pauseTimer);
    },
  };
}
