// Runs lines typed by the user (TUI) or read from stdin (`xchat run`) against a CoreApi, and
// completes partial lines. Everything it knows about commands comes from table.ts.
import type { CoreApi, XchatEvent } from '../core/api.js';
import { ParseError, UsageError, parseLine, tokenize } from './parser.js';
import { COMMANDS, findCommand, type CommandContext, type CommandDef } from './table.js';
import type { ThemesApi, WindowsApi } from './windows-api.js';

export interface EngineOptions {
  core: CoreApi;
  /** Where command output (help, lists, command errors) goes. Core events go through core.on. */
  emit: (e: XchatEvent) => void;
  knownJids?: () => string[];
  fingerprintsFor?: (jid: string) => string[];
  accountJids?: () => string[];
  password?: (jid: string) => Promise<string | undefined>;
  /** The TUI's windows; without it the window commands say they need the TUI. */
  windows?: WindowsApi;
  /** The TUI's themes (/theme). */
  themes?: ThemesApi;
  table?: readonly CommandDef[];
}

export interface ExecResult {
  ok: boolean;
  /** The line was wrong (unknown command, bad arguments): one-shot front ends exit 2. */
  usage?: boolean;
  /** /quit was run: drain and stop. */
  quit?: boolean;
}

export interface Completion {
  /** Offset in the line where the word being completed starts. */
  start: number;
  /** Replacements for line.slice(start, cursor). */
  candidates: string[];
}

export class CommandEngine {
  readonly ctx: CommandContext;
  private quitRequested = false;

  constructor(private readonly opts: EngineOptions) {
    const table = opts.table ?? COMMANDS;
    this.ctx = {
      core: opts.core,
      emit: opts.emit,
      // The front end's own sources plus the core's roster and OMEMO device records.
      knownJids: () => [...new Set([...(opts.knownJids?.() ?? []), ...opts.core.knownJids()])],
      fingerprintsFor: (jid) => [...new Set([...(opts.fingerprintsFor?.(jid) ?? []), ...opts.core.knownFingerprints(jid)])],
      accountJids: opts.accountJids ?? (() => []),
      password: opts.password ?? (async () => undefined),
      quit: () => {
        this.quitRequested = true;
      },
      table,
      ...(opts.windows ? { windows: opts.windows } : {}),
      ...(opts.themes ? { themes: opts.themes } : {}),
    };
  }

  get table(): readonly CommandDef[] {
    return this.ctx.table;
  }

  private error(message: string): void {
    this.opts.emit({ event: 'error', message });
  }

  async execute(line: string): Promise<ExecResult> {
    const text = line.replace(/\r?\n$/, '');
    if (text.trim() === '') return { ok: true };
    if (!text.trimStart().startsWith('/')) return this.sendToCurrentChat(text);

    let parsed;
    try {
      parsed = parseLine(text);
    } catch (e) {
      if (e instanceof ParseError) {
        this.error(e.message);
        return { ok: false, usage: true };
      }
      throw e;
    }
    const cmd = findCommand(this.table, parsed.command);
    if (!cmd) {
      this.error(`Unknown command: ${parsed.command} (try /help)`);
      return { ok: false, usage: true };
    }

    // Resolve a subcommand: args and raw rest shift by one.
    let def: CommandDef = cmd;
    let args = parsed.args;
    let offset = 0;
    // A command may act on its own without arguments (/roster lists) and have subcommands.
    if (cmd.subcommands && !(args.length === 0 && cmd.handler)) {
      const subName = args[0]?.toLowerCase();
      const sub = subName === undefined ? undefined : cmd.subcommands.find((s) => s.name === subName);
      if (!sub) {
        this.usage(cmd, subName === undefined ? `missing subcommand` : `unknown subcommand "${args[0]}"`);
        return { ok: false, usage: true };
      }
      def = sub;
      args = args.slice(1);
      offset = 1;
    }
    if (!def.handler) {
      this.usage(def, '');
      return { ok: false, usage: true };
    }
    try {
      await def.handler(this.ctx, args, { rest: (i) => parsed.rest(i + offset) });
    } catch (e) {
      if (e instanceof UsageError) {
        this.usage(def, e.message);
        return { ok: false, usage: true };
      }
      this.error(errorMessage(e));
      return { ok: false };
    }
    if (this.quitRequested) return { ok: true, quit: true };
    return { ok: true };
  }

  /** A message to the current chat whatever it starts with (the TUI's paste is never a command). */
  async say(text: string): Promise<ExecResult> {
    if (text.trim() === '') return { ok: true };
    return this.sendToCurrentChat(text);
  }

  private usage(def: CommandDef, reason: string): void {
    const syn = def.synopsis.join('\n       ');
    this.error(reason ? `${reason}\nusage: ${syn}` : `usage: ${syn}`);
  }

  private async sendToCurrentChat(text: string): Promise<ExecResult> {
    const chat = this.opts.core.currentChat();
    if (!chat) {
      this.error('no chat window: use /msg JID first');
      return { ok: false };
    }
    try {
      await this.opts.core.sendMessage(chat, text);
      return { ok: true };
    } catch (e) {
      this.error(errorMessage(e));
      return { ok: false };
    }
  }

  /** Candidates for the word before the cursor. */
  complete(line: string, cursor = line.length): string[] {
    return this.completeAt(line, cursor).candidates;
  }

  completeAt(line: string, cursor = line.length): Completion {
    const before = line.slice(0, cursor);
    const none: Completion = { start: cursor, candidates: [] };
    if (!before.trimStart().startsWith('/')) return none;
    const { tokens, openQuote } = tokenize(before, true);
    const endsWithSpace = !openQuote && /\s$/.test(before);
    const done = endsWithSpace ? tokens : tokens.slice(0, -1);
    const partial = endsWithSpace ? '' : (tokens[tokens.length - 1]?.value ?? '');
    const start = endsWithSpace ? cursor : (tokens[tokens.length - 1]?.start ?? cursor);
    const words = done.map((t) => t.value);

    let candidates: string[];
    if (words.length === 0) {
      candidates = this.table.map((c) => c.name);
    } else {
      let def = findCommand(this.table, words[0]);
      let args = words.slice(1);
      if (def?.subcommands) {
        if (args.length === 0) candidates = def.subcommands.map((s) => s.name);
        else {
          def = def.subcommands.find((s) => s.name === args[0].toLowerCase());
          args = args.slice(1);
          candidates = def?.complete?.(this.ctx, args) ?? [];
        }
      } else {
        candidates = def?.complete?.(this.ctx, args) ?? [];
      }
    }
    const p = partial.toLowerCase();
    const seen = new Set<string>();
    const out = candidates.filter((c) => {
      if (seen.has(c) || !c.toLowerCase().startsWith(p)) return false;
      seen.add(c);
      return true;
    });
    return { start, candidates: out };
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
