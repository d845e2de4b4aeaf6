// `xchat` without a subcommand: the full-screen TUI. Only this module (loaded with a dynamic
// import by cli.ts) pulls in ink and react, so `xchat run|send|listen` start without them.
import './ui/interactive.js';
import { readFile } from 'node:fs/promises';
import { createElement } from 'react';
import { render } from 'ink';
import type { CoreApi, XchatEvent } from './core/api.js';
import { createAccountSession } from './core/index.js';
import { WindowManager } from './core/windows.js';
import { CommandEngine } from './commands/engine.js';
import { formatEvent } from './output.js';
import { App } from './ui/App.js';
import { attachNotifier } from './ui/notify.js';

export interface TuiOptions {
  profileDir: string;
  account?: string;
  passwordFile?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** The core factory; tests pass a fake. */
  createSession?: typeof createAccountSession;
}

const ALT_SCREEN_ON = '\u001b[?1049h';
const ALT_SCREEN_OFF = '\u001b[?1049l';

const bare = (j: string) => j.split('/')[0];

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs the TUI until /quit, Ctrl-C or SIGTERM/SIGHUP; resolves with the exit code. */
export async function startTui(opts: TuiOptions): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const env = opts.env ?? process.env;
  const core: CoreApi & { close(): Promise<void> } = await (opts.createSession ?? createAccountSession)({
    profileDir: opts.profileDir,
    ...(opts.account ? { account: opts.account } : {}),
  });

  const windows = new WindowManager({ core, format: (e) => formatEvent(e) });
  const detach = windows.attach(core);
  const seen = new Set<string>();
  const offSeen = core.on((e: XchatEvent) => {
    if (e.event === 'message') seen.add(bare(e.carbon === 'sent' ? e.to : e.from));
    else if (e.event === 'subscription') seen.add(bare(e.from));
    else if (e.event === 'trust' || e.event === 'device' || e.event === 'chat') seen.add(bare(e.jid));
  });
  let accounts: string[] = [];
  const refreshAccounts = () =>
    core.accountList().then(
      (l) => {
        accounts = l.map((a) => a.jid);
        return l;
      },
      () => [],
    );
  const password = async (_jid: string): Promise<string | undefined> => {
    if (opts.passwordFile) return (await readFile(opts.passwordFile, 'utf8')).split(/\r?\n/)[0] || undefined;
    return env.XCHAT_PASSWORD || undefined;
  };
  const engine = new CommandEngine({
    core,
    emit: (e) => windows.show(e),
    // Roster and presence JIDs from the core (when it offers them), open windows, JIDs seen.
    knownJids: () => [...new Set([...windows.list().flatMap((w) => (w.jid ? [w.name] : [])), ...(typeof core.knownJids === 'function' ? core.knownJids() : []), ...seen])],
    fingerprintsFor: (jid) => (typeof core.knownFingerprints === 'function' ? core.knownFingerprints(jid) : []),
    accountJids: () => accounts,
    password,
    windows,
  });

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
    if (typeof core.typing === 'function') core.typing(jid, state);
  };
  const ink = render(createElement(App, { windows, engine, onQuit: () => quit(), onTyping }), {
    stdin,
    stdout,
    exitOnCtrlC: false,
    // Stray console output would tear the full-screen layout; the core reports through events.
    patchConsole: false,
    // Ink's default 30 fps throttle would hold a keystroke's echo back up to 33 ms; a frame
    // costs a few ms, so 120 fps keeps echo immediate and still caps redraws under a flood.
    maxFps: 120,
  });

  windows.show({ event: 'info', message: 'xchat: /help lists the commands; Alt+1…0 or F1…F10 switch windows; /quit leaves.' });
  // With --account or a single configured account, connect right away (as `xchat run --account`).
  void refreshAccounts().then(async (list) => {
    const jid = opts.account ?? (list.length === 1 ? list[0].jid : undefined);
    if (!jid) {
      if (list.length === 0) windows.show({ event: 'info', message: 'no account yet: /account add JID, then /connect JID' });
      return;
    }
    try {
      const pw = await password(jid);
      await core.connect({ jid, ...(pw !== undefined ? { password: pw } : {}) });
    } catch (e) {
      windows.handle({ event: 'error', message: `connect ${jid}: ${errorMessage(e)}` });
    }
  });

  await quitting;
  let code = 0;
  try {
    await core.drain();
  } catch {
    code = 1;
  }
  ink.unmount();
  offNotify();
  stdout.write('\u001b]0;\u0007');
  restoreScreen();
  process.removeListener('exit', restoreScreen);
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGHUP', onSignal);
  detach();
  offSeen();
  try {
    await core.close();
  } catch {
    code = 1;
  }
  return code;
}
