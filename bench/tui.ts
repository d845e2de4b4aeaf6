// TUI benchmarks, all against the real built program (bin/xchat → dist/; `npm run build` first):
//   - first paint, in a private tmux server like a user's terminal: spawn until the status bar is
//     on screen, xchat and Profanity side by side (both on a fresh profile/HOME, same terminal
//     size, same polling); goal ≤ 5× Profanity;
//   - keystroke to echo with 100 000 history lines in the current window: p99 ≤ 16 ms, RSS ≤ 150 MB.
//     Driven on a bare pseudo-terminal (bench/pty_driver.py), timed from writing the key to the
//     echo's bytes arriving on the master; the same measurement for `cat` (the kernel echoes) is
//     the harness's own floor. (Polling tmux's screen instead had a ~20 ms floor of its own.)
//   - `xchat send` start to its first TCP connection attempt (no Ink on that path): ≤ 100 ms.
// Run alone: node --import tsx bench/tui.ts [--quick]
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createAccountSession } from '../src/core/index.js';
import { HistoryStore } from '../src/store/history.js';
import { startTmux, type Tmux } from '../test/helpers/tmux.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const XCHAT_BIN = path.join(ROOT, 'bin/xchat');
const PROFANITY = process.env.XCHAT_PROFANITY ?? '/usr/bin/profanity';
const WIDTH = 120;
const HEIGHT = 40;

/** Same shape as the rows of bench/run.ts. */
export interface TuiRow {
  id: string;
  scenario: string;
  unit: string;
  xchat: number | null;
  python: number | null;
  /** > 1: xchat faster than the comparison. */
  ratio: number | null;
  goal: string;
  pass: boolean | null;
  informational?: boolean;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

function requireBuild(): void {
  if (!existsSync(path.join(ROOT, 'dist/cli.js'))) throw new Error('bench/tui.ts runs the built program: npm run build first');
}

/**
 * Runs `argv` in tmux behind a shell that waits for one Enter, so the clock starts when the
 * program is exec'd, not when tmux's server starts.
 */
async function armed(argv: string[], env: Record<string, string>): Promise<{ tty: Tmux; go: () => Promise<number> }> {
  const tty = await startTmux(['/bin/sh', '-c', 'read _ && exec "$0" "$@"', ...argv], {
    socket: `xchat-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    width: WIDTH,
    height: HEIGHT,
    cwd: ROOT,
    env: { TERM: 'xterm-256color', ...env },
  });
  return {
    tty,
    go: async () => {
      const t0 = performance.now();
      await tty.keys('Enter');
      return t0;
    },
  };
}

/** Polls capture-pane back to back (each poll is one tmux exec, ~2–5 ms) until `re` matches. */
async function timeUntil(tty: Tmux, t0: number, re: RegExp, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    const screen = await tty.capture();
    const now = performance.now();
    if (re.test(screen)) return now - t0;
    if (now - t0 > timeoutMs) throw new Error(`nothing matching ${re} after ${timeoutMs} ms; screen:\n${screen}`);
  }
}

// ---- first paint --------------------------------------------------------------------------------

export interface FirstPaintResult {
  xchatMs: number;
  profanityMs: number | null;
  profanityVersion?: string;
  samples: { xchat: number[]; profanity: number[] };
}

const XCHAT_STATUS = /^\[\d\d:\d\d\] \[1:console\]/m;
// Profanity's status bar: " [HH:MM]   …   -1-" (window 1 active).
const PROFANITY_STATUS = /^ \[\d\d:\d\d\].*-1-\s*$/m;

async function paintOnce(which: 'xchat' | 'profanity'): Promise<number> {
  const home = await mkdtemp(path.join(os.tmpdir(), `xchat-bench-paint-${which}-`));
  const argv = which === 'xchat' ? [process.execPath, XCHAT_BIN, '--profile', path.join(home, 'profile')] : [PROFANITY];
  const { tty, go } = await armed(argv, { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local/share') });
  try {
    const t0 = await go();
    return await timeUntil(tty, t0, which === 'xchat' ? XCHAT_STATUS : PROFANITY_STATUS);
  } finally {
    await tty.kill();
    await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/** Alternates xchat and Profanity run by run so machine load hits both alike. */
export async function firstPaint(runs = 5): Promise<FirstPaintResult> {
  requireBuild();
  const haveProfanity = existsSync(PROFANITY);
  const samples = { xchat: [] as number[], profanity: [] as number[] };
  // One discarded round: disk caches and node's compile cache warm for both.
  await paintOnce('xchat');
  if (haveProfanity) await paintOnce('profanity');
  for (let i = 0; i < runs; i++) {
    samples.xchat.push(await paintOnce('xchat'));
    if (haveProfanity) samples.profanity.push(await paintOnce('profanity'));
  }
  let profanityVersion: string | undefined;
  if (haveProfanity) {
    try {
      profanityVersion = /Profanity, version ([\w.]+)/.exec(execFileSync(PROFANITY, ['--version'], { encoding: 'utf8' }))?.[1];
    } catch {
      // version is decoration only
    }
  }
  return {
    xchatMs: median(samples.xchat),
    profanityMs: haveProfanity ? median(samples.profanity) : null,
    ...(profanityVersion ? { profanityVersion } : {}),
    samples,
  };
}

// ---- keystroke to echo --------------------------------------------------------------------------

/**
 * bench/pty_driver.py: runs one program on a pseudo-terminal and timestamps the bytes it writes
 * as they arrive on the master, so nothing (no tmux, no screen polling) sits between a keystroke
 * and the clock.
 */
class PtyDriver {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly answers: ((line: string) => void)[] = [];
  private readonly exited: Promise<void>;

  constructor() {
    this.proc = spawn('/usr/bin/python3', [path.join(ROOT, 'bench/pty_driver.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
    let pending = '';
    this.proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        this.answers.shift()?.(line);
      }
    });
    let stderr = '';
    this.proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    this.proc.once('exit', (code) => {
      for (const a of this.answers.splice(0)) a(JSON.stringify({ error: `pty driver exited (${code}): ${stderr.slice(-2000)}` }));
    });
  }

  async send<T = Record<string, never>>(cmd: Record<string, unknown>): Promise<T> {
    const line = await new Promise<string>((resolve) => {
      this.answers.push(resolve);
      this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    });
    const r = JSON.parse(line) as T & { error?: string };
    if (r.error) throw new Error(`pty ${String(cmd.op)}: ${r.error}`);
    return r;
  }

  async close(): Promise<void> {
    try {
      await this.send({ op: 'kill' });
    } catch {
      // already gone
    }
    this.proc.stdin.end();
    await this.exited;
  }
}

export interface KeystrokeResult {
  lines: number;
  keys: number;
  p50: number;
  p99: number;
  max: number;
  /** Largest resident set size of the xchat process seen (MB). */
  rssMb: number;
  /** The same loop against `cat` (echo done by the kernel's line discipline): the harness's floor. */
  floorP50: number;
  floorP99: number;
  loadMs: number;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

const KEYS = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');

/**
 * Types `keys` characters on a pseudo-terminal, one at a time from an idle program (a typist's
 * pace: at least 30 ms apart), timing each from the write of the key to the arrival of the bytes
 * that echo it: the input row repainted with the text typed so far (`prompt` + text), or for
 * cat the character itself. The line is cleared (Ctrl-U) every 60 characters, untimed.
 */
function typeKeys(pty: PtyDriver, keys: number, echo: 'line' | 'char', prompt = ''): Promise<{ times: number[] }> {
  return pty.send<{ times: number[] }>({ op: 'type', chars: KEYS(keys), echo, prefix: prompt, clear: '\u0015', clear_every: 60, settle_ms: 10, gap_ms: 30 });
}

export async function keystrokeLatency(lines = 100_000, keys = 200): Promise<KeystrokeResult> {
  requireBuild();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'xchat-bench-keys-'));
  const me = 'alice@localhost';
  const bob = 'bob@localhost';
  try {
    // The profile: one account (its server refuses at once: the UI is measured, not the network)
    // and `lines` stored messages with bob.
    const profile = path.join(dir, 'profile');
    const setup = await createAccountSession({ profileDir: profile, account: me });
    try {
      await setup.accountAdd(me);
      await setup.accountSet(me, 'server', '127.0.0.1');
      await setup.accountSet(me, 'port', '1');
    } finally {
      await setup.close();
    }
    const h = HistoryStore.open(profile);
    try {
      h.transaction(() => {
        for (let i = 0; i < lines; i++) {
          const out = i % 2 === 0;
          h.add({
            account: me,
            peer: bob,
            direction: out ? 'out' : 'in',
            from: out ? `${me}/xchat` : `${bob}/phone`,
            to: out ? bob : me,
            body: `history line ${i} with a few words of ordinary chat text`,
            encryption: 'omemo',
            stamp: new Date(1_700_000_000_000 + i * 1000).toISOString(),
            msgId: `m-${i}`,
            serverId: `s-${i}`,
          });
        }
      });
    } finally {
      h.close();
    }

    // Floor: `cat` in cooked mode, echoed by the kernel's line discipline.
    let floor: number[];
    {
      const pty = new PtyDriver();
      try {
        await pty.send({ op: 'spawn', argv: ['/bin/cat'], cols: WIDTH, rows: HEIGHT, env: {} });
        await pty.send({ op: 'quiet', ms: 100 });
        floor = (await typeKeys(pty, Math.min(keys, 100), 'char')).times;
      } finally {
        await pty.close();
      }
    }

    const pty = new PtyDriver();
    try {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TERM: 'xterm-256color', XCHAT_PASSWORD: 'x', LANG: 'C.UTF-8' };
      const { pid } = await pty.send<{ pid: number }>({ op: 'spawn', argv: [process.execPath, XCHAT_BIN, '--profile', profile], env, cwd: ROOT, cols: WIDTH, rows: HEIGHT });
      await pty.send({ op: 'wait', text: '[1:console]', since: 'spawn', timeout_ms: 30_000 });
      await pty.send({ op: 'quiet', ms: 200 });
      await pty.send({ op: 'mark' });
      await pty.send({ op: 'write', data: `/msg ${bob}\r` });
      await pty.send({ op: 'wait', text: ` ${bob}`, timeout_ms: 30_000 });
      await pty.send({ op: 'quiet', ms: 100 });
      await pty.send({ op: 'mark' });
      await pty.send({ op: 'write', data: `/history ${lines}\r` });
      const { ms: loadMs } = await pty.send<{ ms: number }>({ op: 'wait', text: `history line ${lines - 1} `, timeout_ms: 300_000 });
      // Let the burst of 'archived message' renders settle before timing keys.
      await pty.send({ op: 'quiet', ms: 500 });
      let rss = await rssMb(pid);
      const { times } = await typeKeys(pty, keys, 'line', '> ');
      rss = Math.max(rss, await rssMb(pid));
      return {
        lines,
        keys,
        p50: percentile(times, 50),
        p99: percentile(times, 99),
        max: Math.max(...times),
        rssMb: rss,
        floorP50: percentile(floor, 50),
        floorP99: percentile(floor, 99),
        loadMs,
      };
    } finally {
      await pty.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- xchat send start-up ------------------------------------------------------------------------

export interface SendStartResult {
  /** Median ms from spawning `node bin/xchat send` to its first TCP connection. */
  sendMs: number;
  /** Median ms for `node -e 0`: Node's own start-up on this machine. */
  nodeFloorMs: number;
  samples: number[];
}

export async function sendStartup(runs = 7): Promise<SendStartResult> {
  requireBuild();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'xchat-bench-send-'));
  let arrived: (() => void) | undefined;
  const server = createServer((sock) => {
    arrived?.();
    sock.destroy(); // the client then fails fast: we only time up to its first attempt
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const me = 'alice@localhost';
  try {
    const profile = path.join(dir, 'profile');
    const setup = await createAccountSession({ profileDir: profile, account: me });
    try {
      await setup.accountAdd(me);
      await setup.accountSet(me, 'server', '127.0.0.1');
      await setup.accountSet(me, 'port', String(port));
    } finally {
      await setup.close();
    }
    const once = async (): Promise<number> => {
      const got = new Promise<number>((resolve) => (arrived = () => resolve(performance.now())));
      const t0 = performance.now();
      const child = spawn(process.execPath, [XCHAT_BIN, 'send', '--profile', profile, '--to', 'bob@localhost', '--text', 'hi'], {
        env: { ...process.env, XCHAT_PASSWORD: 'x' },
        stdio: 'ignore',
      });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const t1 = await Promise.race([got, exited.then(() => NaN)]);
      if (Number.isNaN(t1)) throw new Error('xchat send exited without connecting');
      child.kill('SIGKILL');
      await exited;
      return t1 - t0;
    };
    const nodeOnce = async (): Promise<number> => {
      const t0 = performance.now();
      await new Promise<void>((r) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', () => r()));
      return performance.now() - t0;
    };
    await once(); // warm the page cache
    const samples: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      samples.push(await once());
      floor.push(await nodeOnce());
    }
    return { sendMs: median(samples), nodeFloorMs: median(floor), samples };
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- rows ---------------------------------------------------------------------------------------

/**
 * The environment that Node starts in, which the start-up rows depend on: NODE_EXTRA_CA_CERTS
 * (set in some sandboxes and corporate set-ups) makes every Node process read and parse those
 * certificates at start, ~40 ms here. The programs run with the bench's environment, as a user's.
 */
function startEnv(): string {
  return process.env.NODE_EXTRA_CA_CERTS ? 'NODE_EXTRA_CA_CERTS set: Node start-up includes loading it' : 'NODE_EXTRA_CA_CERTS unset';
}

export async function tuiRows(opts: { quick?: boolean; log?: (s: string) => void } = {}): Promise<TuiRow[]> {
  const log = opts.log ?? (() => undefined);
  const rows: TuiRow[] = [];
  log('TUI first paint (xchat vs Profanity)');
  const fp = await firstPaint(opts.quick ? 2 : 5);
  const factor = fp.profanityMs !== null ? fp.xchatMs / fp.profanityMs : null;
  rows.push({
    id: 'T.paint',
    scenario: `TUI first paint, spawn → status bar in tmux (Profanity${fp.profanityVersion ? ` ${fp.profanityVersion}` : ''}: ${fp.profanityMs === null ? 'not installed' : `${fp.profanityMs.toFixed(0)} ms`}; ${startEnv()})`,
    unit: 'ms',
    xchat: fp.xchatMs,
    python: null,
    ratio: fp.profanityMs !== null ? fp.profanityMs / fp.xchatMs : null,
    goal: '≤ 5× Profanity',
    pass: factor === null ? null : factor <= 5,
  });
  log('TUI keystroke to echo with 100 000 history lines');
  const ks = await keystrokeLatency(100_000, opts.quick ? 60 : 200);
  rows.push({
    id: 'T.key.p99',
    scenario: `keystroke → echo p99, ${ks.lines.toLocaleString('en-US')} lines in the window (p50 ${ks.p50.toFixed(1)} ms; pty floor with cat: p50 ${ks.floorP50.toFixed(1)}, p99 ${ks.floorP99.toFixed(1)} ms)`,
    unit: 'ms',
    xchat: ks.p99,
    python: null,
    ratio: null,
    goal: '≤ 16 ms',
    pass: ks.p99 <= 16,
  });
  rows.push({
    id: 'T.rss',
    scenario: `TUI resident memory with ${ks.lines.toLocaleString('en-US')} lines loaded`,
    unit: 'MB',
    xchat: ks.rssMb,
    python: null,
    ratio: null,
    goal: '≤ 150 MB',
    pass: ks.rssMb <= 150,
  });
  log('xchat send start-up');
  const ss = await sendStartup(opts.quick ? 3 : 7);
  rows.push({
    id: 'T.send',
    scenario: `\`xchat send\` spawn → first connection attempt (node -e 0: ${ss.nodeFloorMs.toFixed(0)} ms; ${startEnv()})`,
    unit: 'ms',
    xchat: ss.sendMs,
    python: null,
    ratio: null,
    goal: '≤ 100 ms',
    pass: ss.sendMs <= 100,
  });
  return rows;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href;
if (invokedDirectly) {
  tuiRows({ quick: process.argv.includes('--quick'), log: (s) => process.stderr.write(`[bench] ${s}\n`) }).then(
    (rows) => {
      for (const r of rows) console.log(`${r.pass === null ? '—' : r.pass ? 'PASS' : 'FAIL'}  ${r.xchat === null ? 'n/a' : r.xchat.toFixed(1)} ${r.unit}  ${r.goal}  ${r.scenario}`);
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
