// Drives a real terminal program in a private tmux server: spawn it in a detached session of a
// fixed size, type with send-keys, read the screen with capture-pane. Used by the TUI end-to-end
// test, the demo smoke checks and bench/tui.ts.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import jsqrModule from 'jsqr';

const execFileP = promisify(execFile);

export const TMUX = process.env.XCHAT_TMUX ?? '/usr/bin/tmux';

export interface TmuxOptions {
  /** Socket name (-L): one private server per test run, so nothing touches the user's tmux. */
  socket?: string;
  width?: number;
  height?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface Tmux {
  socket: string;
  /** Pane id of the program (%N). */
  target: string;
  /** Keys by tmux name: 'Enter', 'M-1', 'C-c', 'PageUp'… */
  keys(...keys: string[]): Promise<void>;
  /** Literal text (no key-name lookup), without Enter. */
  type(text: string): Promise<void>;
  /** Literal text followed by Enter. */
  line(text: string): Promise<void>;
  /** The visible screen as plain text, one string per row (trailing blanks trimmed). */
  capture(): Promise<string>;
  /** The screen with its attributes (capture-pane -e): SGR codes for colour, bold, reverse video. */
  captureAttributes(): Promise<string>;
  /** Where the terminal's cursor is (0-based column and row) and whether it is shown. */
  cursor(): Promise<{ x: number; y: number; visible: boolean }>;
  /** The character in the cell under the cursor, as the terminal has it. */
  cursorCharacter(): Promise<string>;
  /** Pastes `text` as the terminal would (paste-buffer -p: bracketed when the program asked for it). */
  paste(text: string): Promise<void>;
  /** Polls the screen until `pred` holds; rejects after `timeoutMs` with the last screen. */
  waitFor(pred: RegExp | ((screen: string) => boolean), timeoutMs?: number, what?: string, pollMs?: number): Promise<string>;
  /** True once the program in the pane has exited (remain-on-exit keeps the pane to read). */
  dead(): Promise<boolean>;
  /** Kills the whole private tmux server (and with it the program). */
  kill(): Promise<void>;
}

let counter = 0;

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts `argv` in a new detached session. -u: the client speaks UTF-8 whatever the locale, so
 * capture-pane returns block and box characters instead of '_'. remain-on-exit keeps a crashed
 * program's last screen readable.
 */
export async function startTmux(argv: string[], opts: TmuxOptions = {}): Promise<Tmux> {
  const socket = opts.socket ?? `xchat-test-${process.pid}-${++counter}`;
  const base = ['-u', '-L', socket, '-f', '/dev/null'];
  const run = async (args: string[]): Promise<string> => (await execFileP(TMUX, [...base, ...args], { maxBuffer: 16 << 20 })).stdout;
  const envArgs = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const out = await run([
    'start-server', ';',
    'set-option', '-g', 'remain-on-exit', 'on', ';',
    // No status line of tmux's own: the pane is the whole screen, as in a plain terminal.
    'set-option', '-g', 'status', 'off', ';',
    'new-session', '-d', '-P', '-F', '#{pane_id}', '-s', 'main', '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 40),
    ...(opts.cwd ? ['-c', opts.cwd] : []),
    ...envArgs,
    argv.map(shellQuote).join(' '),
  ]);
  const target = out.trim().split('\n').pop()!;
  const capture = async () => {
    const text = await run(['capture-pane', '-p', '-t', target]);
    return text.split('\n').map((l) => l.replace(/\s+$/, '')).join('\n').replace(/\n+$/, '');
  };
  const t: Tmux = {
    socket,
    target,
    keys: async (...keys) => {
      await run(['send-keys', '-t', target, ...keys]);
    },
    type: async (text) => {
      await run(['send-keys', '-t', target, '-l', text]);
    },
    line: async (text) => {
      await run(['send-keys', '-t', target, '-l', text]);
      await run(['send-keys', '-t', target, 'Enter']);
    },
    capture,
    captureAttributes: () => run(['capture-pane', '-p', '-e', '-t', target]),
    cursor: async () => {
      const [x, y, flag] = (await run(['display-message', '-p', '-t', target, '#{cursor_x} #{cursor_y} #{cursor_flag}'])).trim().split(' ').map(Number);
      return { x, y, visible: flag === 1 };
    },
    cursorCharacter: async () => (await run(['display-message', '-p', '-t', target, '#{cursor_character}'])).replace(/\n$/, ''),
    paste: async (text) => {
      // Line ends become CR, as a terminal sends them (tmux's default for paste-buffer).
      await run(['set-buffer', '-b', 'xchat-paste', '--', text, ';', 'paste-buffer', '-p', '-d', '-b', 'xchat-paste', '-t', target]);
    },
    async waitFor(pred, timeoutMs = 20_000, what, pollMs = 50) {
      const test = typeof pred === 'function' ? pred : (s: string) => pred.test(s);
      const deadline = Date.now() + timeoutMs;
      let screen = '';
      for (;;) {
        screen = await capture();
        if (test(screen)) return screen;
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what ?? String(pred)}; screen:\n${screen}`);
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
    dead: async () => (await run(['display-message', '-p', '-t', target, '#{pane_dead}'])).trim() === '1',
    kill: async () => {
      await execFileP(TMUX, [...base, 'kill-server']).catch(() => undefined);
    },
  };
  return t;
}

export function haveTmux(): boolean {
  try {
    execFileSync(TMUX, ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// ---- reading a QR code off the screen ---------------------------------------------------------

// jsqr is CommonJS: depending on the loader its function is the module itself or its default.
type Decode = typeof jsqrModule.default;
const jsQR: Decode = (jsqrModule as unknown as { default?: Decode }).default ?? (jsqrModule as unknown as Decode);

const HALF_BLOCKS = /[\u2580\u2584\u2588]/;

/**
 * The QR drawing inside a captured screen: the run of consecutive rows made of half blocks
 * (█ ▀ ▄ and spaces), cut to the columns they share. Returns undefined when there is none.
 */
export function extractQrBlock(screen: string): string | undefined {
  const rows = screen.split('\n');
  let best: { from: number; to: number } | undefined;
  for (let i = 0; i < rows.length; ) {
    if (!HALF_BLOCKS.test(rows[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j < rows.length && HALF_BLOCKS.test(rows[j])) j++;
    if (!best || j - i > best.to - best.from) best = { from: i, to: j };
    i = j;
  }
  if (!best || best.to - best.from < 5) return undefined;
  const lines = rows.slice(best.from, best.to).map((l) => [...l]);
  // Columns: from the first half-block character on any row to the last (the drawing's own
  // quiet zone is light █, so it starts and ends with blocks, never with spaces).
  let left = Infinity;
  let right = -1;
  for (const l of lines) {
    const first = l.findIndex((c) => HALF_BLOCKS.test(c));
    let last = -1;
    for (let k = l.length - 1; k >= 0; k--) if (HALF_BLOCKS.test(l[k])) { last = k; break; }
    if (first >= 0) left = Math.min(left, first);
    right = Math.max(right, last);
  }
  return lines.map((l) => Array.from({ length: right - left + 1 }, (_, k) => l[left + k] ?? ' ').join('')).join('\n');
}

/** Decodes a half-block QR drawing (each character one module wide, two high) with jsQR. */
export function decodeQrText(text: string): string | undefined {
  const m: boolean[][] = []; // true = light
  for (const line of text.split('\n')) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const ch of line) {
      top.push(ch === '\u2588' || ch === '\u2580');
      bottom.push(ch === '\u2588' || ch === '\u2584');
    }
    m.push(top, bottom);
  }
  const width = Math.max(...m.map((r) => r.length));
  const scale = 6;
  const margin = 4; // a light border around the drawing, as a light page would give
  const w = (width + 2 * margin) * scale;
  const h = (m.length + 2 * margin) * scale;
  const px = new Uint8ClampedArray(w * h * 4).fill(255);
  for (let y = 0; y < m.length; y++) {
    for (let x = 0; x < width; x++) {
      if (m[y][x] ?? true) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + margin) * scale + dy) * w + (x + margin) * scale + dx) * 4;
          px[i] = px[i + 1] = px[i + 2] = 0;
        }
      }
    }
  }
  return jsQR(px, w, h)?.data;
}
