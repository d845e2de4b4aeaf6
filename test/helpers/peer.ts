// Driver for the live python-omemo reference peer (test/python/peer.py): spawns it under Debian's
// /usr/bin/python3, writes JSON commands to its stdin and collects the JSON events from its stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './python.js';

export const PEER_SCRIPT = fileURLToPath(new URL('../python/peer.py', import.meta.url));

/** Where the peer connects; structurally the lab object from test/lab/prosody.ts. */
export interface PeerLab {
  host: string;
  c2sPort: number;
  caFile: string;
}

export interface PeerEvent {
  event: string;
  [key: string]: unknown;
}

export interface PeerReady extends PeerEvent {
  event: 'ready';
  jid: string;
  full_jid: string;
  device_id: number;
  /** 64 lowercase hex chars of the Curve25519 identity key. */
  fingerprint: string;
}

export type PeerCommand = { cmd: string; [key: string]: unknown };

export interface Peer {
  ready: PeerReady;
  /** Every event received so far, in order. */
  events: PeerEvent[];
  /** Everything the peer wrote to stderr (logs, tracebacks). */
  stderr(): string;
  send(cmd: PeerCommand): void;
  /**
   * Resolves with the first event at index >= `since` (default 0, i.e. also already received
   * events) that matches; rejects on timeout or when the peer exits. Use unique bodies/tags.
   */
  waitFor(pred: (e: PeerEvent) => boolean, timeoutMs?: number, since?: number): Promise<PeerEvent>;
  /** Sends `cmd` with a fresh `tag` and resolves with the peer's answer carrying that tag. */
  request(cmd: PeerCommand, timeoutMs?: number): Promise<PeerEvent>;
  /** Exit code once the process has exited (null if killed by a signal). */
  exited: Promise<number | null>;
  /** Sends quit, waits up to `timeoutMs` for a clean exit, then kills. Resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface StartPeerOptions {
  jid: string;
  password: string;
  lab: PeerLab;
  stateDir: string;
  autoSubscribe?: boolean;
  echo?: boolean;
  manualTrust?: boolean;
  verbose?: boolean;
  /** First run only: a fresh identity key under this device id (as an impostor or a reinstall). */
  forceDeviceId?: number;
  readyTimeoutMs?: number;
}

let tagCounter = 0;

export async function startPeer(opts: StartPeerOptions): Promise<Peer> {
  const args = [
    PEER_SCRIPT,
    '--jid', opts.jid,
    '--password', opts.password,
    '--host', opts.lab.host,
    '--port', String(opts.lab.c2sPort),
    '--ca', opts.lab.caFile,
    '--state', opts.stateDir,
  ];
  if (opts.autoSubscribe) args.push('--auto-subscribe');
  if (opts.echo) args.push('--echo');
  if (opts.manualTrust) args.push('--manual-trust');
  if (opts.verbose) args.push('--verbose');
  if (opts.forceDeviceId) args.push('--force-device-id', String(opts.forceDeviceId));

  const child: ChildProcess = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: PeerEvent[] = [];
  let stderrText = '';
  let buffered = '';
  let exitCode: number | null | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => { for (const l of [...listeners]) l(); };

  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => { exitCode = code; resolve(code); notify(); });
    child.once('error', (err) => {
      stderrText += `spawn error: ${err.message}\n`;
      exitCode = null;
      resolve(null);
      notify();
    });
  });

  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      try {
        const parsed = JSON.parse(line) as unknown;
        if (parsed && typeof parsed === 'object' && typeof (parsed as PeerEvent).event === 'string') {
          events.push(parsed as PeerEvent);
        } else {
          events.push({ event: 'garbage', line });
        }
      } catch {
        // stdout is the protocol: anything else there is a peer bug worth seeing in a failure.
        events.push({ event: 'garbage', line });
      }
    }
    notify();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderrText += chunk;
    if (stderrText.length > 200_000) stderrText = stderrText.slice(-100_000);
  });

  const describe = (): string =>
    `peer ${opts.jid}: last events:\n${events.slice(-12).map((e) => JSON.stringify(e).slice(0, 400)).join('\n')}\n` +
    `stderr tail:\n${stderrText.slice(-3000)}`;

  const waitFor = (pred: (e: PeerEvent) => boolean, timeoutMs = 20_000, since = 0): Promise<PeerEvent> =>
    new Promise((resolve, reject) => {
      let scanned = since;
      const check = (): void => {
        for (; scanned < events.length; scanned++) {
          const e = events[scanned];
          if (pred(e)) { finish(); resolve(e); return; }
        }
        if (exitCode !== undefined) {
          finish();
          reject(new Error(`peer exited (${exitCode}) while waiting\n${describe()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a peer event\n${describe()}`));
      }, timeoutMs);
      const finish = (): void => { clearTimeout(timer); listeners.delete(check); };
      listeners.add(check);
      check();
    });

  const send = (cmd: PeerCommand): void => {
    if (exitCode !== undefined || !child.stdin!.writable) {
      throw new Error(`peer ${opts.jid} is not running\n${describe()}`);
    }
    child.stdin!.write(JSON.stringify(cmd) + '\n');
  };

  let stopping: Promise<number | null> | undefined;
  const stop = (timeoutMs = 10_000): Promise<number | null> => {
    stopping ??= (async () => {
      if (exitCode !== undefined) return exitCode;
      try { send({ cmd: 'quit' }); } catch { /* already gone */ }
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    })();
    return stopping;
  };

  let ready: PeerReady;
  try {
    const first = await waitFor(
      (e) => e.event === 'ready' || (e.event === 'error' && e.phase !== undefined),
      opts.readyTimeoutMs ?? 60_000,
    );
    if (first.event !== 'ready') throw new Error(`peer failed to start: ${JSON.stringify(first)}\n${describe()}`);
    ready = first as PeerReady;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  return {
    ready,
    events,
    stderr: () => stderrText,
    send,
    waitFor,
    async request(cmd: PeerCommand, timeoutMs = 20_000): Promise<PeerEvent> {
      const tag = `t${++tagCounter}`;
      const since = events.length;
      send({ ...cmd, tag });
      return waitFor((e) => e.tag === tag, timeoutMs, since);
    },
    exited,
    stop,
  };
}
