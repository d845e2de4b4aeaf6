// One account: wires the XMPP floor, the OMEMO manager and the stores, keeps chat state and turns
// everything the user should see into XchatEvents. UI-agnostic: `xchat run` and the TUI share it.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import type {
  AccountSettings,
  ChatState,
  ConnectOptions,
  CoreApi,
  DeviceView,
  Encryption,
  OmemoPolicy,
  TrustMode,
  XchatEvent,
} from './api.js';
import type { EarlyConnection, IncomingMessage, XmppConnectParams, XmppPort } from './ports.js';
import { MucCore } from './muc.js';
import { SerialQueue } from './serial.js';
import { MAX_DEVICES_PER_JID, OmemoManager, type EncryptedElement, type IdentityChange } from '../omemo/manager.js';
import type { OmemoStore, TrustState } from '../omemo/store.js';
import { OmemoError, isOmemoError } from '../omemo/errors.js';
import { formatFingerprint, normalizeFingerprint, shortFingerprint } from '../omemo/fingerprint.js';
import { HistoryCore, type HistoryPort, type LoggingMode } from './history.js';
import { awaySummary, catchUp, fetchOlder } from './mam.js';
import { MessageExtrasCore, RETRACT_FALLBACK_BODY } from './message-extras.js';
import type { MessageExtras } from '../xmpp/message-extras.js';
import { RosterState, type ContactView, type StatusShow } from './roster.js';
import { UnreachableDevices, notForThisDeviceText } from './trust-ux.js';
import { describeVerify, planVerify, type VerifyPlan } from './verify-uri.js';
import { buildOmemoUri, parseOmemoUri } from '../omemo/uri.js';
import { renderQr } from './qrcode.js';
import { FilesCore } from './files.js';

export interface AccountStorePort {
  list(): Promise<AccountSettings[]>;
  get(jid: string): Promise<AccountSettings | undefined>;
  add(jid: string): Promise<void>;
  set(jid: string, key: keyof AccountSettings, value: string | number): Promise<void>;
  remove(jid: string): Promise<void>;
  getChatPolicy(jid: string): Promise<Encryption | undefined>;
  setChatPolicy(jid: string, enc: Encryption | undefined): Promise<void>;
}

export interface AccountSessionDeps {
  /** OMEMO state is per account: each JID has its own identity, sessions and trust. */
  openOmemoStore: (jid: string) => Promise<OmemoStore>;
  /** The account used before /connect (offline fingerprint, trust): --account or the only one. */
  defaultJid?: string;
  accounts: AccountStorePort;
  createXmpp: () => XmppPort;
  /** A connection already under way for exactly these parameters, if any (taken at most once). */
  takeEarlyConnection?: (params: XmppConnectParams) => EarlyConnection | undefined;
  env?: NodeJS.ProcessEnv;
  /** Local message history (src/store/history.ts); without it nothing is stored. */
  history?: HistoryPort;
  /** The profile's list of partial downloads under way (files.ts). */
  partialsJournal?: string;
}

const DEVICE_LIST_MAX_AGE_MS = 60_000;

export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return (slash === -1 ? jid : jid.slice(0, slash)).toLowerCase();
}

export class AccountSession implements CoreApi {
  private readonly listeners = new Set<(e: XchatEvent) => void>();
  private readonly queue = new SerialQueue();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly chatModes = new Map<string, Encryption>();
  private readonly deviceLists = new Map<string, number[]>();
  /** When we last fetched a list ourselves; lists from PEP notifications have no entry. */
  private readonly deviceListFetchedAt = new Map<string, number>();
  private xmpp?: XmppPort;
  private fullJid?: string;
  private manager?: OmemoManager;
  private ownJid?: string;
  private connected = false;
  private current?: string;
  private policy: OmemoPolicy = 'automatic';
  private trustMode: TrustMode = 'btbv';
  /** Receipts, chat states, corrections, retractions (message-extras.ts). */
  private readonly extras = new MessageExtrasCore({
    emit: (e) => this.emit(e),
    error: (msg, from, reason) => this.error(msg, from, reason),
    ownJid: () => this.ownJid,
    xmpp: () => (this.connected ? this.xmpp : undefined),
  });
  /** /sendfile and received aesgcm:// links (files.ts). */
  private readonly files = new FilesCore({
    emit: (e) => this.emit(e),
    upload: () => (this.connected ? this.xmpp?.upload : undefined),
    chatEncryption: (jid) => this.queue.run(() => this.chatEncryption(jid)),
    // The link carries the file's key: it only ever goes out encrypted.
    sendEncrypted: (jid, text) => this.track(this.queue.run(() => this.doSend(jid, text, { omemo: true }))).then(() => undefined),
    maxDownloadBytes: async () => (this.ownJid ? (await this.deps.accounts.get(this.ownJid))?.max_download : undefined),
    partialsJournal: () => this.deps.partialsJournal,
  });

  /** Roster and presence (roster.ts); trust UX (trust-ux.ts); fingerprints seen, for completion. */
  private readonly rosterState = new RosterState();
  private readonly unreachable = new UnreachableDevices();
  private readonly fingerprints = new Map<string, Set<string>>();

  /** Local history and archive catch-up (history.ts, mam.ts). */
  private readonly hist: HistoryCore;
  /** Live messages held back while the archive is read, so all are handled in order. */
  private holding?: IncomingMessage[];
  private catchingUp = false;
  /** Per window: the archive id where the next /history older page ends. */
  private readonly olderCursor = new Map<string, string>();

  /** Group chat (src/core/muc.ts). */
  readonly muc: MucCore = new MucCore({
    xmpp: () => this.xmpp,
    connected: () => this.connected,
    manager: () => this.manager,
    ownJid: () => this.ownJid,
    emit: (e) => this.emit(e),
    run: (fn) => this.track(this.queue.run(fn)),
    deviceListOf: (jid) => this.deviceListOf(jid),
    explainFetchError: (jid, e) => this.explainFetchError(jid, e),
    sendKeyTransport: (jid) => this.sendKeyTransport(jid),
    setCurrent: (jid) => {
      this.current = jid;
    },
    getChatPolicy: (jid) => this.deps.accounts.getChatPolicy(jid),
    setChatPolicy: (jid, enc) => this.deps.accounts.setChatPolicy(jid, enc),
    history: () => this.hist,
  });

  constructor(private readonly deps: AccountSessionDeps) {
    this.hist = new HistoryCore(deps.history, () => this.ownJid, (room) => this.muc.nickIn(room));
  }

  on(listener: (e: XchatEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: XchatEvent): void {
    try {
      e = this.hist.decorate(e);
    } catch (err) {
      // History trouble (disk full…) must not cost the user the message itself.
      if (e.event === 'message' || e.event === 'sent') this.error(`could not store a message in local history: ${errText(err)}`);
    }
    this.files.observe(e);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken listener must not stop the others or the session.
      }
    }
  }

  private error(message: string, from?: string, reason?: string): void {
    this.emit({ event: 'error', message, ...(from ? { from } : {}), ...(reason ? { reason } : {}) });
  }

  /** Tracks a background task so drain() can wait for it and failures become error events. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    p.catch(() => undefined).finally(() => this.pending.delete(p));
    return p;
  }

  isConnected(): boolean {
    return this.connected;
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
    }
    await this.queue.idle();
  }

  // ---- connection -------------------------------------------------------------------------

  private async resolvePassword(opts: ConnectOptions, account?: AccountSettings): Promise<string> {
    if (opts.password) return opts.password;
    const env = this.deps.env ?? process.env;
    if (env.XCHAT_PASSWORD) return env.XCHAT_PASSWORD;
    if (account?.eval_password) {
      const out = await new Promise<string>((resolve, reject) => {
        execFile('/bin/sh', ['-c', account.eval_password!], { timeout: 30_000 }, (err, stdout) =>
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

  async connect(opts: ConnectOptions): Promise<void> {
    const jid = bareJid(opts.jid);
    const account = await this.deps.accounts.get(jid);
    const password = await this.resolvePassword(opts, account);
    this.policy = account?.omemo_policy ?? 'automatic';
    this.trustMode = account?.trust_mode ?? 'btbv';
    this.emit({ event: 'status', status: 'connecting', jid });
    const params: XmppConnectParams = {
      jid,
      password,
      server: opts.server ?? account?.server,
      port: opts.port ?? account?.port,
      tls: opts.tls ?? account?.tls ?? 'force',
    };
    const early = this.deps.takeEarlyConnection?.(params);
    const xmpp = early?.xmpp ?? this.deps.createXmpp();
    this.wire(xmpp);
    this.xmpp = xmpp;
    if (!this.manager || this.ownJid !== jid) {
      this.manager = await this.newManager(jid);
    } else {
      this.manager.setTrustMode(this.trustMode);
    }
    this.ownJid = jid;
    // From here on the session is in the state a fresh connection would find it in.
    early?.release();
    const full = await (early ? early.connected : xmpp.connect(params));
    this.connected = true;
    this.fullJid = full;
    await this.queue.run(() => this.setUpOmemo()).catch((e) => {
      this.releaseHeld();
      throw e;
    });
    this.emit({ event: 'status', status: 'online', jid: full });
    this.track(this.muc.online()).catch((e) => this.error(`joining rooms failed: ${errText(e)}`));
    this.track(this.queue.run(() => this.runCatchUp())).catch((e) => this.error(`catching up from the archive failed: ${errText(e)}`));
  }

  async disconnect(): Promise<void> {
    await this.drain();
    const x = this.xmpp;
    this.xmpp = undefined;
    this.connected = false;
    if (x) await x.disconnect();
    this.emit({ event: 'status', status: 'offline' });
  }

  private wire(x: XmppPort): void {
    this.holding = [];
    this.muc.attach(x);
    x.on('message', (m) => {
      if (this.holding) {
        this.holding.push(m);
        return;
      }
      this.track(this.queue.run(() => this.hist.receive(m, false, () => this.onMessage(m)))).catch((e) =>
        this.error(`message from ${m.from} could not be handled: ${errText(e)}`, m.from),
      );
    });
    x.on('error', (e) => this.error(e.message, e.from));
    x.on('warning', (message) => this.emit({ event: 'warning', message }));
    x.on('offline', (reason) => {
      this.connected = false;
      this.rosterState.clearPresence();
      this.emit({ event: 'status', status: 'offline' });
      if (reason) this.emit({ event: 'info', message: `disconnected: ${reason}` });
    });
    x.on('subscription', (s) => this.emit({ event: 'subscription', from: s.from, type: s.type }));
    x.on('roster', (items) => this.rosterState.setItems(items));
    x.on('presence', (p) => {
      this.rosterState.onPresence(p);
      if (p.from === this.fullJid) return; // the server reflecting our own presence
      const show = p.type === 'unavailable' ? 'offline' : p.show === 'away' || p.show === 'xa' || p.show === 'dnd' || p.show === 'chat' ? p.show : 'online';
      this.emit({ event: 'presence', jid: p.from, show, ...(p.status ? { status: p.status } : {}) });
    });
    x.on('devicelist', (d) => {
      this.track(this.queue.run(() => this.onDeviceList(d.jid, d.ids))).catch((e) =>
        this.error(`device list of ${d.jid} could not be handled: ${errText(e)}`, d.jid),
      );
    });
  }

  /** Own identity, device list and bundle: published on every connect. */
  private async setUpOmemo(): Promise<void> {
    const x = this.xmpp!;
    const m = this.manager!;
    let ownIds: number[] = [];
    try {
      ownIds = await x.fetchDeviceList(this.ownJid!);
    } catch {
      ownIds = []; // no node yet
    }
    const { deviceId, created } = await m.ensureIdentity(ownIds);
    if (created) {
      this.emit({ event: 'info', message: `OMEMO: generated device ${deviceId}, fingerprint ${formatFingerprint(await m.ownFingerprint())}` });
    }
    await m.rotateSignedPreKeyIfDue();
    await x.publishBundle(await m.ownBundle());
    const listed = await m.processDeviceList(this.ownJid!, ownIds);
    this.warnIfCapped(this.ownJid!, listed.ignored);
    ownIds = listed.accepted;
    this.deviceLists.set(this.ownJid!, ownIds);
    // Own devices added while we were away (another client of ours) are news too.
    await this.announceDevices(this.ownJid!, listed.newDevices);
    if (!ownIds.includes(deviceId)) {
      const ids = [...ownIds, deviceId];
      await x.publishDeviceList(ids);
      this.deviceLists.set(this.ownJid!, ids);
      await m.processDeviceList(this.ownJid!, ids);
    }
  }

  private async onDeviceList(jid: string, ids: number[]): Promise<void> {
    const m = this.manager;
    if (!m) return;
    const before = new Set(this.deviceLists.get(jid) ?? []);
    const res = await m.processDeviceList(jid, ids);
    this.warnIfCapped(jid, res.ignored);
    ids = res.accepted;
    this.deviceLists.set(jid, ids);
    this.deviceListFetchedAt.delete(jid);
    if (jid === this.ownJid && res.ownDeviceMissing && this.xmpp) {
      // Another client of ours dropped this device: put it back (XEP-0384 race rule).
      const own = await m.ownDeviceId();
      const fixed = [...ids.filter((i) => i !== own), own];
      this.deviceLists.set(jid, fixed);
      await this.xmpp.publishDeviceList(fixed);
      await m.processDeviceList(jid, fixed);
    }
    await this.announceDevices(jid, res.newDevices.filter((id) => !before.has(id)));
  }

  /** A 'device' event per new device, with fingerprint and trust when its bundle can be fetched. */
  private async announceDevices(jid: string, ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const m = this.manager!;
    const x = this.xmpp;
    if (x && this.connected) {
      // Failures only mean the announcement carries no fingerprint; sending reports them later.
      await m.learnIdentities(jid, ids, (j, d) => x.fetchBundle(j, d)).catch(() => undefined);
    }
    const known = await m.listDevices(jid);
    for (const id of ids) {
      const d = known.find((k) => k.deviceId === id);
      if (d?.fingerprint) this.noteFingerprint(jid, d.fingerprint);
      this.emit({
        event: 'device',
        jid,
        device: id,
        ...(d?.fingerprint ? { fingerprint: d.fingerprint } : {}),
        ...(d?.trust ? { trust: d.trust } : {}),
        change: 'new',
      });
    }
  }

  // ---- incoming ---------------------------------------------------------------------------

  private async onMessage(m: IncomingMessage): Promise<void> {
    const sender = bareJid(m.from);
    const peer = m.carbon === 'sent' ? bareJid(m.to) : sender;
    const stamp = m.stamp ?? new Date().toISOString();
    this.extras.signals(m);
    if (m.encrypted) {
      if ('error' in m.encrypted) {
        this.error(`unreadable OMEMO message from ${m.from}: ${m.encrypted.error}`, m.from, 'bad-element');
        return;
      }
      await this.onEncrypted(m, m.encrypted, sender, peer, stamp);
      return;
    }
    if (m.body === undefined) {
      await this.extras.display(m, undefined); // e.g. a retraction without fallback body
      return;
    }
    if (m.type === 'error') {
      this.error(`error from ${m.from}: ${m.body}`, m.from);
      return;
    }
    await this.extras.display(m, {
      event: 'message',
      from: m.from,
      to: m.to,
      body: m.body,
      encryption: 'none',
      ...(m.id ? { id: m.id } : {}),
      stamp,
      ...(m.carbon ? { carbon: m.carbon } : {}),
    });
    void peer;
  }

  private async onEncrypted(
    m: IncomingMessage,
    el: EncryptedElement,
    sender: string,
    peer: string,
    stamp: string,
  ): Promise<void> {
    const mgr = this.manager;
    if (!mgr) return;
    // Our own reflected message (same device) carries no key for us by design.
    if (sender === this.ownJid && el.sid === (await mgr.ownDeviceId())) return;
    let res;
    try {
      res = await mgr.decrypt(sender, el, { catchUp: this.catchingUp });
    } catch (e) {
      if (isOmemoError(e, 'duplicate')) return; // replays (MAM, retransmission) fail quietly
      if (isOmemoError(e, 'no-key-for-us')) {
        if (el.payload === undefined) return; // key transport for other devices only
        this.error(
          notForThisDeviceText(m.from, el.sid, { deviceId: await mgr.ownDeviceId(), fingerprint: await mgr.ownFingerprint() }),
          m.from,
          'no-key-for-us',
        );
        return;
      }
      const code = e instanceof OmemoError ? e.code : 'error';
      this.error(`could not decrypt message from ${m.from} (device ${el.sid}): ${errText(e)}`, m.from, code);
      return;
    }
    if (res.bundleChanged && this.xmpp) {
      await this.xmpp.publishBundle(await mgr.ownBundle());
    }
    if (res.sendEmptyReply && this.xmpp) {
      await this.sendKeyTransport(sender);
    }
    // An incoming encrypted message makes the chat an OMEMO chat (as Conversations/Profanity do).
    if (!this.chatModes.has(peer)) this.chatModes.set(peer, 'omemo');
    if (res.plaintext === null) return; // key transport / heartbeat: never shown
    await this.extras.display(m, {
      event: 'message',
      from: m.from,
      to: m.to,
      body: res.plaintext,
      encryption: 'omemo',
      sender_device: res.senderDevice,
      trust: res.trust,
      ...(m.id ? { id: m.id } : {}),
      stamp,
      ...(m.carbon ? { carbon: m.carbon } : {}),
    });
  }

  private async sendKeyTransport(jid: string): Promise<void> {
    const x = this.xmpp!;
    // The sender's device list may never have been fetched (no subscription, no notification).
    await this.deviceListOf(jid).catch(() => undefined);
    const { element } = await this.manager!.encrypt(null, [jid], (j, d) => x.fetchBundle(j, d), {
      includeUntrusted: true,
    });
    if (element.keys.length > 0) await x.sendEncrypted(jid, element, randomUUID(), { keyTransport: true });
  }

  // ---- history and archive catch-up (history.ts, mam.ts) -----------------------------------

  /** Hands held messages to the normal path (when catch-up cannot run). */
  private releaseHeld(): void {
    const held = this.holding ?? [];
    this.holding = undefined;
    for (const m of held) {
      this.track(this.queue.run(() => this.hist.receive(m, false, () => this.onMessage(m)))).catch((e) =>
        this.error(`message from ${m.from} could not be handled: ${errText(e)}`, m.from),
      );
    }
  }

  /**
   * Everything archived since the last archive id we stored, then the live messages held meanwhile,
   * decrypted in order in OMEMO catch-up mode; then used prekeys are replaced and one empty
   * message goes to each contact whose new session needs it.
   */
  private async runCatchUp(): Promise<void> {
    const x = this.xmpp;
    const m = this.manager;
    const account = this.ownJid;
    const process = (msg: IncomingMessage, archived: boolean) =>
      this.hist
        .receive(msg, archived, () => this.onMessage(msg))
        .catch((e) => this.error(`message from ${msg.from} could not be handled: ${errText(e)}`, msg.from));
    this.catchingUp = true;
    this.hist.startCounting();
    try {
      if (x && account) {
        await catchUp({
          xmpp: x,
          history: this.hist,
          account,
          process,
          nextHeld: () => this.holding?.shift(),
          warn: (message) => this.emit({ event: 'warning', message }),
        });
      }
    } finally {
      this.catchingUp = false;
      const rest = this.holding ?? [];
      this.holding = undefined;
      for (const msg of rest) await process(msg, false);
    }
    if (m) {
      const fin = await m.finishCatchUp();
      if (fin.bundleChanged && this.xmpp && this.connected) await this.xmpp.publishBundle(await m.ownBundle());
      for (const jid of new Set(fin.emptyReplies.map((a) => a.jid))) {
        if (!this.xmpp || !this.connected) break;
        await this.sendKeyTransport(jid).catch((e) => this.error(`could not send the session-completing empty message to ${jid}: ${errText(e)}`, jid));
      }
    }
    for (const e of awaySummary(this.hist.stopCounting())) this.emit(e);
  }

  private windowFor(jid: string | undefined, what: string): string {
    const w = jid ? bareJid(jid) : this.current;
    if (!w) throw new Error(`no current chat: ${what} needs a chat (/msg JID first)`);
    return w;
  }

  async historyRecent(n = 20, jid?: string): Promise<void> {
    if (!this.ownJid) await this.requireManager();
    const w = this.windowFor(jid, '/history');
    let shown = 0;
    // Page by page: /history 100000 must not hold every row and event at once.
    for (const page of this.hist.recentPages(w, n)) {
      for (const e of page) this.emit(e);
      shown += page.length;
    }
    if (shown === 0) this.emit({ event: 'info', message: `no stored messages with ${w}` });
  }

  async historySearch(text: string, opts: { all?: boolean; jid?: string } = {}): Promise<void> {
    if (!this.ownJid) await this.requireManager();
    const w = opts.all ? undefined : this.windowFor(opts.jid, '/search (or /search all TEXT)');
    const events = this.hist.search(text, w);
    this.emit({ event: 'info', message: `${events.length} stored message${events.length === 1 ? '' : 's'} with "${text}"${w ? ` in ${w}` : ''}` });
    for (const e of events) this.emit(e);
  }

  async historyLogging(mode?: LoggingMode): Promise<LoggingMode> {
    if (!this.ownJid) await this.requireManager();
    return this.hist.logging(mode);
  }

  fetchOlder(jid?: string): Promise<void> {
    const w = this.windowFor(jid, '/history older');
    return this.track(
      this.queue.run(async () => {
        const x = this.requireOnline();
        const r = await fetchOlder(x, this.hist, this.ownJid!, w, this.olderCursor.get(w));
        if (r.first) this.olderCursor.set(w, r.first);
        for (const e of r.events) this.emit(e);
        if (r.unreadable > 0) {
          this.emit({ event: 'info', message: `${r.unreadable} older encrypted message${r.unreadable === 1 ? '' : 's'} with ${w} cannot be shown: not in local history, and OMEMO keys are not kept for old messages` });
        }
        if (r.complete) this.emit({ event: 'info', message: `no older messages with ${w} in the archive` });
      }),
    );
  }

  // ---- chats and sending ------------------------------------------------------------------

  currentChat(): string | undefined {
    return this.current;
  }

  openChat(jid: string): void {
    const chat = bareJid(jid);
    this.current = chat;
    this.muc.noteCurrent(chat);
    if (this.muc.isRoom(chat)) {
      this.emit({ event: 'chat', jid: chat, encryption: this.muc.encryptionOf(chat) });
      return;
    }
    const known = this.chatModes.get(chat);
    if (known || !this.connected) {
      this.emit({ event: 'chat', jid: chat, encryption: known ?? 'none' });
      return;
    }
    // Announce the mode the next message will really use (policy, stored choice, published devices).
    this.track(this.queue.run(() => this.chatEncryption(chat)))
      .then((encryption) => this.emit({ event: 'chat', jid: chat, encryption }))
      .catch((e) => this.emit({ event: 'warning', jid: chat, message: errText(e) }));
  }

  private async chatEncryption(jid: string): Promise<Encryption> {
    const known = this.chatModes.get(jid) ?? (await this.deps.accounts.getChatPolicy(jid));
    if (known) return known;
    if (this.policy === 'always') return 'omemo';
    if (this.policy === 'manual') return 'none';
    // automatic: OMEMO when the contact publishes devices we can see.
    try {
      const ids = await this.deviceListOf(jid);
      return ids.length > 0 ? 'omemo' : 'none';
    } catch (e) {
      // Forbidden means "cannot tell" (Profanity keeps its keys presence-only), not "no OMEMO":
      // refuse rather than guess plaintext.
      if ((e as { condition?: string } | null)?.condition === 'forbidden') {
        throw new Error(
          `${this.explainFetchError(jid, e).message} To send unencrypted anyway: /omemo end ${jid}`,
        );
      }
      return 'none';
    }
  }

  /**
   * A contact's device list. PEP notifications keep it current only for contacts whose presence
   * we are subscribed to, so a cached list we fetched ourselves is refreshed once it is stale.
   */
  private async deviceListOf(jid: string, fresh = false): Promise<number[]> {
    const cached = this.deviceLists.get(jid);
    const fetchedAt = this.deviceListFetchedAt.get(jid);
    const stale = fetchedAt !== undefined && Date.now() - fetchedAt > DEVICE_LIST_MAX_AGE_MS;
    if (cached && !fresh && !stale) return cached;
    const res = await this.manager!.processDeviceList(jid, await this.xmpp!.fetchDeviceList(jid));
    this.warnIfCapped(jid, res.ignored);
    this.deviceListFetchedAt.set(jid, Date.now());
    this.deviceLists.set(jid, res.accepted);
    return res.accepted;
  }

  /** Said once per list size: a list this long is a broken or hostile client, not a person. */
  private readonly cappedWarned = new Map<string, number>();
  private warnIfCapped(jid: string, ignored: number): void {
    if (ignored === 0 || this.cappedWarned.get(jid) === ignored) return;
    this.cappedWarned.set(jid, ignored);
    this.emit({
      event: 'warning',
      reason: 'device-list-capped',
      jid,
      message: `${jid} publishes ${ignored + MAX_DEVICES_PER_JID} OMEMO devices; only ${MAX_DEVICES_PER_JID} are used (${ignored} ignored). A real account has a handful: ask ${jid === this.ownJid ? 'yourself' : 'the contact'} to clean up the device list (/omemo clear_device_list).`,
    });
  }

  sendMessage(to: string, text: string, opts: { plain?: boolean } = {}): Promise<void> {
    const jid = bareJid(to);
    if (this.muc.isRoom(jid)) return this.track(this.queue.run(() => this.muc.send(jid, text, opts)));
    return this.track(this.queue.run(() => this.doSend(jid, text, opts).then(() => undefined)));
  }

  /** quiet: no 'sent' event (corrections and retractions report themselves). */
  private async doSend(
    jid: string,
    text: string,
    opts: { plain?: boolean; omemo?: boolean; extras?: MessageExtras; quiet?: boolean },
  ): Promise<{ id: string; encryption: Encryption }> {
    const x = this.requireOnline();
    const id = randomUUID();
    const extras = { ...this.extras.outgoing(jid, id), ...opts.extras };
    const mode = opts.plain ? 'none' : opts.omemo ? 'omemo' : await this.chatEncryption(jid);
    if (mode === 'none') {
      await x.sendPlain(jid, text, id, extras);
      this.extras.afterSend(jid, id, extras);
      if (!opts.quiet) this.emit({ event: 'sent', to: jid, id, body: text, encryption: 'none' });
      return { id, encryption: 'none' };
    }
    this.chatModes.set(jid, 'omemo');
    try {
      await this.deviceListOf(jid);
    } catch (e) {
      throw this.explainFetchError(jid, e);
    }
    const m = this.manager!;
    const res = await m.encrypt(text, [jid, this.ownJid!], async (j, d) => {
      try {
        return await x.fetchBundle(j, d);
      } catch (e) {
        throw this.explainFetchError(j, e);
      }
    });
    const contactOk = res.recipients.filter((r) => r.jid === jid && r.status === 'ok');
    const skipped = res.recipients.filter((r) => r.status !== 'ok');
    if (contactOk.length === 0) {
      const untrusted = skipped.filter((r) => r.jid === jid && r.status === 'untrusted');
      const hint = untrusted.length
        ? ` Trust a device with: ${untrusted.map((r) => `/omemo trust ${jid} ${r.fingerprint}`).join(' ; ')}`
        : '';
      const why = skipped
        .filter((r) => r.jid === jid)
        .map((r) => `device ${r.deviceId}${r.fingerprint ? ` (${shortFingerprint(r.fingerprint)})` : ''}: ${r.status}${r.reason ? ` - ${r.reason}` : ''}`)
        .join('; ');
      throw new OmemoError(
        'no-trusted-devices',
        `message to ${jid} NOT sent: no trusted device of ${jid} could receive it${why ? ` (${why})` : ''}.${hint}`,
      );
    }
    for (const r of res.recipients) if (r.fingerprint) this.noteFingerprint(r.jid, r.fingerprint);
    // Once per change, not on every message (trust-ux.ts).
    const warn = this.unreachable.check(jid, skipped);
    if (warn) this.emit({ event: 'warning', jid, devices: warn.devices, message: warn.message });
    await x.sendEncrypted(jid, res.element, id, { extras });
    this.extras.afterSend(jid, id, extras);
    if (!opts.quiet) this.emit({ event: 'sent', to: jid, id, body: text, encryption: 'omemo', devices: res.element.keys.length });
    return { id, encryption: 'omemo' };
  }

  // ---- receipts, chat states, correction, retraction ---------------------------------------

  typing(jid: string, state: ChatState): void {
    const chat = bareJid(jid);
    if (!this.connected || !this.xmpp) return;
    this.track(
      this.queue.run(async () => {
        const s = this.extras.stateToSend(chat, state);
        if (s && this.xmpp && this.connected) await this.xmpp.sendSignal(chat, { chatState: s });
      }),
    ).catch((e) => this.error(`could not send chat state to ${chat}: ${errText(e)}`, chat));
  }

  chatStates(on?: boolean): boolean {
    return this.extras.chatStates(on);
  }

  private chatFor(jid: string | undefined, what: string): string {
    const chat = jid ? bareJid(jid) : this.current;
    if (!chat) throw new Error(`no current chat: ${what} needs a chat (/msg JID first)`);
    return chat;
  }

  correctLast(text: string, jid?: string): Promise<void> {
    const chat = this.chatFor(jid, '/correct');
    // Inside the queue: "last message" must include sends queued before this line.
    return this.track(
      this.queue.run(async () => {
        const orig = this.extras.lastSent(chat);
        if (!orig) throw new Error(`no message of yours to correct in the chat with ${chat}`);
        const r = await this.doSend(chat, text, { extras: { replaceId: orig }, quiet: true });
        this.emit({ event: 'correction', from: this.ownJid!, to: chat, id: orig, new_id: r.id, body: text, encryption: r.encryption, stamp: new Date().toISOString() });
      }),
    );
  }

  retractLast(jid?: string): Promise<void> {
    const chat = this.chatFor(jid, '/retract');
    return this.track(
      this.queue.run(async () => {
        const orig = this.extras.lastSent(chat);
        if (!orig) throw new Error(`no message of yours to retract in the chat with ${chat}`);
        await this.doSend(chat, RETRACT_FALLBACK_BODY, { extras: { retractId: orig, receiptRequest: false }, quiet: true });
        this.emit({ event: 'retraction', from: this.ownJid!, to: chat, id: orig });
      }),
    );
  }

  private explainFetchError(jid: string, e: unknown): Error {
    const cond = (e as { condition?: string } | null)?.condition;
    if (cond === 'forbidden') {
      return new Error(
        `the server refused to show ${jid}'s OMEMO keys (forbidden): their client publishes its keys only to contacts with a presence subscription (Profanity does this). Fix: /sub request ${jid} and have them accept it (and /sub allow theirs), then send again.`,
      );
    }
    if (cond === 'item-not-found') {
      return new Error(`${jid} has no OMEMO devices published (item-not-found): they may not use OMEMO.`);
    }
    return e instanceof Error ? e : new Error(String(e));
  }

  private requireOnline(): XmppPort {
    if (!this.xmpp || !this.connected) throw new Error('not connected: use /connect JID first');
    return this.xmpp;
  }

  async subscription(action: 'request' | 'allow' | 'deny', jid: string): Promise<void> {
    await this.requireOnline().subscription(action, bareJid(jid));
    this.emit({ event: 'info', message: `subscription ${action} sent to ${bareJid(jid)}` });
  }

  // ---- accounts ---------------------------------------------------------------------------

  accountAdd(jid: string): Promise<void> {
    return this.deps.accounts.add(bareJid(jid));
  }
  async accountSet(jid: string, key: keyof AccountSettings, value: string): Promise<void> {
    await this.deps.accounts.set(bareJid(jid), key, key === 'port' ? Number(value) : value);
  }
  accountList(): Promise<AccountSettings[]> {
    return this.deps.accounts.list();
  }
  accountRemove(jid: string): Promise<void> {
    return this.deps.accounts.remove(bareJid(jid));
  }

  // ---- OMEMO commands ---------------------------------------------------------------------

  private async newManager(jid: string): Promise<OmemoManager> {
    return new OmemoManager(await this.deps.openOmemoStore(jid), {
      ownJid: jid,
      trustMode: this.trustMode,
      onIdentityChange: (c) => this.warnIdentityChange(c),
    });
  }

  /** A device id that comes back with another identity key may be someone else: say so, loudly. */
  private warnIdentityChange(c: IdentityChange): void {
    const whose = c.jid === this.ownJid ? 'your own account' : c.jid;
    const decided = c.state === 'trusted' ? 'it is trusted because the trust mode is blind' : 'nothing is encrypted for it until you decide';
    this.emit({
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

  private async requireManager(): Promise<OmemoManager> {
    if (!this.manager) {
      // Fingerprint and trust work offline on the stored identity of the default account.
      const jid = this.ownJid ?? this.deps.defaultJid;
      if (!jid) throw new Error('no account: /connect JID first, or /account add JID');
      this.ownJid = bareJid(jid);
      const account = await this.deps.accounts.get(this.ownJid);
      this.trustMode = account?.trust_mode ?? this.trustMode;
      this.policy = account?.omemo_policy ?? this.policy;
      this.manager = await this.newManager(this.ownJid);
    }
    return this.manager;
  }

  async omemoGen(): Promise<{ deviceId: number; fingerprint: string; created: boolean }> {
    const m = await this.requireManager();
    const ids = this.ownJid ? this.deviceLists.get(this.ownJid) ?? [] : [];
    const { deviceId, created } = await this.queue.run(() => m.ensureIdentity(ids));
    const fingerprint = await m.ownFingerprint();
    if (created && this.xmpp && this.connected) await this.queue.run(() => this.setUpOmemo());
    return { deviceId, fingerprint, created };
  }

  async omemoFingerprint(jid?: string): Promise<DeviceView[]> {
    const m = await this.requireManager();
    if (!jid) {
      const deviceId = await m.ownDeviceId();
      return [{ jid: this.ownJid ?? '', deviceId, fingerprint: await m.ownFingerprint(), trust: 'verified', active: true, own: true }];
    }
    const b = bareJid(jid);
    if (this.xmpp && this.connected) {
      // Learn identities of devices we have no session with yet, so there is something to trust.
      try {
        const ids = await this.deviceListOf(b, true);
        const x = this.xmpp;
        const failed = await this.queue.run(() => m.learnIdentities(b, ids, (j, d) => x.fetchBundle(j, d)));
        for (const f of failed) this.error(`device ${f.deviceId} of ${b} is unusable: ${f.reason}`, b, 'bad-bundle');
      } catch (e) {
        this.error(this.explainFetchError(b, e).message, b);
      }
    }
    const own = b === this.ownJid ? await m.ownDeviceId() : -1;
    return (await m.listDevices(b)).map((d) => ({
      jid: b,
      deviceId: d.deviceId,
      fingerprint: d.fingerprint,
      trust: d.trust,
      active: d.active,
      own: d.deviceId === own,
      lastSeen: d.lastSeen,
    }));
  }

  private async setTrust(jid: string, fingerprint: string, state: TrustState): Promise<void> {
    const fp = normalizeFingerprint(fingerprint);
    if (!fp) throw new Error(`not a fingerprint: ${fingerprint} (expected 64 hex characters)`);
    const b = bareJid(jid);
    await this.queue.run(() => this.requireManager().then((m) => m.setTrust(b, fp, state)));
    this.emit({ event: 'trust', jid: b, fingerprint: fp, state });
  }

  omemoTrust(jid: string, fingerprint: string): Promise<void> {
    return this.setTrust(jid, fingerprint, 'verified');
  }
  omemoUntrust(jid: string, fingerprint: string): Promise<void> {
    return this.setTrust(jid, fingerprint, 'untrusted');
  }

  async omemoStart(jid?: string): Promise<void> {
    const target = jid ? bareJid(jid) : this.current;
    if (!target) throw new Error('no chat: /omemo start JID');
    if (this.muc.isRoom(target)) return this.muc.setEncryption(target, 'omemo');
    this.chatModes.set(target, 'omemo');
    await this.deps.accounts.setChatPolicy(target, 'omemo');
    this.current = target;
    this.emit({ event: 'chat', jid: target, encryption: 'omemo' });
  }

  async omemoEnd(jid?: string): Promise<void> {
    const target = jid ? bareJid(jid) : this.current;
    if (!target) throw new Error('no chat: /omemo end JID');
    if (this.muc.isRoom(target)) return this.muc.setEncryption(target, 'none');
    this.chatModes.set(target, 'none');
    await this.deps.accounts.setChatPolicy(target, 'none');
    this.emit({ event: 'chat', jid: target, encryption: 'none' });
  }

  async omemoPolicy(policy?: OmemoPolicy): Promise<OmemoPolicy> {
    if (policy) {
      this.policy = policy;
      await this.persistSetting('omemo_policy', policy);
    }
    return this.policy;
  }

  async omemoTrustMode(mode?: TrustMode): Promise<TrustMode> {
    if (mode) {
      this.trustMode = mode;
      this.manager?.setTrustMode(mode);
      await this.persistSetting('trust_mode', mode);
    }
    return this.trustMode;
  }

  /**
   * Saves a setting of the connected account. An account connected with /connect alone is not in
   * the store: the setting then holds for this session only (saying so), instead of failing.
   */
  private async persistSetting(key: 'omemo_policy' | 'trust_mode', value: string): Promise<void> {
    if (!this.ownJid) return;
    if (!(await this.deps.accounts.get(this.ownJid))) {
      this.emit({ event: 'info', message: `${key} ${value} applies to this session only: /account add ${this.ownJid} to keep settings` });
      return;
    }
    await this.deps.accounts.set(this.ownJid, key, value);
  }

  // ---- roster, presence, OMEMO devices / verify / qrcode ------------------------------------

  private noteFingerprint(jid: string, fp: string): void {
    const b = bareJid(jid);
    const set = this.fingerprints.get(b) ?? new Set<string>();
    set.add(fp);
    this.fingerprints.set(b, set);
  }

  roster(): ContactView[] {
    return this.rosterState.list();
  }

  async rosterAdd(jid: string, nick?: string): Promise<void> {
    const b = bareJid(jid);
    await this.requireOnline().rosterAdd(b, nick);
    this.emit({ event: 'info', message: `roster: ${b} added${nick ? ` as ${nick}` : ''} (to see their presence: /sub request ${b})` });
  }

  async rosterRemove(jid: string): Promise<void> {
    const b = bareJid(jid);
    await this.requireOnline().rosterRemove(b);
    this.emit({ event: 'info', message: `roster: ${b} removed` });
  }

  async rosterNick(jid: string, nick: string): Promise<void> {
    const b = bareJid(jid);
    const x = this.requireOnline();
    if (this.rosterState.contact(b).subscription === undefined) throw new Error(`${b} is not in the roster: /roster add ${b} ${nick}`);
    await x.rosterAdd(b, nick);
    this.emit({ event: 'info', message: `roster: ${b} is now called ${nick}` });
  }

  async setStatus(show: StatusShow, message?: string): Promise<void> {
    await this.requireOnline().setPresence(show === 'online' ? undefined : show, message || undefined);
    this.emit({ event: 'info', message: `status: ${show}${message ? ` (${message})` : ''}` });
  }

  presences(): ContactView[] {
    return this.rosterState.withPresence(this.ownJid);
  }

  knownJids(): string[] {
    const all = new Set([...this.rosterState.jids(), ...this.chatModes.keys(), ...this.fingerprints.keys(), ...this.deviceLists.keys()]);
    if (this.current) all.add(this.current);
    return [...all].sort();
  }

  knownFingerprints(jid: string): string[] {
    return [...(this.fingerprints.get(bareJid(jid)) ?? [])];
  }

  async omemoDevices(jid?: string): Promise<DeviceView[]> {
    const m = await this.requireManager();
    const b = jid ? bareJid(jid) : this.ownJid!;
    const list = await this.omemoFingerprint(b);
    if (b === this.ownJid) {
      // This device's key is ours, not learned from a bundle: fill it in.
      const self: DeviceView = { jid: b, deviceId: await m.ownDeviceId(), fingerprint: await m.ownFingerprint(), trust: 'verified', active: true, own: true };
      const i = list.findIndex((d) => d.own);
      if (i >= 0) list[i] = { ...list[i], fingerprint: self.fingerprint, trust: 'verified' };
      else list.unshift(self);
    }
    for (const d of list) if (d.fingerprint) this.noteFingerprint(b, d.fingerprint);
    return list;
  }

  async omemoVerify(uri: string): Promise<VerifyPlan & { summary: string }> {
    const parsed = parseOmemoUri(uri);
    if (parsed.devices.length === 0) {
      const why = parsed.ignored.map((i) => `${i.part}: ${i.reason}`).join('; ');
      throw new Error(`the URI lists no omemo-sid-ID=FINGERPRINT pair for ${parsed.jid}${why ? ` (${why})` : ''}`);
    }
    // Online this fetches the contact's current devices first, so new ones can be matched.
    const known = await this.omemoDevices(parsed.jid);
    const plan = planVerify(parsed.jid, parsed.devices, known);
    for (const d of plan.toVerify) await this.setTrust(parsed.jid, d.fingerprint, 'verified');
    const out = describeVerify(plan, this.connected);
    for (const w of out.warnings) this.emit({ event: 'warning', jid: parsed.jid, devices: w.devices, message: w.message });
    const ignored = parsed.ignored.map((i) => `  ignored "${i.part}": ${i.reason}`);
    return { ...plan, summary: [out.summary, ...ignored].join('\n') };
  }

  async omemoQrCode(): Promise<{ uri: string; qr: string }> {
    const own = await this.omemoDevices();
    // Conversations lists the devices a scanner may trust: this one and our trusted others.
    const listed = own.filter((d) => d.fingerprint && (d.own || (d.active && (d.trust === 'trusted' || d.trust === 'verified'))));
    listed.sort((a, b) => Number(b.own) - Number(a.own));
    const uri = buildOmemoUri(this.ownJid!, listed.map((d) => ({ deviceId: d.deviceId, fingerprint: d.fingerprint! })));
    return { uri, qr: renderQr(uri) };
  }

  async omemoClearDeviceList(): Promise<number[]> {
    const x = this.requireOnline();
    const m = this.manager!;
    const me = this.ownJid!;
    return this.queue.run(async () => {
      const own = await m.ownDeviceId();
      let current = this.deviceLists.get(me) ?? [];
      try {
        current = await x.fetchDeviceList(me);
      } catch {
        // No list published: nothing to remove but our own entry to publish.
      }
      await x.publishDeviceList([own]);
      this.deviceLists.set(me, [own]);
      await m.processDeviceList(me, [own]);
      return current.filter((id) => id !== own);
    });
  }

  // ---- files (files.ts) ---------------------------------------------------------------------

  sendFile(file: string, jid?: string): Promise<void> {
    const chat = this.windowFor(jid, '/sendfile');
    return this.track(this.files.sendFile(chat, file));
  }
  urlList(jid?: string): string {
    return this.files.describeList(this.windowFor(jid, '/url list'));
  }
  urlSave(n?: number, file?: string, jid?: string): Promise<string> {
    return this.track(this.files.save(this.windowFor(jid, '/url save'), n, file));
  }
  urlOpen(n?: number, jid?: string): Promise<void> {
    return this.files.open(this.windowFor(jid, '/url open'), n);
  }
  urlCancel(n?: number, jid?: string): string[] {
    return n === undefined ? this.files.cancel() : this.files.cancel(this.windowFor(jid, '/url cancel'), n);
  }
  removeLeftoverDownloads(): Promise<string[]> {
    return this.files.removeLeftovers();
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
