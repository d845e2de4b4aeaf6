// The input line at the bottom of the TUI, and the long-paste confirmation above it. The line
// wraps over up to maxInputRows rows (input-layout.ts) and the real terminal cursor is put at its
// caret, so what is typed next appears exactly where the user sees the cursor.
import { Box, Text, useCursor, useStdout } from 'ink';
import { useRef, useSyncExternalStore } from 'react';
import type { LineEditor } from './line-editor.js';
import type { SecretPrompt } from './secret-prompt.js';
import { viewInput, wrapInput, type Wrapped } from './input-layout.js';
import { printable } from './view-model.js';

/** A change counter the input line subscribes to: editing re-renders the input line only. */
export class EditorTicker {
  version = 0;
  private readonly listeners = new Set<() => void>();
  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  snapshot = (): number => this.version;
  bump(): void {
    this.version++;
    for (const l of this.listeners) l();
  }
}

const noSubscribe = () => () => undefined;
const zero = () => 0;

export interface InputState {
  prompt: string;
  text: string;
  cursor: number;
}

/** What the input line holds now: the password prompt (masked), a Ctrl-R search, or the line. */
export function inputState(editor: LineEditor, secret?: SecretPrompt): InputState {
  if (secret?.active) return { prompt: `${secret.label}: `, text: secret.masked, cursor: secret.masked.length };
  return { prompt: editor.searching ? editor.searchPrompt : '> ', text: editor.text, cursor: editor.cursor };
}

let last: { state: InputState; columns: number; wrapped: Wrapped } | undefined;

/** The state wrapped to `columns`, remembered: the App asks for the height, the line for the rows. */
export function wrappedInput(s: InputState, columns: number): Wrapped {
  const l = last;
  if (l?.columns === columns && l.state.cursor === s.cursor && l.state.text === s.text && l.state.prompt === s.prompt) return l.wrapped;
  const wrapped = wrapInput(s.prompt, s.text, s.cursor, columns);
  last = { state: s, columns, wrapped };
  return wrapped;
}

/** Rows the input line takes now. */
export function inputHeight(s: InputState, columns: number, maxRows: number): number {
  return Math.min(wrappedInput(s, columns).rows.length, Math.max(1, maxRows));
}

export interface InputLineProps {
  editor: LineEditor;
  columns: number;
  /** The screen's rows: the line is at its bottom, the cursor placed from there. */
  screenRows: number;
  maxRows: number;
  ticker?: EditorTicker;
  secret?: SecretPrompt;
}

export function InputLine({ editor, columns, screenRows, maxRows, ticker, secret }: InputLineProps) {
  useSyncExternalStore(ticker?.subscribe ?? noSubscribe, ticker?.snapshot ?? zero);
  const { stdout } = useStdout();
  const { setCursorPosition } = useCursor();
  const start = useRef(0);
  const s = inputState(editor, secret);
  const layout = viewInput(wrappedInput(s, columns), maxRows, start.current);
  start.current = layout.start;
  const height = layout.rows.length;
  // Ink moves the cursor up from the row below its output; a full-screen frame ends on its last
  // row instead (no newline after it), so the count is one row short there.
  const fullScreen = stdout.isTTY === true && screenRows >= stdout.rows;
  setCursorPosition({ x: layout.caret.col, y: screenRows - height + layout.caret.row + (fullScreen ? 1 : 0) });
  const boldPrompt = s.prompt !== '> ' && layout.start === 0 && layout.rows[0].startsWith(s.prompt);
  return (
    <Box flexDirection="column" height={height} width={columns}>
      {layout.rows.map((row, i) => (
        <Text key={i} wrap="truncate-end">
          {i === 0 && boldPrompt ? (
            <>
              <Text bold>{s.prompt}</Text>
              {row.slice(s.prompt.length)}
            </>
          ) : row === '' ? (
            ' '
          ) : (
            row
          )}
        </Text>
      ))}
    </Box>
  );
}

/** Rows of a long paste shown before it is sent: the text's first lines and how many follow. */
export function pastePreview(text: string, to: string, screenRows: number): string[] {
  const lines = text.split('\n');
  const room = Math.max(1, Math.floor(screenRows / 3) - 2);
  const shown = lines.slice(0, room).map((l) => `  ${printable(l)}`);
  const more = lines.length - shown.length;
  // The keys first: on a narrow screen the end of the row is cut.
  const head = `Enter sends the ${lines.length} pasted lines as one message, Esc cancels (to ${printable(to)})`;
  return [head, ...shown, ...(more > 0 ? [`  … ${more} more lines`] : [])];
}

export function PastePanel({ rows, columns }: { rows: string[]; columns: number }) {
  return (
    <Box flexDirection="column" height={rows.length} width={columns}>
      {rows.map((r, i) => (
        <Text key={i} wrap="truncate-end" {...(i === 0 ? { inverse: true, bold: true } : {})}>
          {r === '' ? ' ' : r}
        </Text>
      ))}
    </Box>
  );
}
