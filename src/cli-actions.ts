// What `xchat run|send|listen|omemo fingerprint` do, over one account session; cli.ts parses the
// command line and calls these. Exit codes: 0 ok, 1 runtime failure, 2 usage error.
import { displayFingerprint } from './lib/fingerprint.js';
import { readFile } from 'node:fs/promises';
import type { CoreApi } from './core/api.js';
import type { createAccountSession } from './core/index.js';
import { createPrinter } from './ui/event-text.js';
import { resolveProfileDir } from './store/profile.js';
import { trackSeenJids } from './commands/seen-jids.js';
import { logged } from './lib/diagnostics.js';
import { bareJid } from './lib/jid.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliUsageError extends Error {}

type Session = CoreApi & { close(): Promise<void> };

export interface CommonOpts {
  profile?: string;
  account?: string;
  json?: boolean;
  passwordFile?: string;
  debug?: boolean;
  proxy?: string;
}

const JID_RE = /^[^\s@/"]+@[^\s@/"]+$/;

export function checkJid(jid: string, what: string): string {
  if (!JID_RE.test(jid)) throw new CliUsageError(`${what} "${jid}" is not a bare JID (user@domain)`);
  return jid;
}

/** --password-file (first line), then XCHAT_PASSWORD; otherwise the core runs eval_password. */
function passwordSource(opts: CommonOpts, env: NodeJS.ProcessEnv): (jid: string) => Promise<string | undefined> {
  let cached: Promise<string> | undefined;
  return async () => {
    if (opts.passwordFile) {
      cached ??= readFile(opts.passwordFile, 'utf8').then(
        (text) => {
          const line = text.split(/\r?\n/)[0];
          if (!line) throw new Error(`password file ${opts.passwordFile} is empty`);
          return line;
        },
        (e: NodeJS.ErrnoException) => {
          throw new Error(`cannot read password file ${opts.passwordFile}: ${e.code ?? e.message}`);
        },
      );
      return cached;
    }
    return env.XCHAT_PASSWORD || undefined;
  };
}

export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** The core factory; tests pass a fake. */
  createSession?: typeof createAccountSession;
}

let sessionFactory: typeof createAccountSession | undefined;

/** The core factory the commands use (cli.ts sets it: the real one, or a test's fake). */
export function useSessionFactory(f: typeof createAccountSession): void {
  sessionFactory = f;
}

/**
 * `password`: the command connects right away, so the session may start connecting (to --account,
 * else the first account, the one pickAccount chooses) while it is still loading.
 */
async function openSession(opts: CommonOpts, password?: (jid: string) => Promise<string | undefined>): Promise<Session> {
  const profileDir = resolveProfileDir(opts.profile);
  if (!sessionFactory) throw new Error('no session factory (cli.ts sets one)');
  return sessionFactory({
    profileDir,
    json: !!opts.json,
    ...(opts.debug ? { debug: true } : {}),
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
    ...(opts.account ? { account: opts.account } : {}),
    ...(password ? { connectEarly: { password } } : {}),
  });
}

/** --account, else the only/first configured account. */
async function pickAccount(core: CoreApi, opts: CommonOpts): Promise<string> {
  if (opts.account) return opts.account;
  const list = await core.accountList();
  if (list.length === 0) {
    throw new CliUsageError('no account configured: pass --account JID, or add one with `/account add JID` in `xchat run`');
  }
  return list[0].jid;
}

async function closeQuietly(core: Session): Promise<void> {
  // Already failing or leaving: nothing useful to tell the user, but the log keeps it.
  if (core.isConnected()) await core.disconnect().catch(logged('cli: disconnect on exit'));
  await core.close().catch(logged('cli: close the session'));
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function readAllStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c));
  return Buffer.concat(chunks).toString('utf8');
}

// ---- xchat run --------------------------------------------------------------------------------

export async function cmdRun(opts: CommonOpts, io: CliIo): Promise<number> {
  if (opts.account) checkJid(opts.account, '--account');
  const print = createPrinter({ json: !!opts.json, out: io.stdout, err: io.stderr });
  const password = passwordSource(opts, io.env);
  const core = await openSession(opts, opts.account ? password : undefined);
  const off = core.on(print);
  const seen = trackSeenJids(core);
  // The command table is `run`'s (and the TUI's) alone: send and listen never compile it.
  const { CommandEngine } = await import('./commands/engine.js');
  const engine = new CommandEngine({
    core,
    emit: print,
    knownJids: () => seen.jids(),
    accountJids: () => [],
    password,
  });
  const { createInterface } = await import('node:readline'); // `run` only: send and listen start without it
  const rl = createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  // Take the iterator now: it buffers lines (and EOF) that arrive while we connect; one created
  // after the interface closed would wait forever.
  const lines = rl[Symbol.asyncIterator]();
  // A signal ends the script now: pending messages are still sent, downloads are stopped.
  const stop = () => {
    core.urlCancel?.();
    rl.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    // With --account, connect first; otherwise the script says /connect itself.
    if (opts.account) {
      const pw = await password(opts.account);
      await core.connect({ jid: opts.account, ...(pw !== undefined ? { password: pw } : {}) });
      await core.caughtUp?.();
    }
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const r = await engine.execute(next.value);
      // The lines after /connect act on what arrived while away: the archive is read first.
      if (r.ok && /^\s*\/connect\b/i.test(next.value)) await core.caughtUp?.();
      if (r.quit) break;
    }
    await core.drain();
    return EXIT_OK;
  } catch (e) {
    print({ event: 'error', message: errorMessage(e) });
    await core.drain().catch(logged('cli: finish pending work after a failure'));
    return EXIT_FAILURE;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    rl.close();
    off();
    seen.stop();
    await closeQuietly(core);
  }
}

// ---- xchat send -------------------------------------------------------------------------------

export interface SendOpts extends CommonOpts {
  to: string;
  text?: string;
  plain?: boolean;
}

export async function cmdSend(opts: SendOpts, io: CliIo): Promise<number> {
  const to = checkJid(opts.to, '--to');
  if (opts.account) checkJid(opts.account, '--account');
  let text: string;
  if (opts.text !== undefined) text = opts.text;
  else if (io.stdin.isTTY) throw new CliUsageError('no message: pass --text TEXT or pipe the text on stdin');
  else text = (await readAllStdin(io.stdin)).replace(/\r?\n$/, '');
  if (text.trim() === '') throw new CliUsageError('the message is empty');

  // Readable mode stays quiet except for the outcome; --json reports every event.
  const print = createPrinter({
    json: !!opts.json,
    out: io.stdout,
    err: io.stderr,
    filter: opts.json ? undefined : (e) => e.event === 'error' || e.event === 'warning' || e.event === 'sent',
  });
  const password = passwordSource(opts, io.env);
  const core = await openSession(opts, password);
  const off = core.on(print);
  let sent = false;
  const offSent = core.on((e) => {
    if (e.event === 'sent' && bareJid(e.to) === bareJid(to)) sent = true;
  });
  try {
    const jid = await pickAccount(core, opts);
    const pw = await password(jid);
    await core.connect({ jid, ...(pw !== undefined ? { password: pw } : {}) });
    await core.sendMessage(to, text, opts.plain ? { plain: true } : undefined);
    await core.drain();
    if (!sent) {
      print({ event: 'error', message: `message to ${to} was not sent` });
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    print({ event: 'error', message: errorMessage(e) });
    return EXIT_FAILURE;
  } finally {
    off();
    offSent();
    await closeQuietly(core);
  }
}

// ---- xchat listen -----------------------------------------------------------------------------

export interface ListenOpts extends CommonOpts {
  for?: string;
}

export async function cmdListen(opts: ListenOpts, io: CliIo): Promise<number> {
  if (opts.account) checkJid(opts.account, '--account');
  let seconds: number | undefined;
  if (opts.for !== undefined) {
    seconds = Number(opts.for);
    if (!/^\d+(\.\d+)?$/.test(opts.for) || !(seconds > 0)) throw new CliUsageError(`--for needs a positive number of seconds, got "${opts.for}"`);
  }
  const print = createPrinter({ json: !!opts.json, out: io.stdout, err: io.stderr });
  const password = passwordSource(opts, io.env);
  const core = await openSession(opts, password);
  const off = core.on(print);
  try {
    const jid = await pickAccount(core, opts);
    const pw = await password(jid);
    await core.connect({ jid, ...(pw !== undefined ? { password: pw } : {}) });
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        process.removeListener('SIGINT', done);
        process.removeListener('SIGTERM', done);
        resolve();
      };
      const timer = seconds !== undefined ? setTimeout(done, seconds * 1000) : undefined;
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    await core.drain();
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    print({ event: 'error', message: errorMessage(e) });
    return EXIT_FAILURE;
  } finally {
    off();
    await closeQuietly(core);
  }
}

// ---- xchat omemo fingerprint ------------------------------------------------------------------

export async function cmdOmemoFingerprint(opts: CommonOpts, io: CliIo): Promise<number> {
  if (opts.account) checkJid(opts.account, '--account');
  const core = await openSession(opts);
  try {
    // Creates the identity on a fresh profile: the fingerprint is the one this device will use.
    const r = await core.omemoGen();
    if (opts.json) io.stdout.write(`${JSON.stringify({ deviceId: r.deviceId, fingerprint: r.fingerprint, created: r.created })}\n`);
    else io.stdout.write(`${displayFingerprint(r.fingerprint)} (device ${r.deviceId})\n`);
    return EXIT_OK;
  } catch (e) {
    io.stderr.write(`error: ${errorMessage(e)}\n`);
    return EXIT_FAILURE;
  } finally {
    await core.close().catch(logged('cli: close the session'));
  }
}

