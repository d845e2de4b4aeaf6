// XmppSession: one @xmpp/client connection, the composition root of the XMPP floor. It builds the
// features (each in its own file, on the XmppStream interface), owns the login (SCRAM only, our
// STARTTLS step in starttls.ts), routes stanzas to the features, tracks IQs (iq-tracker.ts) and
// emits typed events. @xmpp/client internals are touched only in xmpp-client-private.ts.
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { jid as parseJid, xml, type Client, type Element } from '@xmpp/client';
import { XmppError, toXmppError } from './errors.js';
import { bareJid as bareOf } from '../lib/jid.js';
import { logged, reportCaught, settled } from '../lib/diagnostics.js';
import type { IqHandler, XmppErrorEvent, XmppEvents, XmppStream } from './stream.js';
import { IqTracker } from './iq-tracker.js';
import { describeLogin, type LoginSecurity, type ScramState } from './scram.js';
import { prepareClient, proxiedSocket, type ConnectOptions, type LoginTarget } from './login.js';
import { Keepalive } from './keepalive.js';
import { currentSocket, destroySocket, hasSocket, resumeOn, startStream, smResumption, unackedStanzas, type SmResumption } from './xmpp-client-private.js';
import { Roster } from './roster.js';
import { Presence } from './presence.js';
import { Carbons } from './carbons.js';
import { Disco, loadCapsHash } from './disco.js';
import { Pep } from './pep.js';
import { Messages } from './message.js';
import { Mam } from './mam.js';
import { Muc } from './muc.js';
import { Bookmarks } from './bookmarks.js';

export { bareJid as bareOf } from '../lib/jid.js';
export type { IqHandler, XmppErrorEvent, XmppEvents } from './stream.js';
export type { TlsMode } from './starttls.js';
export type { ConnectOptions } from './login.js';
export { decodeUtf8AcrossReads } from './xmpp-client-private.js';



/** Socket errors that only mean the connection is gone. */
const NETWORK_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);


export class XmppSession extends EventEmitter<XmppEvents> implements XmppStream {
  client: Client | null = null;
  /** Our full JID once online. */
  jid = '';
  bareJid = '';
  domain = '';
  readonly roster: Roster;
  readonly presence: Presence;
  readonly carbons: Carbons;
  readonly disco: Disco;
  readonly pep: Pep;
  readonly messages: Messages;
  readonly mam: Mam;
  readonly muc: Muc;
  readonly bookmarks: Bookmarks;

  private iqGet: [string, string, IqHandler][] = [];
  private iqSet: [string, string, IqHandler][] = [];
  private readonly iqs = new IqTracker((el) => this.send(el));
  private online = false;
  private timeoutMs = 10_000;
  private keepalive?: Keepalive;
  private unacked: Element[] = [];
  private scram?: ScramState;
  /** What the last stream left for a resume (XEP-0198), until taken. */
  private resumption?: SmResumption;
  /** The current stream resumed the previous one instead of starting a new session. */
  resumed = false;
  private tlsSocket: () => TLSSocket | undefined = () => undefined;

  constructor() {
    super();
    this.disco = new Disco(this);
    this.roster = new Roster(this);
    this.presence = new Presence(this, this.disco);
    this.carbons = new Carbons(this);
    this.pep = new Pep(this, this.disco);
    this.messages = new Messages(this, this.carbons);
    this.mam = new Mam(this);
    this.muc = new Muc(this, this.disco);
    this.bookmarks = new Bookmarks(this, this.pep);
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** How this login was secured: TLS version, SCRAM mechanism, channel binding, cached keys. */
  get security(): LoginSecurity {
    return describeLogin(this.scram, this.tlsSocket());
  }

  /** Registers an IQ get/set responder (applied to every connection). */
  handleIqGet(ns: string, name: string, h: IqHandler): void {
    this.iqGet.push([ns, name, h]);
  }
  handleIqSet(ns: string, name: string, h: IqHandler): void {
    this.iqSet.push([ns, name, h]);
  }

  emitError(message: string, extra: Omit<XmppErrorEvent, 'message'> = {}): void {
    // Many of these are caused by remote stanzas: without a listener, Node's EventEmitter would
    // throw on 'error' and let any contact crash us, so unobserved errors are dropped instead.
    if (this.listenerCount('error') === 0) return;
    this.emit('error', { message, ...extra });
  }

  async connect(opts: ConnectOptions): Promise<void> {
    try {
      await this.connectOnce(opts);
    } catch (e) {
      // Cached keys the server refused (the password was changed, the salt kept): they are gone
      // from the cache now, and one more login computes them from the password.
      if ((e as XmppError).condition !== 'auth' || !this.scram?.fromCache) throw e;
      reportCaught('xmpp: cached SCRAM keys refused; logging in with the password', e, 'info');
      const { earlySocket: _used, ...rest } = opts;
      await this.connectOnce(rest);
    }
  }

  private async connectOnce(opts: ConnectOptions): Promise<void> {
    if (this.client) throw new XmppError('busy', 'already connected or connecting');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const addr = parseJid(opts.jid);
    if (!addr.local || !addr.domain) throw new XmppError('bad-jid', `not a user JID: ${opts.jid}`);
    const target: LoginTarget = { domain: addr.domain, host: opts.server ?? addr.domain, port: opts.port ?? 5222 };
    const proxied = opts.proxy ? await proxiedSocket(opts.proxy, target, this.timeoutMs) : undefined;
    const prepared = prepareClient(proxied ? { ...opts, earlySocket: proxied } : opts, target, addr.local, {
      timeoutMs: this.timeoutMs,
      warn: (message) => this.emit('warning', { message }),
      streamBroken: (client, e) => void this.streamBroken(client, e),
    });
    const c = prepared.client;
    this.client = c;
    this.scram = prepared.scram;
    this.tlsSocket = prepared.tlsSocket;
    const connectError = prepared.connectError;
    this.listen(c);
    this.resumed = false;
    const { capsHash } = await this.login(c, target, connectError, opts.resume);
    this.online = true;
    // A resumed session kept its roster, carbons and presence on the server.
    if (!this.resumed) await this.afterLogin(c, capsHash);
    this.keepalive = new Keepalive({ iq: (type, child, to, ms) => this.iq(type, child, to, ms), dead: (why) => void this.linkDead(c, why) }, opts.keepalive);
    this.keepalive.start();
    this.emit('online', { jid: this.jid, resumed: this.resumed });
  }

  private listen(c: Client): void {
    for (const [ns, name, h] of this.iqGet) c.iqCallee.get(ns, name, h);
    for (const [ns, name, h] of this.iqSet) c.iqCallee.set(ns, name, h);
    c.on('error', (e: Error) => {
      if (!this.online) return;
      // A socket that breaks (the server killed, the network gone) is followed by 'offline', which
      // says it to the user; the low-level error itself only goes to the log.
      if (NETWORK_ERRORS.has((e as NodeJS.ErrnoException).code ?? '')) return reportCaught('xmpp: the connection broke', e, 'info');
      this.emitError(e.message, { error: e, condition: (e as { condition?: string }).condition });
    });
    c.on('stanza', (el: Element) => this.onStanza(el));
    c.on('element', () => this.keepalive?.heard()); // any inbound element (SM acks too) is life
    c.on('offline', () => this.wentOffline('offline'));
    c.on('disconnect', (info?: { reason?: unknown }) => this.wentOffline(disconnectReason(info?.reason)));
  }

  /** Starts the stream and waits for the login; returns the caps hash being computed meanwhile. */
  private async login(c: Client, t: LoginTarget, connectError: () => Error | undefined, resume?: SmResumption): Promise<{ capsHash: Promise<void> }> {
    let overall: NodeJS.Timeout | undefined;
    let capsHash: Promise<void> = Promise.resolve();
    try {
      // A resumed stream is online without binding: @xmpp's start() never settles then.
      const resumed = resume ? new Promise<ReturnType<typeof parseJid>>((resolve) => resumeOn(c, resume, () => resolve(parseJid(resume.jid)))) : undefined;
      const starting = startStream(c);
      if (resumed) void settled(starting);
      // Loaded while the login runs (not before: the connection attempt goes out first).
      capsHash = loadCapsHash();
      void settled(capsHash); // awaited after login; a failure then is reported there
      // Backstop: a server that stops answering mid-negotiation must not hang connect() forever.
      const full = await Promise.race([
        starting,
        ...(resumed ? [resumed.then((jid) => ((this.resumed = true), jid))] : []),
        new Promise<never>((_, reject) => {
          overall = setTimeout(() => reject(new XmppError('timeout', `login to ${t.host}:${t.port} timed out`)), this.timeoutMs * 3);
        }),
      ]);
      clearTimeout(overall);
      this.jid = full.toString();
      this.bareJid = full.bare().toString();
      this.domain = t.domain;
      return { capsHash };
    } catch (e) {
      clearTimeout(overall);
      const err = connectError() ?? e;
      await this.teardown(c);
      throw toXmppError(err as Error);
    }
  }

  /** Roster, carbons, initial presence; 'online' waits until the server reflects our presence. */
  private async afterLogin(c: Client, capsHash: Promise<void>): Promise<void> {
    try {
      await capsHash; // initial presence carries the caps hash
      await this.roster.fetch();
      await this.carbons.enable();
      // 'online' means deliverable: wait until the server reflects our initial presence back,
      // otherwise a message sent to our bare JID right now could still miss this resource.
      const echoed = new Promise<void>((resolve) => {
        const t = setTimeout(done, this.timeoutMs);
        t.unref();
        function done() {
          clearTimeout(t);
          c.off('stanza', on);
          resolve();
        }
        const on = (el: Element) => {
          if (el.is('presence') && !el.attrs.type && el.attrs.from === this.jid) done();
        };
        c.on('stanza', on);
      });
      await this.presence.sendInitial();
      await echoed;
    } catch (e) {
      this.emitError(`post-login setup failed: ${(e as Error).message}`, { error: e as Error });
    }
  }

  /** The server sent something no parser should take: closed, and the owner connects again. */
  private async streamBroken(c: Client, e: Error): Promise<void> {
    if (this.client !== c) return;
    if (this.online) {
      this.emitError(e.message, { condition: 'bad-stream' });
      this.wentOffline(e.message);
    }
    await this.teardown(c, false);
  }

  /** The link went silent: closed, so the owner sees 'offline' and connects again. */
  private async linkDead(c: Client, reason: string): Promise<void> {
    if (this.client !== c) return;
    this.emitError(`connection lost: ${reason}`, { condition: 'timeout' });
    this.wentOffline(reason);
    await this.teardown(c, false);
  }

  private wentOffline(reason: string): void {
    // Messages the server never confirmed may be lost: kept, so the next connection sends them.
    if (this.online && this.client) {
      this.resumption = smResumption(this.client, this.jid);
      this.unacked.push(...unackedStanzas(this.client).filter((el) => el.is('message') && (el.getChild('body') !== undefined || el.getChildren('encrypted').length > 0)));
    }
    this.keepalive?.stop();
    this.keepalive = undefined;
    this.iqs.failAll();
    if (!this.online) return;
    this.online = false;
    this.emit('offline', { reason });
  }

  /**
   * Closes the client. `graceful` ends the stream with </stream>; a dead or broken link is cut
   * without it, so the server keeps the session for a resume (it would end it on a clean close).
   */
  private async teardown(c: Client, graceful = true): Promise<void> {
    const socket = currentSocket(c);
    if (!graceful) socket?.destroy?.();
    const stopped = c.stop().catch(logged('xmpp: stop the stream'));
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 1000).unref())]);
    socket?.destroy?.();
    destroySocket(c);
    c.removeAllListeners();
    c.on('error', logged('xmpp: a closed connection reported')); // late socket errors of a dead client
    if (this.client === c) this.client = null;
  }

  async disconnect(): Promise<void> {
    const c = this.client;
    if (!c) return;
    // Going away anyway: a failed goodbye only goes to the log.
    if (this.online) await this.send(xml('presence', { type: 'unavailable' })).catch(logged('xmpp: send unavailable presence'));
    this.wentOffline('disconnect');
    await this.teardown(c);
  }

  async send(el: Element): Promise<void> {
    // After an unexpected disconnect @xmpp keeps the client but drops its socket: writing then
    // fails deep inside with a TypeError, so say what it means.
    if (!this.client || !hasSocket(this.client)) throw new XmppError('offline', 'not connected');
    try {
      await this.client.send(el);
    } catch (e) {
      if (e instanceof TypeError && !(this.client && hasSocket(this.client))) throw new XmppError('offline', 'not connected');
      throw e;
    }
  }

  /**
   * Sends an IQ and resolves with the result stanza. The reply must come from whom we asked
   * (our own account when `to` is absent or our bare JID); a type='error' reply rejects with
   * an XmppError carrying the condition.
   */
  iq(type: 'get' | 'set', child: Element, to?: string, timeoutMs = this.timeoutMs): Promise<Element> {
    return this.iqs.request(type, child, to, timeoutMs);
  }

  /** The messages sent on this session's last stream that the server never acknowledged (once). */
  takeUnacked(): Element[] {
    return this.unacked.splice(0);
  }

  /** What the lost stream left for resuming it on the next connection (once), if the server allows it. */
  takeResumption(): SmResumption | undefined {
    const r = this.resumption;
    this.resumption = undefined;
    return r;
  }

  /** Sends stanzas of an earlier stream again, as they were (same ids: receivers drop duplicates). */
  async resend(stanzas: Element[]): Promise<number> {
    for (const el of stanzas) await this.send(el);
    return stanzas.length;
  }

  /** True when `from` is our own account as a stanza source (absent, our bare JID, or our full JID). */
  isOwnAccount(from: string | undefined): boolean {
    if (!from) return true;
    return bareOf(from) === this.bareJid;
  }

  private onStanza(el: Element): void {
    try {
      if (el.name === 'iq') {
        const spoof = this.iqs.settle(el, this);
        if (spoof) this.emitError(`ignored an IQ reply from ${spoof.spoofedBy} to a request sent to ${spoof.expected}`, { from: el.attrs.from });
      } else if (el.name === 'message') {
        if (this.pep.handleMessage(el)) return;
        if (this.mam.handleMessage(el)) return;
        if (this.muc.handleMessage(el)) return;
        this.messages.handle(el);
      } else if (el.name === 'presence') {
        if (this.muc.handlePresence(el)) return;
        // The server reflecting our own presence (the login waits for it) is not a contact's.
        if (el.attrs.from === this.jid) return;
        this.presence.handle(el);
      }
    } catch (e) {
      this.emitError(`failed to handle a ${el.name} from ${el.attrs.from ?? 'server'}: ${(e as Error).message}`, {
        from: el.attrs.from,
        error: e as Error,
      });
    }
  }
}

function disconnectReason(reason: unknown): string {
  if (!reason) return 'disconnected';
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : JSON.stringify(reason);
}
