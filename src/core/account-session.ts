// One account, as the composition root of its parts (src/core/session/, src/core/muc/) over one
// shared context; each CoreApi action goes to its owner. `xchat run` and the TUI share it.
import type { AccountSettings, ChatState, ConnectOptions, CoreApi, DeviceView, OlderPage, OmemoPolicy, PrivacyReport, TrustMode, XchatEvent } from './api.js';
import type { ContactView, StatusShow } from './roster.js';
import type { TrustState } from '../omemo/store.js';
import { bareJid } from '../lib/jid.js';
import type { VerifyPlan } from './verify-uri.js';
import { MucCore } from './muc/index.js';
import { HistoryCore, type LoggingMode } from './history.js';
import { MessageExtrasCore } from './message-extras.js';
import { FilesCore } from './files.js';
import { SessionContext, type AccountSessionDeps } from './session/context.js';
import { DeviceLists } from './session/device-lists.js';
import { OmemoIo } from './session/omemo-io.js';
import { Chats } from './session/chats.js';
import { Incoming } from './session/incoming.js';
import { CatchUp } from './session/catch-up.js';
import { Outgoing } from './session/outgoing.js';
import { Identity } from './session/identity.js';
import { HistoryActions } from './session/history-actions.js';
import { OlderPages } from './session/older.js';
import { OmemoCommands } from './session/omemo-commands.js';
import { Contacts } from './session/contacts.js';
import { Connection, proxyFor } from './session/connection.js';

export type { AccountSessionDeps, AccountStorePort } from './session/context.js';

export class AccountSession implements CoreApi {
  private readonly ctx: SessionContext;
  private readonly hist: HistoryCore;
  private readonly contacts: Contacts;
  private readonly deviceLists: DeviceLists;
  private readonly chats: Chats;
  private readonly outgoing: Outgoing;
  private readonly catchUp: CatchUp;
  private readonly omemo: OmemoCommands;
  private readonly identity: Identity;
  private readonly historyActions: HistoryActions;
  private readonly older: OlderPages;
  private readonly connection: Connection;
  private readonly files: FilesCore;
  private readonly extras: MessageExtrasCore;
  readonly muc: MucCore;

  constructor(deps: AccountSessionDeps) {
    const ctx = (this.ctx = new SessionContext(deps));
    this.hist = new HistoryCore(deps.history, () => ctx.account?.jid, (room) => this.muc.nickIn(room));
    this.contacts = new Contacts(ctx);
    const note = (jid: string, fp: string) => this.contacts.noteFingerprint(jid, fp);
    this.deviceLists = new DeviceLists(ctx, note);
    const io = new OmemoIo(ctx, this.deviceLists, note);
    this.muc = new MucCore(ctx, io, () => this.hist);
    this.chats = new Chats(ctx, this.deviceLists, this.muc);
    this.extras = new MessageExtrasCore({
      emit: (e) => ctx.emit(e),
      error: (msg, from, reason) => ctx.error(msg, from, reason),
      ownJid: () => ctx.account?.jid,
      xmpp: () => ctx.onlineOrUndefined()?.xmpp,
    });
    this.outgoing = new Outgoing(ctx, io, this.chats, this.extras, this.muc);
    this.catchUp = new CatchUp(ctx, this.hist, new Incoming(ctx, io, this.chats, this.extras), io);
    this.identity = new Identity(ctx);
    this.historyActions = new HistoryActions(ctx, this.hist, this.identity);
    this.older = new OlderPages(ctx, this.hist, (jid) => this.muc.isRoom(jid));
    this.omemo = new OmemoCommands(ctx, this.identity, this.deviceLists, this.chats, this.muc, note);
    this.connection = new Connection(ctx, this.identity, this.deviceLists, this.catchUp, this.contacts, this.muc, {
      ...(deps.reconnectDelay ? { retryDelay: deps.reconnectDelay } : {}),
      afterCatchUp: () => this.outgoing.flushOutbox(),
    });
    this.files = new FilesCore({
      emit: (e) => ctx.emit(e),
      upload: () => ctx.onlineOrUndefined()?.xmpp.upload,
      chatEncryption: (jid) => ctx.queue.run(() => this.chats.encryptionOf(jid)),
      // The link carries the file's key: it only ever goes out encrypted.
      sendEncrypted: (jid, text) => ctx.track(ctx.queue.run(() => this.outgoing.send(jid, text, { omemo: true }))).then(() => undefined),
      maxDownloadBytes: async () => (ctx.account ? (await deps.accounts.get(ctx.account.jid))?.max_download : undefined),
      proxy: async () => proxyFor(deps.proxy, ctx.account ? await deps.accounts.get(ctx.account.jid) : undefined),
      partialsJournal: () => deps.partialsJournal,
    });
    ctx.decorate = (e) => this.hist.decorate(e);
    ctx.observe = (e) => this.files.observe(e);
  }

  on(listener: (e: XchatEvent) => void): () => void {
    return this.ctx.listen(listener);
  }
  /** An error found while opening the profile (an unreadable outbox): told to the first listener. */
  report(message: string): void {
    this.ctx.error(message);
  }
  isConnected(): boolean {
    return this.ctx.connected;
  }
  drain(): Promise<void> {
    return this.ctx.drain();
  }
  connect(opts: ConnectOptions): Promise<void> {
    return this.offlineIfFailed(this.connection.connect(opts), opts.jid);
  }
  /** A failed /connect leaves us offline: say so, or the title would stay on "connecting". */
  private async offlineIfFailed(attempt: Promise<void>, jid?: string): Promise<void> {
    try {
      await attempt;
    } catch (e) {
      if (!this.ctx.connected) this.ctx.emit({ event: 'status', status: 'offline', ...(jid ? { jid: bareJid(jid) } : {}) });
      throw e;
    }
  }
  disconnect(): Promise<void> {
    return this.connection.disconnect();
  }
  async reconnectNow(): Promise<boolean> {
    let tried = false;
    await this.offlineIfFailed(this.connection.reconnectNow().then((t) => void (tried = t)));
    return tried;
  }
  caughtUp(): Promise<void> {
    return this.connection.caughtUp;
  }
  tlsTrust(fingerprint: string, jid?: string): Promise<string> {
    return this.connection.trustCertificate(fingerprint, jid);
  }
  privacy(): Promise<PrivacyReport> {
    return this.connection.privacy();
  }

  // ---- history (history.ts, session/catch-up.ts) ------------------------------------------------

  historyRecent(n = 20, jid?: string): Promise<void> {
    return this.historyActions.recent(n, jid);
  }
  historySearch(text: string, opts: { all?: boolean; jid?: string } = {}): Promise<void> {
    return this.historyActions.search(text, opts);
  }
  historyLogging(mode?: LoggingMode): Promise<LoggingMode> {
    return this.historyActions.logging(mode);
  }
  historyAround(jid: string, stamp: string): Promise<void> {
    return this.historyActions.around(jid, stamp);
  }
  /** Local history first, then the server archive (session/older.ts). */
  async fetchOlder(jid?: string, opts: { before?: string } = {}): Promise<OlderPage> {
    const w = this.ctx.chatFor(jid, '/history older');
    await this.identity.require();
    return this.ctx.track(this.ctx.queue.run(() => this.older.page(w, opts.before)));
  }

  // ---- chats and messages (session/chats.ts, session/outgoing.ts) -------------------------------

  currentChat(): string | undefined {
    return this.ctx.current;
  }
  openChat(jid: string): void {
    this.chats.open(jid);
  }
  sendMessage(to: string, text: string, opts: { plain?: boolean } = {}): Promise<void> {
    return this.outgoing.sendMessage(to, text, opts);
  }
  typing(jid: string, state: ChatState): void {
    this.outgoing.typing(jid, state);
  }
  chatStates(on?: boolean): boolean {
    return this.extras.chatStates(on);
  }
  correctLast(text: string, jid?: string): Promise<void> {
    return this.outgoing.correctLast(text, jid);
  }
  retractLast(jid?: string): Promise<void> {
    return this.outgoing.retractLast(jid);
  }

  // ---- contacts and accounts (session/contacts.ts) ---------------------------------------------

  subscription(action: 'request' | 'allow' | 'deny', jid: string): Promise<void> {
    return this.contacts.subscription(action, jid);
  }
  accountAdd(jid: string): Promise<void> {
    return this.contacts.accountAdd(jid);
  }
  accountSet(jid: string, key: keyof AccountSettings, value: string): Promise<void> {
    return this.contacts.accountSet(jid, key, value);
  }
  accountList(): Promise<AccountSettings[]> {
    return this.contacts.accountList();
  }
  accountRemove(jid: string): Promise<void> {
    return this.contacts.accountRemove(jid);
  }
  roster(): ContactView[] {
    return this.contacts.state.list();
  }
  rosterAdd(jid: string, nick?: string): Promise<void> {
    return this.contacts.rosterAdd(jid, nick);
  }
  rosterRemove(jid: string): Promise<void> {
    return this.contacts.rosterRemove(jid);
  }
  rosterNick(jid: string, nick: string): Promise<void> {
    return this.contacts.rosterNick(jid, nick);
  }
  setStatus(show: StatusShow, message?: string): Promise<void> {
    return this.contacts.setStatus(show, message);
  }
  presences(): ContactView[] {
    return this.contacts.presences();
  }
  knownJids(): string[] {
    return this.contacts.knownJids([...this.chats.jids(), ...this.deviceLists.jids()]);
  }
  knownFingerprints(jid: string): string[] {
    return this.contacts.knownFingerprints(jid);
  }

  // ---- OMEMO (session/omemo-commands.ts) -------------------------------------------------------

  omemoGen(): Promise<{ deviceId: number; fingerprint: string; created: boolean }> {
    return this.omemo.gen();
  }
  omemoFingerprint(jid?: string): Promise<DeviceView[]> {
    return this.omemo.fingerprint(jid);
  }
  omemoTrust(jid: string, fingerprint: string): Promise<void> {
    return this.omemo.setTrust(jid, fingerprint, 'verified');
  }
  omemoUntrust(jid: string, fingerprint: string): Promise<void> {
    return this.omemo.setTrust(jid, fingerprint, 'untrusted');
  }
  omemoStart(jid?: string): Promise<void> {
    return this.omemo.start(jid);
  }
  omemoEnd(jid?: string): Promise<void> {
    return this.omemo.end(jid);
  }
  omemoPolicy(policy?: OmemoPolicy): Promise<OmemoPolicy> {
    return this.omemo.policy(policy);
  }
  omemoTrustMode(mode?: TrustMode): Promise<TrustMode> {
    return this.omemo.trustMode(mode);
  }
  contactTrust(jid: string): Promise<TrustState | undefined> {
    return this.omemo.contactTrust(jid);
  }
  omemoDevices(jid?: string): Promise<DeviceView[]> {
    return this.omemo.devices(jid);
  }
  omemoVerify(uri: string): Promise<VerifyPlan & { summary: string }> {
    return this.omemo.verify(uri);
  }
  omemoQrCode(): Promise<{ uri: string; qr: string }> {
    return this.omemo.qrCode();
  }
  omemoClearDeviceList(): Promise<number[]> {
    return this.omemo.clearDeviceList();
  }

  // ---- files (files.ts) -------------------------------------------------------------------------

  sendFile(file: string, jid?: string): Promise<void> {
    return this.ctx.track(this.files.sendFile(this.ctx.chatFor(jid, '/sendfile'), file));
  }
  urlList(jid?: string): string {
    return this.files.describeList(this.ctx.chatFor(jid, '/url list'));
  }
  urlSave(n?: number, file?: string, jid?: string): Promise<string> {
    return this.ctx.track(this.files.save(this.ctx.chatFor(jid, '/url save'), n, file));
  }
  urlOpen(n?: number, jid?: string): Promise<void> {
    return this.files.open(this.ctx.chatFor(jid, '/url open'), n);
  }
  urlCancel(n?: number, jid?: string): string[] {
    return n === undefined ? this.files.cancel() : this.files.cancel(this.ctx.chatFor(jid, '/url cancel'), n);
  }
  removeLeftoverDownloads(): Promise<string[]> {
    return this.files.removeLeftovers();
  }
}
