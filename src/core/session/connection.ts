// Connecting and disconnecting one account: the password, the XMPP port (or the connection started
// early), our OMEMO identity online, the events of the connection routed to the parts that handle
// them, rooms rejoined and the archive read.
import { execFile } from 'node:child_process';
import type { AccountSettings, ConnectOptions, PrivacyReport } from '../api.js';
import type { XmppConnectParams, XmppPort } from '../ports.js';
import type { MucCore } from '../muc/index.js';
import { bareJid } from '../../lib/jid.js';
import { errText, type SessionContext } from './context.js';
import type { Identity } from './identity.js';
import type { DeviceLists } from './device-lists.js';
import type { CatchUp } from './catch-up.js';
import type { Contacts } from './contacts.js';
import { RetryTimer } from './reconnect.js';
import type { RosterState } from '../roster.js';
import { reportCaught, settled } from '../../lib/diagnostics.js';

/** A lost stream: what resuming it needs, and the presence to put back if it is resumed. */
interface LostStream {
  resumption: unknown;
  presence: ReturnType<RosterState['presenceSnapshot']>;
}

export class Connection {
  /** The parameters of the last successful connection (the password stays in memory only). */
  private last?: XmppConnectParams;
  /** Messages the lost connection's server never confirmed: sent again on the next one. */
  private readonly unacked: unknown[] = [];
  /** The stream the connection lost, while the server may still keep it for a resume. */
  private lostStream?: LostStream;
  /** The account of the latest /connect, successful or not (for /tls trust). */
  private attempted?: string;
  /** The user wants to be online: set by a successful connect, cleared by /disconnect. */
  private wanted = false;
  private readonly retry: RetryTimer;
  /** Settles when the archive catch-up of the latest connection is done (failed or not). */
  caughtUp: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: SessionContext,
    private readonly identity: Identity,
    private readonly deviceLists: DeviceLists,
    private readonly catchUp: CatchUp,
    private readonly contacts: Contacts,
    private readonly muc: MucCore,
    private readonly hooks: { retryDelay?: (attempt: number) => number; afterCatchUp?: () => Promise<void> } = {},
  ) {
    this.retry = new RetryTimer(hooks.retryDelay);
  }

  async connect(opts: ConnectOptions): Promise<void> {
    this.retry.cancel();
    const jid = bareJid(opts.jid);
    this.attempted = jid;
    const settings = await this.ctx.deps.accounts.get(jid);
    const password = await this.password(opts, settings);
    const proxy = proxyFor(this.ctx.deps.proxy, settings);
    const params: XmppConnectParams = {
      jid,
      password,
      server: opts.server ?? settings?.server,
      port: opts.port ?? settings?.port,
      tls: opts.tls ?? settings?.tls ?? 'force',
      ...(settings?.tls_pin ? { tlsPin: settings.tls_pin } : {}),
      ...(proxy ? { proxy } : {}),
      ...(this.ctx.deps.scramKeys ? { scramKeys: this.ctx.deps.scramKeys } : {}),
    };
    await this.open(params, true).catch(async (e: unknown) => {
      const cert = certificateRefused(e);
      if (!opts.trustCertificate || !cert) throw withCertificateHint(e, jid);
      // The user asked for it (tls trust): this certificate, and only it, from now on.
      await this.trustCertificate(cert.fingerprint, jid);
      this.ctx.warn(`pinned the certificate ${cert.fingerprint} of ${params.server ?? jid.split('@')[1]} for ${jid} as asked (tls trust): from now on only this certificate is accepted for ${jid}${cert.pinned ? `, replacing ${cert.pinned}` : ''}`);
      await this.open({ ...params, tlsPin: cert.fingerprint }, false);
    });
    await this.remember(opts);
  }

  /** /tls trust FP: this certificate (SHA-256) is accepted for the account from now on. */
  async trustCertificate(fingerprint: string, jid?: string): Promise<string> {
    const account = jid ? bareJid(jid) : (this.attempted ?? this.ctx.account?.jid);
    if (!account) throw new Error('no account: /tls trust FINGERPRINT JID, or /connect JID first');
    const accounts = this.ctx.deps.accounts;
    if (!(await accounts.get(account))) await accounts.add(account);
    await accounts.set(account, 'tls_pin', fingerprint);
    return account;
  }

  /** /privacy: the account's connection as it is now, or as the next /connect would make it. */
  async privacy(): Promise<PrivacyReport> {
    const jid = this.last?.jid ?? this.attempted ?? this.ctx.account?.jid ?? this.ctx.deps.defaultJid;
    const settings = jid ? await this.ctx.deps.accounts.get(bareJid(jid)) : undefined;
    const proxy = this.last?.proxy ?? proxyFor(this.ctx.deps.proxy, settings);
    const link = this.ctx.onlineOrUndefined();
    const security = link?.xmpp.security?.() ?? {};
    const host = this.last?.server ?? settings?.server ?? (jid ? bareJid(jid).split('@')[1] : undefined);
    const pin = this.last?.tlsPin ?? settings?.tls_pin;
    return {
      ...(jid ? { account: bareJid(jid) } : {}),
      online: link !== undefined,
      ...(host ? { server: `${host}:${this.last?.port ?? settings?.port ?? 5222}` } : {}),
      ...(proxy ? { proxy } : {}),
      ...(pin ? { pinnedCertificate: pin } : {}),
      tlsPolicy: this.last?.tls ?? settings?.tls ?? 'force',
      ...(security.tls ? { tls: security.tls } : {}),
      ...(security.mechanism ? { mechanism: security.mechanism } : {}),
      ...(security.channelBinding ? { channelBinding: security.channelBinding } : {}),
      ...(security.cachedKeys !== undefined ? { cachedKeys: security.cachedKeys } : {}),
      omemoPolicy: this.ctx.policy,
      trustMode: this.ctx.trustMode,
    };
  }

  /** /connect without arguments: try the last account again now. False when there is none. */
  async reconnectNow(): Promise<boolean> {
    const params = this.last;
    if (!params) return false;
    this.retry.cancel();
    await this.open(params, false);
    return true;
  }

  /** One connection attempt; on success the session is online and lost connections are retried. */
  private async open(params: XmppConnectParams, mayTakeEarly: boolean): Promise<void> {
    this.ctx.emit({ event: 'status', status: 'connecting', jid: params.jid });
    const early = mayTakeEarly ? this.ctx.deps.takeEarlyConnection?.(params) : undefined;
    const xmpp = early?.xmpp ?? this.ctx.deps.createXmpp();
    this.wire(xmpp);
    this.ctx.port = xmpp;
    const account = await this.identity.load(params.jid);
    // From here on the session is in the state a fresh connection would find it in.
    early?.release();
    const resume = early ? undefined : this.lostStream?.resumption;
    const fullJid = await (early ? early.connected : xmpp.connect(resume ? { ...params, resume } : params));
    const lost = this.lostStream;
    this.lostStream = undefined;
    const link = { state: 'online' as const, xmpp, fullJid, jid: params.jid, omemo: account.omemo };
    this.ctx.link = link;
    this.last = params;
    this.wanted = true;
    this.retry.reset();
    if (xmpp.resumed?.()) return this.resumedStream(params, fullJid, lost);
    await this.ctx.queue.run(() => this.deviceLists.setUpOwn(link)).catch((e: unknown) => {
      this.catchUp.releaseHeld();
      throw e;
    });
    await this.resendUnacked(xmpp);
    this.ctx.emit({ event: 'status', status: 'online', jid: fullJid, ...(params.proxy ? { via: params.proxy } : {}) });
    this.ctx.background('restoring your status failed', () => this.contacts.restoreStatus(xmpp));
    this.ctx.track(this.muc.online()).catch((e) => this.ctx.error(`joining rooms failed: ${errText(e)}`));
    const caughtUp = this.ctx.queue.run(() => this.catchUp.run());
    this.caughtUp = settled(caughtUp);
    this.ctx.track(caughtUp).catch((e) => this.ctx.error(`catching up from the archive failed: ${errText(e)}`));
    // Behind the catch-up on the one queue: what was typed offline goes out after what came in.
    const after = this.hooks.afterCatchUp;
    if (after) this.ctx.background('sending the outbox failed', after);
  }

  /**
   * The server still had the lost session and took it back (XEP-0198): it replays what it held for
   * us and @xmpp resends what it had not acknowledged, so nothing is fetched, rejoined or sent
   * again here. Presence and rooms are as the server kept them.
   */
  private resumedStream(params: XmppConnectParams, fullJid: string, lost: LostStream | undefined): void {
    this.unacked.splice(0);
    if (lost) {
      this.contacts.state.restorePresence(lost.presence);
      for (const [jid, list] of lost.presence) {
        for (const r of list) this.ctx.emit({ event: 'presence', jid: `${jid}${r.resource ? `/${r.resource}` : ''}`, show: r.show, ...(r.status ? { status: r.status } : {}) });
      }
    }
    this.muc.resumed();
    this.catchUp.releaseHeld();
    this.caughtUp = Promise.resolve();
    this.ctx.emit({ event: 'status', status: 'online', jid: fullJid, resumed: true, ...(params.proxy ? { via: params.proxy } : {}) });
    const after = this.hooks.afterCatchUp;
    if (after) this.ctx.background('sending the outbox failed', after);
  }

  /** What the server never confirmed on the lost connection goes out once more, as it was. */
  private async resendUnacked(xmpp: XmppPort): Promise<void> {
    const stanzas = this.unacked.splice(0);
    if (stanzas.length === 0 || !xmpp.resend) return;
    const n = await xmpp.resend(stanzas);
    this.ctx.info(`${n} message${n === 1 ? '' : 's'} the server had not confirmed before the connection was lost ${n === 1 ? 'was' : 'were'} sent again`);
  }

  /**
   * A successful /connect is remembered as Profanity does: the account and the server, port and
   * tls given with it, so the next start (and xchat listen|send) finds it.
   */
  private async remember(opts: ConnectOptions): Promise<void> {
    const jid = bareJid(opts.jid);
    const accounts = this.ctx.deps.accounts;
    // Asked now, not before connecting: /connect … tls trust may have added it meanwhile.
    if (!(await accounts.get(jid))) await accounts.add(jid);
    if (opts.server !== undefined) await accounts.set(jid, 'server', opts.server);
    if (opts.port !== undefined) await accounts.set(jid, 'port', opts.port);
    if (opts.tls !== undefined) await accounts.set(jid, 'tls', opts.tls);
  }

  async disconnect(): Promise<void> {
    this.wanted = false; // a user's /disconnect is final: no retry
    this.retry.cancel();
    await this.ctx.drain();
    const x = this.ctx.port;
    this.ctx.port = undefined;
    this.ctx.link = { state: 'offline' };
    this.contacts.state.clearPresence();
    if (x) await x.disconnect();
    this.ctx.emit({ event: 'status', status: 'offline' });
  }

  /** The connection was lost (not by /disconnect): try again after the backoff delay. */
  private lost(failure?: string): void {
    const params = this.last;
    if (!this.wanted || !params || this.retry.pending) return;
    const ms = this.retry.schedule(() => void this.attempt(params));
    this.ctx.emit({ event: 'status', status: 'reconnecting', jid: params.jid, retry_in: Math.ceil(ms / 1000), ...(failure ? { reason: failure } : {}) });
  }

  private async attempt(params: XmppConnectParams): Promise<void> {
    if (!this.wanted) return;
    try {
      await this.open(params, false);
    } catch (e) {
      // A refused password will be refused again: stop and say so instead of hammering the server.
      if ((e as { condition?: string } | null)?.condition === 'auth') {
        this.wanted = false;
        this.ctx.error(`reconnecting to ${params.jid} stopped: ${errText(e)}. Fix the password, then /connect`, undefined, 'auth');
        this.ctx.emit({ event: 'status', status: 'offline' });
        return;
      }
      // Said once, in the 'reconnecting' line of this attempt, not as a warning of its own.
      reportCaught(`reconnecting to ${params.jid} failed`, e, 'info');
      this.lost(errText(e));
    }
  }

  private wire(x: XmppPort): void {
    this.catchUp.hold();
    this.muc.attach(x);
    x.on('message', (m) => this.catchUp.receive(m));
    x.on('error', (e) => this.ctx.error(e.message, e.from));
    x.on('warning', (message) => this.ctx.warn(message));
    x.on('offline', (reason) => {
      if (this.ctx.port !== x) return; // a connection already replaced
      this.unacked.push(...(x.takeUnacked?.() ?? []));
      const resumption = x.takeResumption?.();
      this.lostStream = resumption ? { resumption, presence: this.contacts.state.presenceSnapshot() } : undefined;
      this.ctx.link = { state: 'offline' };
      this.contacts.state.clearPresence();
      this.ctx.emit({ event: 'status', status: 'offline' });
      if (reason && reason !== 'disconnected' && reason !== 'offline') this.ctx.info(`disconnected: ${reason}`);
      this.lost();
    });
    x.on('subscription', (s) => this.ctx.emit({ event: 'subscription', from: s.from, type: s.type }));
    x.on('roster', (items) => this.contacts.state.setItems(items));
    x.on('presence', (p) => {
      this.contacts.state.onPresence(p);
      const link = this.ctx.onlineOrUndefined();
      if (link && p.from === link.fullJid) return; // the server reflecting our own presence
      const show = p.type === 'unavailable' ? 'offline' : p.show === 'away' || p.show === 'xa' || p.show === 'dnd' || p.show === 'chat' ? p.show : 'online';
      this.ctx.emit({ event: 'presence', jid: p.from, show, ...(p.status ? { status: p.status } : {}) });
    });
    x.on('devicelist', (d) => this.ctx.background(`device list of ${d.jid} could not be handled`, () => this.deviceLists.onNotification(d.jid, d.ids), d.jid));
  }

  private async password(opts: ConnectOptions, settings?: AccountSettings): Promise<string> {
    if (opts.password) return opts.password;
    const env = this.ctx.deps.env ?? process.env;
    if (env.XCHAT_PASSWORD) return env.XCHAT_PASSWORD;
    const command = settings?.eval_password;
    if (command) {
      const out = await new Promise<string>((resolve, reject) => {
        execFile('/bin/sh', ['-c', command], { timeout: 30_000 }, (err, stdout) =>
          err ? reject(new Error(`eval_password failed: ${err.message}`)) : resolve(stdout),
        );
      });
      const line = out.split('\n')[0];
      if (line) return line;
    }
    throw new Error(
      `no password for ${opts.jid}: set XCHAT_PASSWORD, use --password-file, or /account set ${opts.jid} eval_password "CMD"`,
    );
  }
}

/** The certificate a connection refused (untrusted or not the pinned one), if that was the failure. */
function certificateRefused(e: unknown): { fingerprint: string; pinned?: string; message: string } | undefined {
  const cert = e as { condition?: string; fingerprint?: string; info?: { pinned?: string }; message?: string } | null;
  if (cert?.condition !== 'certificate' || !cert.fingerprint) return undefined;
  return { fingerprint: cert.fingerprint, message: cert.message ?? '', ...(cert.info?.pinned ? { pinned: cert.info.pinned } : {}) };
}

/** An untrusted or changed certificate: the message ends with the command that accepts it. */
function withCertificateHint(e: unknown, jid: string): unknown {
  const cert = certificateRefused(e);
  if (!cert) return e;
  return new Error(`${cert.message}. If you are sure it is your server's: /tls trust ${cert.fingerprint} (for ${jid}), then /connect (or /connect ${jid} tls trust)`);
}

/** The proxy an account's connections use: --proxy first, then the account's setting. */
export function proxyFor(cliProxy: string | undefined, settings: AccountSettings | undefined): string | undefined {
  return cliProxy ?? settings?.proxy;
}
