// `xchat` without a subcommand: the full-screen TUI. Only this module (loaded with a dynamic
// import by cli.ts) pulls in ink and react, so `xchat run|send|listen` start without them.
// The first frame is painted before the profile (lock, account store, history database) and the
// command table are opened: the user sees the screen at once, and a line typed meanwhile runs as
// soon as the session is ready.
import './ui/interactive.js';
import { readFile } from 'node:fs/promises';
import { createElement } from 'react';
import { render } from 'ink';
import type { CoreApi, XchatEvent } from './core/api.js';
import type { CreateAccountSessionOptions } from './core/index.js';
import { WindowManager, type WindowsOptions } from './ui/windows.js';
import type { CommandEngine } from './commands/engine.js';
import { formatEvent } from './ui/event-text.js';
import { App, type AppEngine } from './ui/App.js';
import { attachNotifier } from './ui/notify.js';
import { bareJid as bare } from './lib/jid.js';
import { reportCaught, settled } from './lib/diagnostics.js';

type Session = CoreApi & { close(): Promise<void> };

export interface TuiOptions {
  profileDir: string;
  account?: string;
  passwordFile?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** The core factory (default: createAccountSession); tests pass a fake. */
  createSession?: (opts: CreateAccountSessionOptions) => Promise<Session>;
}

const ALT_SCREEN_ON = '\u001b[?1049h';
const ALT_SCREEN_OFF = '\u001b[?1049l';


function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the TUI until /quit, Ctrl-C or SIGTERM/SIGHUP; resolves with the exit code. */
export async function startTui(opts: TuiOptions): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const env = opts.env ?? process.env;

  // The session arrives after the first frame; until then the windows see no current chat.
  let core: Session | undefined;
  let engine: CommandEngine | undefined;
  const lateCore: NonNullable<WindowsOptions['core']> = {
    openChat: (jid) => core?.openChat(jid),
    currentChat: () => core?.currentChat(),
    fetchOlder: async (jid) => {
      if (core?.fetchOlder) await core.fetchOlder(jid);
    },
  };
  const windows = new WindowManager({ core: lateCore, format: (e) => formatEvent(e) });
  let ready!: (e: CommandEngine) => void;
  let failed!: (e: unknown) => void;
  const engineReady = new Promise<CommandEngine>((resolve, reject) => ((ready = resolve), (failed = reject)));
  void settled(engineReady); // a failed start is reported by startTui's rejection
  const appEngine: AppEngine = {
    execute: async (line) => (engine ?? (await engineReady)).execute(line),
    completeAt: (line, cursor) => engine?.completeAt(line, cursor) ?? { start: cursor ?? line.length, candidates: [] },
  };

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
  const onTyping = (jid: string, state: 'composing' | 'paused' | 'active') => {
    if (typeof core?.typing === 'function') core.typing(jid, state);
  };
  windows.show({ event: 'info', message: 'xchat: /help lists the commands; Alt+1…0 or F1…F10 switch windows; /quit leaves.' });
  const ink = render(createElement(App, { windows, engine: appEngine, onQuit: () => quit(), onTyping }), {
    stdin,
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

  // ---- after the first frame: the profile, the session, the command table ----
  let accounts: string[] = [];
  const password = async (_jid: string): Promise<string | undefined> => {
    if (opts.passwordFile) return (await readFile(opts.passwordFile, 'utf8')).split(/\r?\n/)[0] || undefined;
    return env.XCHAT_PASSWORD || undefined;
  };
  // Ink paints its first frame synchronously in render(); the profile is opened after it.
  const create = opts.createSession ?? (await import('./core/index.js')).createAccountSession;
  let session: Session;
  let detach: () => void;
  let offSeen: () => void;
  try {
    const [s, { CommandEngine }] = await Promise.all([create({ profileDir: opts.profileDir, ...(opts.account ? { account: opts.account } : {}) }), import('./commands/engine.js')]);
    session = s;
    core = s;
    detach = windows.attach(s);
    const seen = new Set<string>();
    offSeen = s.on((e: XchatEvent) => {
      if (e.event === 'message') seen.add(bare(e.carbon === 'sent' ? e.to : e.from));
      else if (e.event === 'subscription') seen.add(bare(e.from));
      else if (e.event === 'trust' || e.event === 'device' || e.event === 'chat') seen.add(bare(e.jid));
    });
    engine = new CommandEngine({
      core: s,
      emit: (e) => windows.show(e),
      // Roster and presence JIDs from the core (when it offers them), open windows, JIDs seen.
      knownJids: () => [...new Set([...windows.list().flatMap((w) => (w.jid ? [w.name] : [])), ...(typeof s.knownJids === 'function' ? s.knownJids() : []), ...seen])],
      fingerprintsFor: (jid) => (typeof s.knownFingerprints === 'function' ? s.knownFingerprints(jid) : []),
      accountJids: () => accounts,
      password,
      windows,
    });
    ready(engine);
  } catch (e) {
    failed(e);
    teardown();
    throw e;
  }
  const refreshAccounts = () =>
    session.accountList().then(
      (l) => {
        accounts = l.map((a) => a.jid);
        return l;
      },
      () => [],
    );

  // With --account or a single configured account, connect right away (as `xchat run --account`).
  void refreshAccounts().then(async (list) => {
    const jid = opts.account ?? (list.length === 1 ? list[0].jid : undefined);
    if (!jid) {
      if (list.length === 0) windows.show({ event: 'info', message: 'no account yet: /account add JID, then /connect JID' });
      return;
    }
    try {
      const pw = await password(jid);
      await session.connect({ jid, ...(pw !== undefined ? { password: pw } : {}) });
    } catch (e) {
      windows.handle({ event: 'error', message: `connect ${jid}: ${errorMessage(e)}` });
    }
  });

  await quitting;
  let code = 0;
  session.urlCancel?.(); // Ctrl-C and signals too: a download never holds the exit
  try {
    await session.drain();
  } catch (e) {
    code = 1;
    reportCaught('tui: finish pending work on quit', e);
  }
  teardown();
  detach();
  offSeen();
  try {
    await session.close();
  } catch (e) {
    code = 1;
    reportCaught('tui: close the session on quit', e);
  }
  return code;
}
