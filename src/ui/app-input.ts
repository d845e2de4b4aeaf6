// What the keys of the TUI do, apart from React: window keys (Alt+N, F-keys, PageUp…), line-editing
// keys (readline's), a paste, running a typed line, and the chat state the typing implies. App.tsx
// wires them to Ink.
import type { WindowManager } from './windows.js';
import type { KeyPress } from './keys.js';
import type { LineEditor } from './line-editor.js';
import { applyPaste, type PendingPaste } from './paste.js';
import type { Completion, ExecResult } from '../commands/engine.js';

export interface AppEngine {
  execute(line: string): Promise<ExecResult>;
  /** Sends `text` to the current chat as a message, never as a command. */
  say(text: string): Promise<ExecResult>;
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
  else if (n === 'pageup') windows.scrollBy(page, page + 1);
  else if (n === 'pagedown') windows.scrollBy(-page, page + 1);
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
  b: (e) => e.left(),
  f: (e) => e.right(),
  d: (e) => e.del(),
  h: (e) => e.backspace(),
  k: (e) => e.killToEnd(),
  u: (e) => e.killToStart(),
  w: (e) => e.killWord(),
  y: (e) => e.yank(),
  r: (e) => e.searchBack(),
  left: (e) => e.wordLeft(),
  right: (e) => e.wordRight(),
};

/** Alt combinations of the line (Alt+N, Alt+Left/Right and Alt+a switch windows: windowKey). */
const META_KEYS: Record<string, (e: LineEditor) => void> = {
  b: (e) => e.wordLeft(),
  f: (e) => e.wordRight(),
  d: (e) => e.killWordForward(),
  y: (e) => e.yankPop(),
  backspace: (e) => e.killWordBack(),
};

/**
 * A key for the input line: editing, history, completion, Enter. True when the line (or its
 * cursor) may have changed and needs drawing.
 */
export function editorKey(k: KeyPress, editor: LineEditor, run: (line: string) => void, engine: () => AppEngine): boolean {
  if (editor.searching) {
    if (searchKey(k, editor, run)) return true;
    editor.searchAccept(); // any other key keeps the match in the line and does its own work
    lineKey(k, editor, run, engine);
    return true;
  }
  return lineKey(k, editor, run, engine);
}

function lineKey(k: KeyPress, editor: LineEditor, run: (line: string) => void, engine: () => AppEngine): boolean {
  const n = k.name;
  const table = k.meta ? META_KEYS : k.ctrl ? CTRL_KEYS : undefined;
  if (table) {
    // An unbound Alt or Ctrl combination is never typed into the line.
    const f = n ? table[n] : undefined;
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

/** Keys during Ctrl-R; false for a key that ends the search and then acts as usual. */
function searchKey(k: KeyPress, editor: LineEditor, run: (line: string) => void): boolean {
  const n = k.name;
  if (k.ctrl && n === 'r') editor.searchBack();
  else if ((k.ctrl && n === 'g') || n === 'escape') editor.searchCancel();
  else if (n === 'backspace' || (k.ctrl && n === 'h')) editor.searchErase();
  else if (n === 'return' || n === 'enter') run(editor.submit());
  else if (k.text !== undefined && !k.ctrl && !k.meta) editor.searchType(k.text);
  else return false;
  return true;
}

/**
 * A bracketed paste: one line goes into the input line; more lines are one message to the current
 * chat (never a command), sent at once or, when long, held for Enter/Esc. True when handled.
 */
export function pasteKey(k: KeyPress, editor: LineEditor, pending: PendingPaste, windows: WindowManager, say: (text: string) => void): boolean {
  if (k.paste === undefined) return false;
  const outcome = applyPaste(k.paste, editor);
  if (outcome.kind === 'inserted') return true;
  if (windows.current().kind === 'console') {
    windows.show({ event: 'error', message: 'this is the console: a pasted text is a message, open a chat with /msg JID first' });
    return true;
  }
  if (outcome.kind === 'send') {
    editor.load('');
    say(outcome.text);
  } else pending.hold(outcome.text, editor);
  return true;
}

/** Keys while a long paste waits: Enter sends it, Esc or Ctrl-G drops it, nothing else acts. */
export function pendingPasteKey(k: KeyPress, editor: LineEditor, pending: PendingPaste, say: (text: string) => void): boolean {
  if (pending.text === undefined) return false;
  if (k.name === 'return' || k.name === 'enter') {
    const text = pending.take();
    if (text !== undefined) say(text);
  } else if (k.name === 'escape' || (k.ctrl && k.name === 'g')) pending.cancel(editor);
  return true;
}

export interface LineRunner {
  /** A typed line: a command, or a message to the current chat. */
  run(line: string): void;
  /** Text that is a message whatever it starts with (a paste). */
  say(text: string): void;
}

/**
 * Runs typed lines and pasted messages one after another, in the order given (a message typed
 * during /connect waits). Plain text in the console is refused: there is nobody to send it to.
 */
export function createLineRunner(windows: WindowManager, engine: () => AppEngine, onQuit: () => void): LineRunner {
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (job: () => Promise<ExecResult>) => {
    queue = queue.then(job).then(
      (r) => {
        if (r.quit) onQuit();
      },
      (e: unknown) => windows.show({ event: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
  };
  const refuseInConsole = (text: string): boolean => {
    if (text.trim() === '' || windows.current().kind !== 'console') return false;
    windows.show({ event: 'error', message: 'this is the console: open a chat with /msg JID, or switch with /win N' });
    return true;
  };
  return {
    run(line) {
      if (!line.trimStart().startsWith('/') && refuseInConsole(line)) return;
      enqueue(() => engine().execute(line));
    },
    say(text) {
      if (refuseInConsole(text)) return;
      enqueue(() => engine().say(text));
    },
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
      // Rooms get no chat states: sent to a room's JID they would only bounce.
      const w = windows.current();
      const jid = w.room ? undefined : w.jid;
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
