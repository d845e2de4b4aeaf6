// The xchat command line: scripting front ends (run/send/listen) and offline helpers. Exit codes:
// 0 ok, 1 runtime failure, 2 usage error. Never imports ink/react: the TUI is loaded only on its
// own path, so these commands start fast.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { createAccountSession } from './core/index.js';
import { resolveProfileDir } from './store/profile.js';
import {
  CliUsageError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  checkJid,
  cmdListen,
  cmdOmemoFingerprint,
  cmdRun,
  cmdSend,
  errorMessage,
  useSessionFactory,
  type CliIo,
  type CommonOpts,
  type ListenOpts,
  type SendOpts,
} from './cli-actions.js';

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './cli-actions.js';

// ---- wiring -----------------------------------------------------------------------------------

const TUI_ROOT_OPTS = ['--profile', '--account', '--password-file', '--proxy'];

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
    .option('--password-file <file>', 'read the password from the first line of this file')
    .option('--proxy <url>', 'SOCKS5 proxy for every connection and file transfer (socks5h://HOST:PORT)');
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
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
    env: io.env,
    stdin,
    stdout,
    createSession: io.createSession ?? createAccountSession,
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
  useSessionFactory(io.createSession ?? createAccountSession);
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
    .addHelpText('after', '\nWithout a command, xchat starts the full-screen UI: xchat [--profile DIR] [--account JID] [--password-file FILE] [--proxy URL]');

  const common = (c: Command) =>
    c
      .option('--profile <dir>', 'profile directory (default: $XDG_DATA_HOME/xchat or ~/.local/share/xchat)')
      .option('--account <jid>', 'account to use (default: the only/first configured one)')
      .option('--json', 'one JSON object per line for every event')
      .option('--password-file <file>', 'read the password from the first line of this file')
      .option('--debug', "diagnostics (errors caught and survived) to stderr as well as to the profile's xchat.log")
      .option('--proxy <url>', 'SOCKS5 proxy for every connection and file transfer, e.g. socks5h://127.0.0.1:9050 (Tor); never bypassed');

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
