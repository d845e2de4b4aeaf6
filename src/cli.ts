// The xchat command line: scripting front ends (run/send/listen) and offline helpers. Exit codes:
// 0 ok, 1 runtime failure, 2 usage error. Never imports ink/react: the TUI is loaded only on its
// own path, so these commands start fast.
import { displayFingerprint } from './lib/fingerprint.js';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { CoreApi, XchatEvent } from './core/api.js';
import { createAccountSession } from './core/index.js';
import { createPrinter } from './ui/event-text.js';
import { resolveProfileDir } from './store/profile.js';
import { bareJid as bare } from './lib/jid.js';
import { logged } from './lib/diagnostics.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

class CliUsageError extends Error {}

type Session = CoreApi & { close(): Promise<void> };

interface CommonOpts {
  profile?: string;
  account?: string;
  json?: boolean;
  passwordFile?: string;
  debug?: boolean;
}

const JID_RE = /^[^\s@/"]+@[^\s@/"]+$/;

function checkJid(jid: string, what: string): string {
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

let sessionFactory: typeof createAccountSession = createAccountSession;

/**
 * `password`: the command connects right away, so the session may start connecting (to --account,
 * else the first account, the one pickAccount chooses) while it is still loading.
 */
async function openSession(opts: CommonOpts, password?: (jid: string) => Promise<string | undefined>): Promise<Session> {
  const profileDir = resolveProfileDir(opts.profile);
  return sessionFactory({
    profileDir,
    json: !!opts.json,
    ...(opts.debug ? { debug: true } : {}),
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

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function readAllStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c));
  return Buffer.concat(chunks).toString('utf8');
}

// ---- xchat run --------------------------------------------------------------------------------

async function cmdRun(opts: CommonOpts, io: CliIo): Promise<number> {
  if (opts.account) checkJid(opts.account, '--account');
  const print = createPrinter({ json: !!opts.json, out: io.stdout, err: io.stderr });
  const password = passwordSource(opts, io.env);
  const core = await openSession(opts, opts.account ? password : undefined);
  const off = core.on(print);
  const seen = new Set<string>();
  const offSeen = core.on((e) => rememberJids(e, seen));
  // The command table is `run`'s (and the TUI's) alone: send and listen never compile it.
  const { CommandEngine } = await import('./commands/engine.js');
  const engine = new CommandEngine({
    core,
    emit: print,
    knownJids: () => [...seen],
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
    }
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const r = await engine.execute(next.value);
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
    offSeen();
    await closeQuietly(core);
  }
}

function rememberJids(e: XchatEvent, seen: Set<string>): void {
  if (e.event === 'message') seen.add(bare(e.carbon === 'sent' ? e.to : e.from));
  else if (e.event === 'chat' || e.event === 'device' || e.event === 'trust') seen.add(bare(e.jid));
  else if (e.event === 'subscription') seen.add(bare(e.from));
}

// ---- xchat send -------------------------------------------------------------------------------

interface SendOpts extends CommonOpts {
  to: string;
  text?: string;
  plain?: boolean;
}

async function cmdSend(opts: SendOpts, io: CliIo): Promise<number> {
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
    if (e.event === 'sent' && e.to.split('/')[0].toLowerCase() === to.toLowerCase()) sent = true;
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

interface ListenOpts extends CommonOpts {
  for?: string;
}

async function cmdListen(opts: ListenOpts, io: CliIo): Promise<number> {
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

async function cmdOmemoFingerprint(opts: CommonOpts, io: CliIo): Promise<number> {
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

// ---- wiring -----------------------------------------------------------------------------------

const TUI_ROOT_OPTS = ['--profile', '--account', '--password-file'];

/**
 * Runs `load` with the global fetch hidden. Ink's layout engine (yoga's emscripten loader) fetches
 * its inlined wasm through fetch() when there is one; in Node that first loads undici, ~30 ms of
 * the TUI's first paint. Without fetch it decodes the same bytes directly.
 */
async function withoutFetch<T>(load: () => Promise<T>): Promise<T> {
  const desc = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  if (!desc?.configurable) return load();
  Object.defineProperty(globalThis, 'fetch', { value: undefined, configurable: true, writable: true });
  try {
    return await load();
  } finally {
    Object.defineProperty(globalThis, 'fetch', desc);
  }
}

/** `xchat [--profile DIR] [--account JID] [--password-file FILE]`: the full-screen TUI. */
async function cmdTui(argv: string[], io: CliIo): Promise<number> {
  const tui = new Command('xchat')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .option('--profile <dir>', 'profile directory')
    .option('--account <jid>', 'account to connect at start')
    .option('--password-file <file>', 'read the password from the first line of this file');
  tui.parse(argv, { from: 'user' });
  const opts = tui.opts<CommonOpts>();
  if (opts.account) checkJid(opts.account, '--account');
  const stdin = io.stdin as NodeJS.ReadStream;
  const stdout = io.stdout as NodeJS.WriteStream;
  if (!stdin.isTTY || !stdout.isTTY) {
    throw new CliUsageError('the full-screen UI needs a terminal; for scripts use `xchat run` (commands on stdin), `xchat send` or `xchat listen` (see xchat --help)');
  }
  // Loaded only here: ink and react stay out of run/send/listen.
  const { startTui } = await withoutFetch(() => import('./tui.js'));
  return startTui({
    profileDir: resolveProfileDir(opts.profile),
    ...(opts.account ? { account: opts.account } : {}),
    ...(opts.passwordFile ? { passwordFile: opts.passwordFile } : {}),
    env: io.env,
    stdin,
    stdout,
    createSession: sessionFactory,
  });
}

/** The process's own streams, each created only when first used (stdin alone costs ~3 ms). */
const processIo: CliIo = {
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  env: process.env,
};

export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  sessionFactory = io.createSession ?? createAccountSession;
  if (argv.length === 0 || TUI_ROOT_OPTS.some((o) => argv[0] === o || argv[0].startsWith(`${o}=`))) {
    try {
      return await cmdTui(argv, io);
    } catch (e) {
      if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      io.stderr.write(`error: ${errorMessage(e)}\n`);
      return e instanceof CliUsageError ? EXIT_USAGE : EXIT_FAILURE;
    }
  }
  let code = EXIT_OK;
  const program = new Command('xchat');
  program
    .description('Terminal XMPP client with OMEMO end-to-end encryption')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nWithout a command, xchat starts the full-screen UI: xchat [--profile DIR] [--account JID] [--password-file FILE]');

  const common = (c: Command) =>
    c
      .option('--profile <dir>', 'profile directory (default: $XDG_DATA_HOME/xchat or ~/.local/share/xchat)')
      .option('--account <jid>', 'account to use (default: the only/first configured one)')
      .option('--json', 'one JSON object per line for every event')
      .option('--password-file <file>', 'read the password from the first line of this file')
      .option('--debug', "diagnostics (errors caught and survived) to stderr as well as to the profile's xchat.log");

  common(program.command('run').description('read commands and messages from stdin (see docs/commands.md); ends at /quit or EOF')).action(
    async (opts: CommonOpts) => {
      code = await cmdRun(opts, io);
    },
  );
  common(
    program
      .command('send')
      .description('connect, send one message, wait until it is sent, disconnect')
      .requiredOption('--to <jid>', 'recipient (bare JID)')
      .option('--text <text>', 'message text (default: stdin)')
      .option('--plain', 'send without OMEMO (refused in chats that use OMEMO)'),
  ).action(async (opts: SendOpts) => {
    code = await cmdSend(opts, io);
  });
  common(
    program
      .command('listen')
      .description('connect and print incoming messages and events')
      .option('--for <seconds>', 'stop after this many seconds (default: until interrupted)'),
  ).action(async (opts: ListenOpts) => {
    code = await cmdListen(opts, io);
  });
  const omemo = program.command('omemo').description('OMEMO helpers that need no connection');
  omemo
    .command('fingerprint')
    .description("print this device's own OMEMO fingerprint (creates the identity if needed)")
    .option('--profile <dir>', 'profile directory')
    .option('--account <jid>', 'account (default: the only/first configured one)')
    .option('--json', 'print {deviceId, fingerprint, created} as JSON')
    .action(async (opts: CommonOpts) => {
      code = await cmdOmemoFingerprint(opts, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version are not errors; every other commander error is a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof CliUsageError) {
      io.stderr.write(`error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`error: ${errorMessage(e)}\n`);
    return EXIT_FAILURE;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
