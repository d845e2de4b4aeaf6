// One account: wires the XMPP floor, the OMEMO manager and the stores, keeps chat state and turns
// everything the user should see into XchatEvents. UI-agnostic: `xchat run` and the TUI share it.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import type {
  AccountSettings,
  ConnectOptions,
  CoreApi,
  DeviceView,
  Encryption,
  OmemoPolicy,
  TrustMode,
  XchatEvent,
} from './api.js';
import type { IncomingMessage, XmppPort } from './ports.js';
import { SerialQueue } from './serial.js';
import { OmemoManager, type EncryptedElement } from '../omemo/manager.js';
import type { OmemoStore, TrustState } from '../omemo/store.js';
import { OmemoError, isOmemoError } from '../omemo/errors.js';
import { formatFingerprint, normalizeFingerprint, shortFingerprint } from '../omemo/fingerprint.js';

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
  env?: NodeJS.ProcessEnv;
}

const DEVICE_LIST_MAX_AGE_MS = 60_000;

const FALLBACK_HINT =
  'the sender\'s client did not encrypt this message for this device (it does not know or trust this device yet); ask them to refresh your devices or trust this device\'s fingerprint';

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
  private manager?: OmemoManager;
  private ownJid?: string;
  private connected = false;
  private current?: string;
  private policy: OmemoPolicy = 'automatic';
  private trustMode: TrustMode = 'btbv';

  constructor(private readonly deps: AccountSessionDeps) {}

  on(listener: (e: XchatEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: XchatEvent): void {
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
    const xmpp = this.deps.createXmpp();
    this.wire(xmpp);
    this.xmpp = xmpp;
    if (!this.manager || this.ownJid !== jid) {
      this.manager = new OmemoManager(await this.deps.openOmemoStore(jid), { ownJid: jid, trustMode: this.trustMode });
    } else {
      this.manager.setTrustMode(this.trustMode);
    }
    this.ownJid = jid;
    const full = await xmpp.connect({
      jid,
      password,
      server: opts.server ?? account?.server,
      port: opts.port ?? account?.port,
      tls: opts.tls ?? account?.tls ?? 'force',
    });
    this.connected = true;
    await this.queue.run(() => this.setUpOmemo());
    this.emit({ event: 'status', status: 'online', jid: full });
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
    x.on('message', (m) => {
      this.track(this.queue.run(() => this.onMessage(m))).catch((e) =>
        this.error(`message from ${m.from} could not be handled: ${errText(e)}`, m.from),
      );
    });
    x.on('error', (e) => this.error(e.message, e.from));
    x.on('offline', (reason) => {
      this.connected = false;
      this.emit({ event: 'status', status: 'offline' });
      if (reason) this.emit({ event: 'info', message: `disconnected: ${reason}` });
    });
    x.on('subscription', (s) => this.emit({ event: 'subscription', from: s.from, type: s.type }));
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
    await m.processDeviceList(this.ownJid!, ownIds);
    this.deviceLists.set(this.ownJid!, ownIds);
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
    this.deviceLists.set(jid, ids);
    this.deviceListFetchedAt.delete(jid);
    const res = await m.processDeviceList(jid, ids);
    if (jid === this.ownJid && res.ownDeviceMissing && this.xmpp) {
      // Another client of ours dropped this device: put it back (XEP-0384 race rule).
      const own = await m.ownDeviceId();
      const fixed = [...ids.filter((i) => i !== own), own];
      this.deviceLists.set(jid, fixed);
      await this.xmpp.publishDeviceList(fixed);
      await m.processDeviceList(jid, fixed);
    }
    for (const id of res.newDevices) {
      if (before.has(id)) continue;
      this.emit({ event: 'device', jid, device: id, change: 'new' });
    }
  }

  // ---- incoming ---------------------------------------------------------------------------

  private async onMessage(m: IncomingMessage): Promise<void> {
    const sender = bareJid(m.from);
    const peer = m.carbon === 'sent' ? bareJid(m.to) : sender;
    const stamp = m.stamp ?? new Date().toISOString();
    if (m.encrypted) {
      if ('error' in m.encrypted) {
        this.error(`unreadable OMEMO message from ${m.from}: ${m.encrypted.error}`, m.from, 'bad-element');
        return;
      }
      await this.onEncrypted(m, m.encrypted, sender, peer, stamp);
      return;
    }
    if (m.body === undefined) return;
    if (m.type === 'error') {
      this.error(`error from ${m.from}: ${m.body}`, m.from);
      return;
    }
    this.emit({
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
      res = await mgr.decrypt(sender, el);
    } catch (e) {
      if (isOmemoError(e, 'duplicate')) return; // replays (MAM, retransmission) fail quietly
      if (isOmemoError(e, 'no-key-for-us')) {
        if (el.payload === undefined) return; // key transport for other devices only
        this.error(
          `message from ${m.from} (device ${el.sid}) was not encrypted for this device: ${FALLBACK_HINT}`,
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
    this.emit({
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
    const { element } = await this.manager!.encrypt(null, [jid], (j, d) => x.fetchBundle(j, d), {
      includeUntrusted: true,
    });
    if (element.keys.length > 0) await x.sendEncrypted(jid, element, randomUUID(), { keyTransport: true });
  }

  // ---- chats and sending ------------------------------------------------------------------

  currentChat(): string | undefined {
    return this.current;
  }

  openChat(jid: string): void {
    const chat = bareJid(jid);
    this.current = chat;
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
    const ids = await this.xmpp!.fetchDeviceList(jid);
    this.deviceListFetchedAt.set(jid, Date.now());
    this.deviceLists.set(jid, ids);
    await this.manager!.processDeviceList(jid, ids);
    return ids;
  }

  sendMessage(to: string, text: string, opts: { plain?: boolean } = {}): Promise<void> {
    const jid = bareJid(to);
    return this.track(this.queue.run(() => this.doSend(jid, text, opts)));
  }

  private async doSend(jid: string, text: string, opts: { plain?: boolean }): Promise<void> {
    const x = this.requireOnline();
    const id = randomUUID();
    const mode = opts.plain ? 'none' : await this.chatEncryption(jid);
    if (mode === 'none') {
      await x.sendPlain(jid, text, id);
      this.emit({ event: 'sent', to: jid, id, body: text, encryption: 'none' });
      return;
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
    if (skipped.length > 0) {
      this.emit({
        event: 'warning',
        jid,
        devices: skipped.map((r) => r.deviceId),
        message: `these devices will not be able to read the message: ${skipped
          .map((r) => `${r.jid} device ${r.deviceId}${r.fingerprint ? ` (${shortFingerprint(r.fingerprint)})` : ''} ${r.status}${r.reason ? `: ${r.reason}` : ''}`)
          .join('; ')}`,
      });
    }
    await x.sendEncrypted(jid, res.element, id);
    this.emit({ event: 'sent', to: jid, id, body: text, encryption: 'omemo', devices: res.element.keys.length });
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

  private async requireManager(): Promise<OmemoManager> {
    if (!this.manager) {
      // Fingerprint and trust work offline on the stored identity of the default account.
      const jid = this.ownJid ?? this.deps.defaultJid;
      if (!jid) throw new Error('no account: /connect JID first, or /account add JID');
      this.ownJid = bareJid(jid);
      const account = await this.deps.accounts.get(this.ownJid);
      this.trustMode = account?.trust_mode ?? this.trustMode;
      this.policy = account?.omemo_policy ?? this.policy;
      this.manager = new OmemoManager(await this.deps.openOmemoStore(this.ownJid), { ownJid: this.ownJid, trustMode: this.trustMode });
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
    this.chatModes.set(target, 'omemo');
    await this.deps.accounts.setChatPolicy(target, 'omemo');
    this.current = target;
    this.emit({ event: 'chat', jid: target, encryption: 'omemo' });
  }

  async omemoEnd(jid?: string): Promise<void> {
    const target = jid ? bareJid(jid) : this.current;
    if (!target) throw new Error('no chat: /omemo end JID');
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
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
