// Which account's OMEMO identity is loaded: the connected one, or offline the default account (so
// fingerprints and trust work without a connection). Identity key changes are announced here.
import { OmemoManager, type IdentityChange } from '../../omemo/manager.js';
import { shortFingerprint } from '../../lib/fingerprint.js';
import { bareJid } from '../../lib/jid.js';
import type { Account, SessionContext } from './context.js';
import { replayJournal } from './catch-up.js';
import { logged } from '../../lib/diagnostics.js';

export class Identity {
  constructor(private readonly ctx: SessionContext) {}

  /**
   * The account `jid` with its settings and OMEMO store (the current one when it is the same).
   * Settings the account has not stored: the defaults on connect, this session's choice offline.
   */
  async load(jid: string, unset: 'defaults' | 'keep' = 'defaults'): Promise<Account> {
    const settings = await this.ctx.deps.accounts.get(jid);
    this.ctx.policy = settings?.omemo_policy ?? (unset === 'keep' ? this.ctx.policy : 'automatic');
    this.ctx.trustMode = settings?.trust_mode ?? (unset === 'keep' ? this.ctx.trustMode : 'btbv');
    const current = this.ctx.account;
    if (current && current.jid === jid) {
      current.omemo.setTrustMode(this.ctx.trustMode);
      return current;
    }
    const omemo = new OmemoManager(await this.ctx.deps.openOmemoStore(jid), {
      ownJid: jid,
      trustMode: this.ctx.trustMode,
      onIdentityChange: (c) => this.warnIdentityChange(c),
    });
    // Sessions of an archive page committed before a crash kept them from the OMEMO store.
    const history = this.ctx.deps.history;
    if (history) {
      const journal = { sessionJournal: () => history.sessionJournal(jid), clearSessionJournal: () => history.clearSessionJournal(jid) };
      await replayJournal(journal, omemo).catch(logged('identity: replay the OMEMO session journal'));
    }
    this.ctx.account = { jid, omemo };
    return this.ctx.account;
  }

  /** The loaded account; offline, the default one is loaded for fingerprint and trust commands. */
  async require(): Promise<Account> {
    if (this.ctx.account) return this.ctx.account;
    const jid = this.ctx.deps.defaultJid;
    if (!jid) throw new Error('no account: /connect JID first, or /account add JID');
    return this.load(bareJid(jid), 'keep');
  }

  /** A device id that comes back with another identity key may be someone else: say so, loudly. */
  private warnIdentityChange(c: IdentityChange): void {
    const whose = c.jid === this.ctx.account?.jid ? 'your own account' : c.jid;
    const decided = c.state === 'trusted' ? 'it is trusted because the trust mode is blind' : 'nothing is encrypted for it until you decide';
    this.ctx.emit({
      event: 'warning',
      reason: 'identity-changed',
      jid: c.jid,
      devices: [c.deviceId],
      message:
        `SECURITY: device ${c.deviceId} of ${whose} has a NEW identity key (was ${shortFingerprint(c.oldFingerprint)}, ` +
        `now ${shortFingerprint(c.newFingerprint)}); ${decided}. Compare fingerprints with the contact, then: ` +
        `/omemo trust ${c.jid} ${c.newFingerprint}`,
    });
  }
}
