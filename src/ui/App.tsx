// The full-screen TUI: title bar, the current window's visible rows, status bar, input line.
// Everything shown comes from the WindowManager; keys go to the LineEditor or switch windows.
import { Box, Text, useStdin, useStdout } from 'ink';
import { memo, useEffect, useMemo, useReducer, useRef, useSyncExternalStore } from 'react';
import type { WindowManager } from './windows.js';
import { createKeyDecoder, type KeyPress } from './keys.js';
import { LineEditor } from './line-editor.js';
import type { SecretPrompt } from './secret-prompt.js';
import { createLineRunner, createTypingReporter, editorKey, pasteKey, pendingPasteKey, windowKey } from './app-input.js';
import { PendingPaste } from './paste.js';
import { maxInputRows } from './input-layout.js';
import { EditorTicker, InputLine, PastePanel, inputHeight, inputState, pastePreview } from './input-line.js';
import { loadTextWidth } from './text-width.js';
import { encryptionLabel, loadNickColours, statusParts, titleSegs, visibleRows, type Row, type Seg } from './view-model.js';
import { DEFAULT_THEME, textProps, type Theme } from './theme.js';

export type { AppEngine } from './app-input.js';
import type { AppEngine } from './app-input.js';

export interface AppProps {
  windows: WindowManager;
  engine: AppEngine;
  /** /quit or Ctrl-C. */
  onQuit: () => void;
  /** Fixed size (tests); otherwise the terminal's, following resizes. */
  rows?: number;
  columns?: number;
  now?: () => number;
  /** The masked password prompt (tui.ts asks it at /connect when no password source is set). */
  secret?: SecretPrompt;
  /** XEP-0085: what the user is doing in a chat window (the core skips repeats). */
  onTyping?: (jid: string, state: 'composing' | 'paused' | 'active') => void;
  /** The theme (default: the built-in default theme). */
  themes?: ThemeSource;
}

/** Rows other than the window body and the input line: title, status. */
const CHROME = 2;

function useTerminalSize(rowsProp?: number, colsProp?: number): { rows: number; columns: number } {
  const { stdout } = useStdout();
  const [, redraw] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    stdout.on('resize', redraw);
    return () => {
      stdout.off('resize', redraw);
    };
  }, [stdout]);
  return { rows: rowsProp ?? stdout.rows ?? 24, columns: colsProp ?? stdout.columns ?? 80 };
}

/** Re-renders at each minute boundary so the status bar clock stays right. */
function useMinuteClock(now: () => number): number {
  const [, tick] = useReducer((x: number) => x + 1, 0);
  const t = now();
  useEffect(() => {
    const timer = setTimeout(tick, 60_000 - (t % 60_000) + 50);
    timer.unref?.();
    return () => clearTimeout(timer);
  }, [Math.floor(t / 60_000)]);
  return t;
}

/** What the App draws with: the theme in use, and a way to hear that it changed. */
export interface ThemeSource {
  readonly theme: Theme;
  readonly version: number;
  subscribe(l: () => void): () => void;
}

const FIXED_THEME: ThemeSource = { theme: DEFAULT_THEME, version: 0, subscribe: () => () => undefined };

/** Styled pieces inside one <Text>: each piece in its theme style, or a nick in its colour. */
function Pieces({ segs, theme }: { segs: readonly Seg[]; theme: Theme }) {
  return (
    <>
      {segs.map((s, i) =>
        s.nick !== undefined ? (
          <Text key={i} color={`ansi256(${s.nick})`}>
            {s.text}
          </Text>
        ) : s.style ? (
          <Text key={i} {...textProps(theme.styles[s.style])}>
            {s.text}
          </Text>
        ) : (
          s.text
        ),
      )}
    </>
  );
}

/** A row's text cut into its spans (the rest unstyled). */
export function rowSegs(r: Row): Seg[] {
  if (r.spans.length === 0) return [{ text: r.text === '' ? ' ' : r.text }];
  const out: Seg[] = [];
  let at = 0;
  for (const sp of r.spans) {
    if (sp.start > at) out.push({ text: r.text.slice(at, sp.start) });
    out.push({ text: r.text.slice(sp.start, sp.start + sp.length), ...(sp.style ? { style: sp.style } : {}), ...(sp.nick !== undefined ? { nick: sp.nick } : {}) });
    at = sp.start + sp.length;
  }
  if (at < r.text.length) out.push({ text: r.text.slice(at) });
  return out;
}

/** Pieces padded with spaces to `columns` (a bar's background reaches the right edge). */
function padded(segs: Seg[], columns: number): Seg[] {
  const len = segs.reduce((n, s) => n + s.text.length, 0);
  return len >= columns ? segs : [...segs, { text: ' '.repeat(columns - len) }];
}

export function TitleBar({ windows, columns, theme }: { windows: WindowManager; columns: number; theme: Theme }) {
  return (
    <Box height={1} width={columns}>
      <Text wrap="truncate-end" {...textProps(theme.styles.titlebar)}>
        <Pieces segs={padded([{ text: ' ' }, ...titleSegs(windows)], columns)} theme={theme} />
      </Text>
    </Box>
  );
}

/** The current window's visible rows (useBodyRows), drawn in the theme's styles. */
export const WindowBody = memo(function WindowBody({ rows, height, columns, theme }: { rows: Row[]; height: number; columns: number; theme: Theme }) {
  return (
    // No overflow="hidden": the rows already fit (wrapped to width, at most height of them), and
    // Ink's clipping would re-slice every row's ANSI text on every frame.
    <Box flexDirection="column" height={height} width={columns}>
      {rows.map((r, i) => (
        <Text key={i} wrap="truncate-end" {...textProps(r.base ? theme.styles[r.base] : undefined)}>
          <Pieces segs={rowSegs(r)} theme={theme} />
        </Text>
      ))}
    </Box>
  );
});

export function StatusBar({ windows, columns, now, theme, below }: { windows: WindowManager; columns: number; now: number; theme: Theme; below?: number }) {
  const p = statusParts(windows, now, below);
  const segs: Seg[] = [{ text: p.time, style: 'statusbar.time' }];
  for (const t of p.tags) {
    segs.push({ text: ' ' }, { text: t.text, ...(t.current ? { style: 'statusbar.current' as const } : t.unread ? { style: 'statusbar.unread' as const } : {}) });
  }
  if (p.right.length) segs.push({ text: ' ' }, ...p.right);
  return (
    <Box height={1} width={columns}>
      <Text wrap="truncate-end" {...textProps(theme.styles.statusbar)}>
        <Pieces segs={padded(segs, columns)} theme={theme} />
      </Text>
    </Box>
  );
}

export function App({ windows, engine, onQuit, rows: rowsProp, columns: colsProp, now = Date.now, onTyping, secret, themes = FIXED_THEME }: AppProps) {
  const version = useSyncExternalStore(
    (l) => windows.subscribe(l),
    () => windows.version,
  );
  useSyncExternalStore(
    (l) => themes.subscribe(l),
    () => themes.version,
  );
  const theme = themes.theme;
  const { rows, columns } = useTerminalSize(rowsProp, colsProp);
  windows.screen = { columns, rows };
  const time = useMinuteClock(now);
  const editor = useRef(new LineEditor()).current;
  const pending = useRef(new PendingPaste()).current;
  // Keys re-render only the input line (not the window body): see InputLine. The App follows
  // only what changes the layout: the input line's height and a paste waiting to be confirmed.
  const ticker = useRef(new EditorTicker()).current;
  const maxRows = maxInputRows(rows);
  const inputRows = useSyncExternalStore(ticker.subscribe, () => inputHeight(inputState(editor, secret), columns, maxRows));
  const pasteText = useSyncExternalStore(ticker.subscribe, () => pending.text);
  const pasteRows = pasteText === undefined ? [] : pastePreview(pasteText, [windows.current().name, encryptionLabel(windows.current())].filter(Boolean).join(' '), rows);
  const bodyHeight = Math.max(1, rows - CHROME - inputRows - pasteRows.length);
  const latest = useRef({ bodyHeight, onQuit, engine, onTyping });
  latest.current = { bodyHeight, onQuit, engine, onTyping };
  const measured = useMeasuredText();
  const body = useBodyRows(windows, bodyHeight, columns, version + measured, theme);
  useKeys({ windows, editor, pending, ticker, latest, ...(secret ? { secret } : {}) });

  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <TitleBar windows={windows} columns={columns} theme={theme} />
      <WindowBody rows={body.rows} height={bodyHeight} columns={columns} theme={theme} />
      <StatusBar windows={windows} columns={columns} now={time} theme={theme} below={body.below} />
      {pasteRows.length > 0 ? <PastePanel rows={pasteRows} columns={columns} /> : null}
      <InputLine editor={editor} columns={columns} screenRows={rows} maxRows={maxRows} ticker={ticker} {...(secret ? { secret } : {})} />
    </Box>
  );
}

/**
 * The current window's visible rows, and how many stored lines are under the last one shown.
 * Memoized on the window state (`version` changes with every window change), so a keystroke or
 * the clock never re-wraps the body.
 */
function useBodyRows(windows: WindowManager, height: number, columns: number, version: number, theme: Theme): { rows: Row[]; below: number } {
  const w = windows.current();
  return useMemo(() => {
    const rows = visibleRows(w.lines, w.scroll, height, columns, { room: w.room === true, nickColours: theme.nickColours });
    const last = rows.reduce((m, r) => Math.max(m, r.line), -1);
    return { rows, below: rows.length === 0 ? w.scroll : w.lines.length - 1 - last };
  }, [w, w.lines, w.lines.length, w.scroll, height, columns, version, theme]);
}

/**
 * The exact measure of wide characters and the nick colours arrive after the first frame: the
 * body is drawn again once they are there. Returns a counter that changes then.
 */
function useMeasuredText(): number {
  const [measured, remeasure] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    let live = true;
    void Promise.all([loadTextWidth(), loadNickColours()]).then(() => {
      if (live) remeasure();
    });
    return () => {
      live = false;
    };
  }, []);
  return measured;
}

interface Latest {
  bodyHeight: number;
  onQuit: () => void;
  engine: AppEngine;
  onTyping: AppProps['onTyping'];
}

/** Raw keys from Ink's stdin, decoded, to the password prompt, a paste, the windows or the line. */
function useKeys({ windows, editor, pending, ticker, latest, secret }: { windows: WindowManager; editor: LineEditor; pending: PendingPaste; ticker: EditorTicker; latest: { current: Latest }; secret?: SecretPrompt }) {
  const { internal_eventEmitter: input, setRawMode } = useStdin();
  useEffect(() => {
    setRawMode(true);
    const engine = () => latest.current.engine;
    const runner = createLineRunner(windows, engine, () => latest.current.onQuit());
    const typing = createTypingReporter(windows, editor, (jid, state) => latest.current.onTyping?.(jid, state));
    const offSecret = secret?.subscribe(() => ticker.bump());
    const say = (text: string) => runner.say(text);
    // Keys decoded from one chunk of input are drawn once, after the chunk (a burst of typed-ahead
    // text is not thousands of frames); a key decoded later (a lone Esc) is drawn at once.
    let inChunk = false;
    let dirty = false;
    const redraw = () => {
      if (inChunk) dirty = true;
      else ticker.bump();
    };
    const onKey = (k: KeyPress) => {
      if (k.ctrl && k.name === 'c') return latest.current.onQuit();
      if (secret?.key(k)) return; // a password being typed: nothing else sees the keys
      if (pendingPasteKey(k, editor, pending, say) || pasteKey(k, editor, pending, windows, say)) return redraw();
      if (windowKey(k, windows, Math.max(1, latest.current.bodyHeight - 1))) return;
      if (editorKey(k, editor, (line) => runner.run(line), engine)) redraw();
    };
    const decoder = createKeyDecoder((k) => {
      const before = editor.text;
      onKey(k);
      if (editor.text !== before) typing.edited();
    });
    const onInput = (data: string) => {
      inChunk = true;
      try {
        decoder.write(data);
      } finally {
        inChunk = false;
      }
      if (dirty) {
        dirty = false;
        ticker.bump();
      }
    };
    input.on('input', onInput);
    return () => {
      input.off('input', onInput);
      decoder.close();
      typing.dispose();
      offSecret?.();
      setRawMode(false);
    };
  }, [input, setRawMode, windows, editor, pending, ticker, secret, latest]);
}
