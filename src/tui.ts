// `xchat` without a subcommand: the full-screen TUI. Only this module (loaded with a dynamic
// import by cli.ts) pulls in ink and react, so `xchat run|send|listen` start without them.
// The first frame is painted before the profile (lock, account store, history database) and the
// command table are opened: the user sees the screen at once, and a line typed meanwhile runs as
// soon as the session is ready.
import './ui/interactive.js';
import { readFile } from 'node:fs/promises';
import { createElement } from 'react';
import { render } from 'ink';
import chalk from 'chalk';
import type { CoreApi } from './core/api.js';
import type { CreateAccountSessionOptions } from './core/index.js';
import { WindowManager, type WindowsOptions } from './ui/windows.js';
import type { CommandEngine } from './commands/engine.js';
import { formatEvent } from './ui/event-text.js';
import { App, type AppEngine } from './ui/App.js';
import { attachNotifier } from './ui/notify.js';
import { SecretPrompt } from './ui/secret-prompt.js';
import { trackSeenJids } from './commands/seen-jids.js';
import { reportCaught, settled } from './lib/diagnostics.js';
import { colourSupport } from './ui/colour-support.js';
import { ThemeManager } from './ui/themes.js';

type Session = CoreApi & { close(): Promise<void> };

export interface TuiOptions {
  profileDir: string;
  account?: string;
  passwordFile?: string;
  proxy?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** The core factory (default: createAccountSession); tests pass a fake. */
  createSession?: (opts: CreateAccountSessionOptions) => Promise<Session>;
}

// The alternate screen, and bracketed paste (pasted text arrives marked, see ui/keys.ts).
const ALT_SCREEN_ON = '\u001b[?1049h\u001b[?2004h';
const ALT_SCREEN_OFF = '\u001b[?2004l\u001b[?1049l';


function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the TUI until /quit, Ctrl-C or SIGTERM/SIGHUP; resolves with the exit code. */
export async function startTui(opts: TuiOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  // The session arrives after the first frame; until then the windows see no current chat.
  const late: { core?: Session; engine?: CommandEngine } = {};
  const lateCore: NonNullable<WindowsOptions['core']> = {
    openChat: (jid) => late.core?.openChat(jid),
    currentChat: () => late.core?.currentChat(),
    fetchOlder: async (jid, o) => (late.core?.fetchOlder ? late.core.fetchOlder(jid, o) : undefined),
    contactTrust: async (jid) => late.core?.contactTrust?.(jid),
  };
  const windows = new WindowManager({ core: lateCore, format: (e) => formatEvent(e) });
  let ready!: (e: CommandEngine) => void;
  let failed!: (e: unknown) => void;
  const engineReady = new Promise<CommandEngine>((resolve, reject) => ((ready = resolve), (failed = reject)));
  void settled(engineReady); // a failed start is reported by startTui's rejection
  const appEngine: AppEngine = {
    execute: async (line) => (late.engine ?? (await engineReady)).execute(line),
    say: async (text) => (late.engine ?? (await engineReady)).say(text),
    completeAt: (line, cursor) => late.engine?.completeAt(line, cursor) ?? { start: cursor ?? line.length, candidates: [] },
  };
  const onTyping = (jid: string, state: 'composing' | 'paused' | 'active') => {
    if (typeof late.core?.typing === 'function') late.core.typing(jid, state);
  };
  const secret = new SecretPrompt();
  // Colour as the terminal has it (NO_COLOR, FORCE_COLOR, TERM, COLORTERM): Ink draws through
  // chalk, whose level is set here; without colour, attributes (bold, reverse) still show, so
  // chalk keeps level 1 and the theme drops its colours instead.
  const support = colourSupport(opts.env ?? process.env);
  chalk.level = Math.max(1, support.level) as 1 | 2 | 3;
  const themes = new ThemeManager({ profileDir: opts.profileDir, support });
  const screen = mountScreen(opts, stdout, windows, appEngine, { onTyping, secret, themes });
  themes.start().catch((e: unknown) => windows.show({ event: 'error', message: `theme: ${errorMessage(e)} (the default theme is used)` }));

  // ---- after the first frame: the profile, the session, the command table ----
  let opened: Opened;
  try {
    opened = await openSession(opts, windows, secret, themes);
    late.core = opened.session;
    late.engine = opened.engine;
    ready(opened.engine);
  } catch (e) {
    failed(e);
    screen.teardown();
    throw e;
  }
  connectAtStart(opts, opened, windows);
  await screen.quitting;
  return shutdown(opened, screen.teardown);
}

interface Screen {
  /** Resolves at /quit, Ctrl-C, SIGTERM or SIGHUP. */
  quitting: Promise<void>;
  teardown: () => void;
}

/** The alternate screen with the App in it, painted at once; signals end it. */
function mountScreen(
  opts: TuiOptions,
  stdout: NodeJS.WriteStream,
  windows: WindowManager,
  engine: AppEngine,
  extra: { onTyping: (jid: string, state: 'composing' | 'paused' | 'active') => void; secret: SecretPrompt; themes: ThemeManager },
): Screen {
  let quit!: () => void;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  const onSignal = () => quit();
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  const restoreScreen = () => stdout.write(ALT_SCREEN_OFF);
  // Leave the alternate screen even if something kills us the hard way.
  process.once('exit', restoreScreen);
  stdout.write(ALT_SCREEN_ON);
  const offNotify = attachNotifier(windows, stdout);
  windows.show({ event: 'info', message: 'xchat: /help lists the commands; Alt+1…0 or F1…F10 switch windows; /quit leaves.' });
  const ink = render(createElement(App, { windows, engine, onQuit: () => quit(), ...extra }), {
    stdin: opts.stdin ?? process.stdin,
    stdout,
    exitOnCtrlC: false,
    // Stray console output would tear the full-screen layout; the core reports through events.
    patchConsole: false,
    // Ink's default 30 fps throttle would hold a keystroke's echo back up to 33 ms; a frame
    // costs a few ms, so 120 fps keeps echo immediate and still caps redraws under a flood.
    maxFps: 120,
  });
  const teardown = () => {
    ink.unmount();
    offNotify();
    stdout.write('\u001b]0;\u0007');
    restoreScreen();
    process.removeListener('exit', restoreScreen);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGHUP', onSignal);
  };
  return { quitting, teardown };
}

interface Opened {
  session: Session;
  engine: CommandEngine;
  password(jid: string): Promise<string | undefined>;
  accounts: string[];
  detach(): void;
}

/** The profile's session and the command table, loaded after the first frame. */
async function openSession(opts: TuiOptions, windows: WindowManager, secret: SecretPrompt, themes: ThemeManager): Promise<Opened> {
  const env = opts.env ?? process.env;
  // Ink paints its first frame synchronously in render(); the profile is opened after it.
  const create = opts.createSession ?? (await import('./core/index.js')).createAccountSession;
  const [s, { CommandEngine }] = await Promise.all([create({ profileDir: opts.profileDir, ...(opts.account ? { account: opts.account } : {}), ...(opts.proxy ? { proxy: opts.proxy } : {}) }), import('./commands/engine.js')]);
  // --password-file, XCHAT_PASSWORD, the account's eval_password (the core runs it); else asked.
  const password = async (jid: string): Promise<string | undefined> => {
    if (opts.passwordFile) return (await readFile(opts.passwordFile, 'utf8')).split(/\r?\n/)[0] || undefined;
    if (env.XCHAT_PASSWORD) return env.XCHAT_PASSWORD;
    const account = (await s.accountList()).find((a) => a.jid === jid.toLowerCase());
    if (account?.eval_password) return undefined;
    return secret.ask(`password for ${jid} (Esc cancels)`);
  };
  const detachWindows = windows.attach(s);
  const seen = trackSeenJids(s);
  const opened: Opened = {
    session: s,
    password,
    accounts: [],
    detach: () => {
      detachWindows();
      seen.stop();
    },
    engine: new CommandEngine({
      core: s,
      emit: (e) => windows.show(e),
      // Roster and presence JIDs from the core (when it offers them), open windows, JIDs seen.
      knownJids: () => [...new Set([...windows.list().flatMap((w) => (w.jid ? [w.name] : [])), ...(typeof s.knownJids === 'function' ? s.knownJids() : []), ...seen.jids()])],
      fingerprintsFor: (jid) => (typeof s.knownFingerprints === 'function' ? s.knownFingerprints(jid) : []),
      accountJids: () => opened.accounts,
      password,
      windows,
      themes,
    }),
  };
  return opened;
}

/** With --account or a single configured account, connect right away (as `xchat run --account`). */
function connectAtStart(opts: TuiOptions, o: Opened, windows: WindowManager): void {
  void o.session
    .accountList()
    .catch((e: unknown) => {
      windows.show({ event: 'error', message: `cannot read the accounts: ${errorMessage(e)}` });
      return [];
    })
    .then(async (list) => {
      o.accounts = list.map((a) => a.jid);
      const jid = opts.account ?? (list.length === 1 ? list[0].jid : undefined);
      if (!jid) {
        if (list.length === 0) windows.show({ event: 'info', message: 'no account yet: /account add JID, then /connect JID' });
        return;
      }
      try {
        const pw = await o.password(jid);
        await o.session.connect({ jid, ...(pw !== undefined ? { password: pw } : {}) });
      } catch (e) {
        windows.handle({ event: 'error', message: `connect ${jid}: ${errorMessage(e)}` });
      }
    });
}

/** Pending messages go out, downloads stop, the screen is restored, the session closed. */
async function shutdown(o: Opened, teardown: () => void): Promise<number> {
  let code = 0;
  o.session.urlCancel?.(); // Ctrl-C and signals too: a download never holds the exit
  try {
    await o.session.drain();
  } catch (e) {
    code = 1;
    reportCaught('tui: finish pending work on quit', e);
  }
  teardown();
  o.detach();
  try {
    await o.session.close();
  } catch (e) {
    code = 1;
    reportCaught('tui: close the session on quit', e);
  }
  return code;
}
