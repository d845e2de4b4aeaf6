// Shared set-up for the TUI tests: a WindowManager on a FakeCore, a CommandEngine, the App.
import { render } from 'ink-testing-library';
import type { CoreApi, XchatEvent } from '../../src/core/api.js';
import { CommandEngine } from '../../src/commands/engine.js';
import { WindowManager } from '../../src/ui/windows.js';
import { App, type ThemeSource } from '../../src/ui/App.js';
import type { SecretPrompt } from '../../src/ui/secret-prompt.js';
import { FakeCore } from '../commands/fake-core.js';

/** 2024-05-01 21:03:00 local time: a fixed clock for the status bar. */
export const NOW = new Date(2024, 4, 1, 21, 3, 0).getTime();

// eslint-disable-next-line no-control-regex
export const strip = (s: string | undefined) => (s ?? '').replace(/\u001b\[[0-9;]*m/g, '');

export function setup(opts: { rows?: number; columns?: number; knownJids?: string[]; secret?: SecretPrompt; themes?: ThemeSource } = {}) {
  const core = new FakeCore();
  const windows = new WindowManager({ core, now: () => NOW });
  windows.attach(core);
  let quits = 0;
  const typing: string[] = [];
  const engine = new CommandEngine({
    core: core as unknown as CoreApi,
    emit: (e: XchatEvent) => windows.show(e),
    knownJids: () => opts.knownJids ?? [],
    windows,
  });
  const r = render(
    <App
      windows={windows}
      engine={engine}
      onQuit={() => quits++}
      onTyping={(jid, state) => typing.push(`${jid}:${state}`)}
      {...(opts.rows !== undefined ? { rows: opts.rows } : {})}
      {...(opts.columns !== undefined ? { columns: opts.columns } : {})}
      now={() => NOW}
      {...(opts.secret ? { secret: opts.secret } : {})}
      {...(opts.themes ? { themes: opts.themes } : {})}
    />,
  );
  const frame = () => strip(r.lastFrame());
  const lines = () => frame().split('\n');
  return { core, windows, engine, ...r, frame, lines, quits: () => quits, typing };
}

/** Lets ink process input and re-render. */
export const tick = (ms = 30) => new Promise((res) => setTimeout(res, ms));

export function msg(from: string, body: string, extra: Partial<Extract<XchatEvent, { event: 'message' }>> = {}): XchatEvent {
  return { event: 'message', from: `${from}/res`, to: 'alice@localhost', body, encryption: 'omemo', trust: 'trusted', stamp: new Date(NOW).toISOString(), ...extra };
}
