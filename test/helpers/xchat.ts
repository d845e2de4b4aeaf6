// Drives a real `xchat run --json` process: lines in on stdin, JSON events out on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type XEvent = { event: string; [k: string]: any };

export interface XchatProc {
  proc: ChildProcess;
  events: XEvent[];
  stderr: string[];
  send(line: string): void;
  waitFor(pred: (e: XEvent) => boolean, timeoutMs?: number, what?: string): Promise<XEvent>;
  /** Close stdin and wait for a clean exit; resolves with the exit code. */
  end(timeoutMs?: number): Promise<number | null>;
  kill9(): Promise<void>;
  exited: Promise<number | null>;
}

export function startXchat(opts: {
  profile: string;
  password: string;
  caFile: string;
  args?: string[];
  env?: Record<string, string>;
  /** Run the built bin/xchat (npm run build) instead of the sources through tsx. */
  built?: boolean;
}): XchatProc {
  const entry = opts.built ? [path.join(repoRoot, 'bin/xchat')] : ['--import', 'tsx', path.join(repoRoot, 'src/cli.ts')];
  const proc = spawn(
    process.execPath,
    [...entry, 'run', '--json', '--profile', opts.profile, ...(opts.args ?? [])],
    {
      cwd: repoRoot,
      env: { ...process.env, XCHAT_PASSWORD: opts.password, NODE_EXTRA_CA_CERTS: opts.caFile, ...(opts.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const events: XEvent[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (e: XEvent) => boolean; resolve: (e: XEvent) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let e: XEvent;
    try {
      e = JSON.parse(line);
    } catch {
      stderr.push(`(non-JSON stdout) ${line}`);
      return;
    }
    events.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    events,
    stderr,
    exited,
    send(line: string) {
      proc.stdin!.write(line + '\n');
    },
    waitFor(pred, timeoutMs = 20_000, what = 'event') {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        waiters.push(w);
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(
            new Error(
              `timed out waiting for ${what}; events: ${JSON.stringify(events.slice(-15))}; stderr: ${stderr.slice(-15).join('\n')}`,
            ),
          );
        }, timeoutMs);
        const orig = w.resolve;
        w.resolve = (e) => {
          clearTimeout(t);
          orig(e);
        };
      });
    },
    async end(timeoutMs = 20_000) {
      proc.stdin!.end();
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
