// What a command is (the declarative table's row), the helpers every command file shares, and
// the help text made from the rows. The rows themselves are in table.ts and the *-commands.ts files.
import { displayFingerprint, parseFingerprintWords } from '../lib/fingerprint.js';
import type { AccountSettings, CoreApi, DeviceView, XchatEvent } from '../core/api.js';
import { UsageError } from './parser.js';
import type { ThemesApi, WindowsApi } from './windows-api.js';

export interface ArgSpec {
  name: string;
  description: string;
}

export interface CommandContext {
  core: CoreApi;
  /** Shows something to the user (help text, lists, command errors). */
  emit(e: XchatEvent): void;
  /** Roster and other known JIDs, for completion. */
  knownJids(): string[];
  /** Known fingerprints (64 hex) of a JID, for completion of /omemo trust|untrust. */
  fingerprintsFor(jid: string): string[];
  /** Configured account JIDs, for completion of /connect and /account. */
  accountJids(): string[];
  /** Password to pass to connect, when the front end has one (e.g. --password-file). */
  password(jid: string): Promise<string | undefined>;
  /** Asks the front end to end after pending sends (set by /quit). */
  quit(): void;
  /** The TUI's windows (/win, /wins, /close, /clear, /notify); absent in `xchat run`. */
  windows?: WindowsApi;
  /** The TUI's themes (/theme); absent in `xchat run`. */
  themes?: ThemesApi;
  table: readonly CommandDef[];
}

/** Arguments after the command (and subcommand) word. rest(i): raw text from argument i on. */
export interface RawArgs {
  rest(i: number): string;
}

export interface CommandDef {
  /** '/connect' for commands, 'trust' for subcommands. */
  name: string;
  synopsis: string[];
  description: string;
  args: ArgSpec[];
  subcommands?: CommandDef[];
  examples: string[];
  /** Candidates for the next argument, given the complete arguments typed so far. */
  complete?: (ctx: CommandContext, argsSoFar: string[]) => string[];
  /** Absent on commands that only dispatch to subcommands. */
  handler?: (ctx: CommandContext, args: string[], raw: RawArgs) => Promise<void> | void;
}

export { OMEMO_POLICIES, TLS_POLICIES, TRUST_MODES } from '../core/api.js';
export const ACCOUNT_SET_KEYS = ['server', 'port', 'tls', 'eval_password', 'omemo_policy', 'trust_mode', 'max_download', 'tls_pin', 'proxy'] as const;

// ---- helpers ------------------------------------------------------------------------------

export const info = (ctx: CommandContext, message: string) => ctx.emit({ event: 'info', message });

export function looksLikeJid(s: string): boolean {
  // user@domain[/resource] or a bare domain; no spaces anywhere but in the resource.
  return /^(?:[^\s@/"]+@)?[^\s@/"]+(?:\/.+)?$/.test(s);
}

export function requireJid(s: string | undefined, what = 'JID'): string {
  if (!s) throw new UsageError(`missing ${what}`);
  if (!looksLikeJid(s)) throw new UsageError(`"${s}" is not a JID`);
  return s;
}

export function noMoreArgs(args: string[], n: number): void {
  if (args.length > n) throw new UsageError(`unexpected argument "${args[n]}"`);
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T {
  if (value === undefined) throw new UsageError(`missing ${what} (${allowed.join('|')})`);
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`invalid ${what} "${value}" (${allowed.join('|')})`);
  return value as T;
}

/** Joins fingerprint words ("aaaaaaaa bbbbbbbb …", dashes, colons) into 64 lower hex. */
export function joinFingerprint(words: string[]): string {
  const r = parseFingerprintWords(words);
  if ('error' in r) throw new UsageError(r.error);
  return r.hex;
}

export function describeDevice(d: DeviceView): string {
  const flags = [d.own ? 'this device' : undefined, d.trust, d.active ? 'active' : 'inactive'].filter(Boolean).join(', ');
  return `  ${d.jid} device ${d.deviceId}: ${displayFingerprint(d.fingerprint)} (${flags})`;
}

export function describeAccount(a: AccountSettings): string {
  const parts = ACCOUNT_SET_KEYS.filter((k) => a[k] !== undefined).map((k) => `${k}=${String(a[k])}`);
  return parts.length ? `  ${a.jid} ${parts.join(' ')}` : `  ${a.jid}`;
}

/** /omemo trust|untrust [JID] FP: a first word that is a JID names it, else the current chat. */
export function jidAndFingerprint(ctx: CommandContext, args: string[]): { jid: string; fp: string } {
  if (args.length === 0) throw new UsageError('missing fingerprint');
  if (args[0].includes('@')) {
    return { jid: requireJid(args[0]), fp: joinFingerprint(args.slice(1)) };
  }
  const jid = ctx.core.currentChat();
  if (!jid) throw new UsageError('no current chat: name the JID');
  return { jid, fp: joinFingerprint(args) };
}

export function completeTrust(ctx: CommandContext, argsSoFar: string[]): string[] {
  if (argsSoFar.length === 0) {
    const cur = ctx.core.currentChat();
    return [...(cur ? ctx.fingerprintsFor(cur) : []), ...ctx.knownJids()];
  }
  if (argsSoFar.length === 1 && argsSoFar[0].includes('@')) return ctx.fingerprintsFor(argsSoFar[0]);
  return [];
}

export const jidsAt0 = (ctx: CommandContext, a: string[]) => (a.length === 0 ? ctx.knownJids() : []);

export function findCommand(table: readonly CommandDef[], name: string): CommandDef | undefined {
  const n = name.toLowerCase();
  const full = n.startsWith('/') ? n : `/${n}`;
  return table.find((c) => c.name === full);
}

// ---- help text (plain) --------------------------------------------------------------------

export function helpOverview(table: readonly CommandDef[]): string {
  const width = Math.max(...table.map((c) => c.name.length));
  return [
    'Commands (/help COMMAND for details):',
    ...table.map((c) => `  ${c.name.padEnd(width)}  ${firstSentence(c.description)}`),
    'Lines not starting with / are sent to the current chat.',
  ].join('\n');
}

export function helpText(c: CommandDef): string {
  const out: string[] = [...c.synopsis, '', c.description];
  if (c.args.length) {
    out.push('', 'Arguments:');
    for (const a of c.args) out.push(`  ${a.name}: ${a.description}`);
  }
  if (c.subcommands?.length) {
    out.push('', 'Subcommands:');
    for (const s of c.subcommands) out.push(`  ${s.synopsis[0]}: ${s.description}`);
  }
  if (c.examples.length) {
    out.push('', 'Examples:');
    for (const e of c.examples) out.push(`  ${e}`);
  }
  return out.join('\n');
}

function firstSentence(s: string): string {
  const m = /^(.*?\.)(\s|$)/.exec(s);
  return m ? m[1] : s;
}
