// Roster, presence, subscriptions and accounts; the JIDs and fingerprints this session knows (for
// completion).
import type { AccountSettings, ContactView, StatusShow } from '../api.js';
import { RosterState } from '../roster.js';
import { bareJid } from '../../lib/jid.js';
import type { SessionContext } from './context.js';
import type { XmppPort } from '../ports.js';

export class Contacts {
  readonly state = new RosterState();
  private readonly fingerprints = new Map<string, Set<string>>();
  /** The user's own status, kept across reconnects. */
  private status?: { show: StatusShow; message?: string };

  constructor(private readonly ctx: SessionContext) {}

  noteFingerprint(jid: string, fp: string): void {
    const b = bareJid(jid);
    const set = this.fingerprints.get(b) ?? new Set<string>();
    set.add(fp);
    this.fingerprints.set(b, set);
  }

  knownFingerprints(jid: string): string[] {
    return [...(this.fingerprints.get(bareJid(jid)) ?? [])];
  }

  /** For completion: the roster, chats, and everyone whose devices or fingerprints we know. */
  knownJids(more: Iterable<string>): string[] {
    const all = new Set([...this.state.jids(), ...more, ...this.fingerprints.keys()]);
    if (this.ctx.current) all.add(this.ctx.current);
    return [...all].sort();
  }

  async subscription(action: 'request' | 'allow' | 'deny', jid: string): Promise<void> {
    await this.ctx.online().xmpp.subscription(action, bareJid(jid));
    this.ctx.info(`subscription ${action} sent to ${bareJid(jid)}`);
  }

  async rosterAdd(jid: string, nick?: string): Promise<void> {
    const b = bareJid(jid);
    await this.ctx.online().xmpp.rosterAdd(b, nick);
    this.ctx.info(`roster: ${b} added${nick ? ` as ${nick}` : ''} (to see their presence: /sub request ${b})`);
  }

  async rosterRemove(jid: string): Promise<void> {
    const b = bareJid(jid);
    await this.ctx.online().xmpp.rosterRemove(b);
    this.ctx.info(`roster: ${b} removed`);
  }

  async rosterNick(jid: string, nick: string): Promise<void> {
    const b = bareJid(jid);
    const x = this.ctx.online().xmpp;
    if (this.state.contact(b).subscription === undefined) throw new Error(`${b} is not in the roster: /roster add ${b} ${nick}`);
    await x.rosterAdd(b, nick);
    this.ctx.info(`roster: ${b} is now called ${nick}`);
  }

  async setStatus(show: StatusShow, message?: string): Promise<void> {
    await this.ctx.online().xmpp.setPresence(show === 'online' ? undefined : show, message || undefined);
    this.status = { show, ...(message ? { message } : {}) };
    this.ctx.info(`status: ${show}${message ? ` (${message})` : ''}`);
  }

  /** After a reconnect: the status the user set last (a new connection starts as plain online). */
  async restoreStatus(xmpp: XmppPort): Promise<void> {
    const s = this.status;
    if (!s || (s.show === 'online' && !s.message)) return;
    await xmpp.setPresence(s.show === 'online' ? undefined : s.show, s.message);
  }

  presences(): ContactView[] {
    return this.state.withPresence(this.ctx.account?.jid);
  }

  accountAdd(jid: string): Promise<void> {
    return this.ctx.deps.accounts.add(bareJid(jid));
  }
  async accountSet(jid: string, key: keyof AccountSettings, value: string): Promise<void> {
    await this.ctx.deps.accounts.set(bareJid(jid), key, key === 'port' ? Number(value) : value);
  }
  accountList(): Promise<AccountSettings[]> {
    return this.ctx.deps.accounts.list();
  }
  async accountRemove(jid: string): Promise<void> {
    await this.ctx.deps.accounts.remove(bareJid(jid));
    await this.ctx.deps.scramKeys?.forget(bareJid(jid));
  }
}
