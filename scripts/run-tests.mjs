// Runs the vitest suite and guards against a run that stops making progress. CI once saw the
// suite sit idle (no test running, no timeout firing) at the start of a pure unit-test file, so:
// when no test is queued, starts or ends for XCHAT_TEST_STALL_SECONDS (default 150; the longest
// test takes about 30 s and every test times out at 60 s), this prints where the run was and the
// process tree, stops the run with everything it started, and runs only the files that had not
// finished. Tests that failed are never retried: any failure anywhere makes the exit code 1.
// Usage: node scripts/run-tests.mjs [vitest filters/options]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VITEST = path.join(ROOT, 'node_modules/.bin/vitest');
const STALL_MS = Number(process.env.XCHAT_TEST_STALL_SECONDS ?? 150) * 1000;
const MAX_RESTARTS = 3;

const dir = mkdtempSync(path.join(tmpdir(), 'xchat-test-'));
const progress = path.join(dir, 'progress.log');

function parseProgress() {
  const planned = new Set();
  const ended = new Map();
  let text = '';
  try {
    text = readFileSync(progress, 'utf8');
  } catch {}
  for (const line of text.split('\n')) {
    const m = /^\S+ (plan|end) (\S+)(?: (\w+))?$/.exec(line);
    if (!m) continue;
    if (m[1] === 'plan') planned.add(m[2]);
    else ended.set(m[2], m[3]);
  }
  return { planned, ended, lines: text.split('\n').filter(Boolean) };
}

/** The processes of the run's session (vitest, its workers, the servers and peers they started). */
function processTree(sid) {
  try {
    return execFileSync('ps', ['-o', 'pid,ppid,stat,etime,pcpu,wchan:24,args', '--forest', '-s', String(sid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.slice(0, 240))
      .join('\n');
  } catch (e) {
    return `(ps failed: ${e.message})`;
  }
}

/** One vitest run; resolves with its exit code, or 'stalled' after it was stopped. */
function runOnce(args) {
  writeFileSync(progress, '');
  const child = spawn(VITEST, ['run', ...args], {
    cwd: ROOT,
    stdio: 'inherit',
    detached: true, // own session and process group: a stalled run is stopped with everything it started
    env: { ...process.env, XCHAT_TEST_PROGRESS: progress },
  });
  return new Promise((resolve) => {
    let lastSize = -1;
    let lastChange = Date.now();
    let stalled = false;
    const timer = setInterval(() => {
      const size = statSync(progress).size;
      if (size !== lastSize) {
        lastSize = size;
        lastChange = Date.now();
        return;
      }
      if (stalled || Date.now() - lastChange < STALL_MS) return;
      stalled = true;
      const { lines } = parseProgress();
      process.stderr.write(
        `\nxchat tests: no progress for ${STALL_MS / 1000} s. Last progress lines:\n${lines.slice(-20).join('\n')}\n` +
          `Processes:\n${processTree(child.pid)}\n`,
      );
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }, 10_000).unref();
    }, 2_000);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      if (stalled) {
        // Children that outlived vitest (servers, peers) belong to the stopped run.
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
        resolve('stalled');
      } else resolve(code ?? (signal ? 1 : 0));
    });
  });
}

let args = process.argv.slice(2);
let failedEarlier = false;
let rc = 1;
let stalls = 0;
for (let attempt = 0; ; attempt++) {
  rc = await runOnce(args);
  if (rc !== 'stalled') break;
  stalls++;
  const { planned, ended } = parseProgress();
  for (const state of ended.values()) if (state === 'failed') failedEarlier = true;
  const remaining = [...planned].filter((f) => !ended.has(f));
  if (attempt >= MAX_RESTARTS) {
    process.stderr.write(`xchat tests: stalled ${attempt + 1} times; giving up\n`);
    rc = 1;
    break;
  }
  if (planned.size > 0) {
    if (remaining.length === 0) {
      rc = 0;
      break;
    }
    args = remaining;
  }
  process.stderr.write(`xchat tests: running the ${planned.size > 0 ? `${remaining.length} unfinished file(s)` : 'suite'} again\n\n`);
}
rmSync(dir, { recursive: true, force: true });
if (stalls > 0) process.stderr.write(`xchat tests: the run stalled ${stalls} time(s) and was resumed (details above)\n`);
process.exit(failedEarlier || rc !== 0 ? 1 : 0);
