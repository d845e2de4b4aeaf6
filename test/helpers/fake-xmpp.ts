// A fake XMPP floor for unit tests of src/core: an in-memory "server" holding device lists,
// bundles, an archive and rooms, a port per session that records what it sends, and OMEMO peers
// (real OmemoManagers on memory stores) that talk to the session through it. No Prosody.
import type { ArchivedMessage, ArchivePage, IncomingMessage, XmppConnectParams, XmppPort, XmppPortEvents } from '../../src/core/ports.js';
import type { MucPort } from '../../src/core/muc/ports.js';
import type { AccountSessionDeps } from '../../src/core/account-session.js';
import type { AccountSettings, Encryption } from '../../src/core/api.js';
import type { Bundle } from '../../src/omemo/device.js';
import type { MucInvite, MucMessage, MucPresence, RoomInfo } from '../../src/xmpp/muc.js';
import type { MessageExtras } from '../../src/xmpp/message-extras.js';
import { OmemoManager, type EncryptedElement } from '../../src/omemo/manager.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';

export class FakeServer {
  readonly deviceLists = new Map<string, number[]>();
  readonly bundles = new Map<string, Bundle>();
  readonly archive: ArchivedMessage[] = [];
  /** A fetch of this JID's device list fails with this error (timeouts, server errors). */
  readonly deviceListErrors = new Map<string, Error>();
  /** Logins fail with this error while set (a server that is down, a changed password). */
  loginError?: Error;
  /** Every login, in order. */
  readonly logins: string[] = [];

  bundleKey(jid: string, id: number): string {
    return `${jid}/${id}`;
  }
}

export type Sent =
  | { kind: 'plain'; to: string; body: string; id: string; extras?: MessageExtras }
  | { kind: 'encrypted'; to: string; el: EncryptedElement; id: string; keyTransport: boolean }
  | { kind: 'signal'; to: string; extras: MessageExtras }
  | { kind: 'publish-devices'; ids: number[] }
  | { kind: 'room'; room: string; id: string; body?: string; el?: EncryptedElement }
  | { kind: 'presence'; show?: string; status?: string };

type AnyListener = (...args: never[]) => void;

export class FakePort implements XmppPort {
  readonly sent: Sent[] = [];
  private readonly listeners = new Map<keyof XmppPortEvents, AnyListener[]>();
  jid = '';
  muc?: FakeMucPort;

  constructor(
    readonly server: FakeServer,
    opts: { rooms?: boolean } = {},
  ) {
    if (opts.rooms) this.muc = new FakeMucPort(this);
  }

  on<K extends keyof XmppPortEvents>(event: K, listener: XmppPortEvents[K]): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener as AnyListener]);
  }

  fire<K extends keyof XmppPortEvents>(event: K, ...args: Parameters<XmppPortEvents[K]>): void {
    for (const l of this.listeners.get(event) ?? []) (l as unknown as (...a: Parameters<XmppPortEvents[K]>) => void)(...args);
  }

  deliver(m: Omit<IncomingMessage, 'to' | 'type'> & Partial<IncomingMessage>): void {
    this.fire('message', { to: `${this.jid}/fake`, type: 'chat', ...m });
  }

  async connect(p: XmppConnectParams): Promise<string> {
    this.server.logins.push(p.jid);
    if (this.server.loginError) throw this.server.loginError;
    this.jid = p.jid;
    return `${p.jid}/fake`;
  }
  async disconnect(): Promise<void> {
    this.fire('offline');
  }
  async sendPlain(to: string, body: string, id: string, extras?: MessageExtras): Promise<void> {
    this.sent.push({ kind: 'plain', to, body, id, ...(extras ? { extras } : {}) });
  }
  async sendEncrypted(to: string, el: EncryptedElement, id: string, opts: { keyTransport?: boolean } = {}): Promise<void> {
    this.sent.push({ kind: 'encrypted', to, el, id, keyTransport: opts.keyTransport === true });
  }
  async sendSignal(to: string, extras: MessageExtras): Promise<void> {
    this.sent.push({ kind: 'signal', to, extras });
  }
  async fetchDeviceList(jid: string): Promise<number[]> {
    const err = this.server.deviceListErrors.get(jid);
    if (err) throw err;
    return [...(this.server.deviceLists.get(jid) ?? [])];
  }
  async fetchBundle(jid: string, deviceId: number): Promise<Bundle> {
    const b = this.server.bundles.get(this.server.bundleKey(jid, deviceId));
    if (!b) throw Object.assign(new Error(`no bundle ${jid}/${deviceId}`), { condition: 'item-not-found' });
    return b;
  }
  async publishDeviceList(ids: number[]): Promise<void> {
    this.sent.push({ kind: 'publish-devices', ids: [...ids] });
    this.server.deviceLists.set(this.jid, [...ids]);
  }
  async publishBundle(bundle: Bundle): Promise<void> {
    this.server.bundles.set(this.server.bundleKey(this.jid, bundle.deviceId), bundle);
  }
  async subscription(): Promise<void> {}
  async mamQuery(q: { after?: string; before?: string; max?: number }): Promise<ArchivePage> {
    const all = this.server.archive;
    if (q.before === '') {
      const last = all.at(-1);
      return { messages: last ? [last] : [], complete: true, count: all.length, ...(last ? { first: last.archiveId, last: last.archiveId } : {}) };
    }
    const start = q.after ? all.findIndex((m) => m.archiveId === q.after) + 1 : 0;
    const messages = all.slice(start, start + (q.max ?? 50));
    const last = messages.at(-1);
    return { messages, complete: start + messages.length >= all.length, count: messages.length, ...(last ? { first: messages[0].archiveId, last: last.archiveId } : {}) };
  }
  async rosterAdd(): Promise<void> {}
  async rosterRemove(): Promise<void> {}
  async setPresence(show?: string, status?: string): Promise<void> {
    this.sent.push({ kind: 'presence', ...(show ? { show } : {}), ...(status ? { status } : {}) });
  }
}

/** One room service: join answers with our own presence; the rest records or answers from state. */
export class FakeMucPort implements MucPort {
  private presence: ((p: MucPresence) => void)[] = [];
  private message: ((m: MucMessage) => void)[] = [];
  readonly features = ['muc_nonanonymous', 'muc_membersonly', 'http://jabber.org/protocol/muc'];
  readonly members = new Map<string, { jid: string }[]>();

  constructor(private readonly port: FakePort) {}

  onPresence(l: (p: MucPresence) => void): void {
    this.presence.push(l);
  }
  onMessage(l: (m: MucMessage) => void): void {
    this.message.push(l);
  }
  onInvite(_l: (i: MucInvite) => void): void {}
  firePresence(p: MucPresence): void {
    for (const l of this.presence) l(p);
  }
  fireMessage(m: MucMessage): void {
    for (const l of this.message) l(m);
  }
  domain(): string {
    return 'example.org';
  }
  readonly joins: string[] = [];
  async join(room: string, nick: string): Promise<MucPresence> {
    this.joins.push(room);
    return { room, nick, type: 'available', codes: ['110'], self: true, jid: `${this.port.jid}/fake`, affiliation: 'owner', role: 'moderator' };
  }
  async leave(): Promise<void> {}
  async changeNick(): Promise<void> {}
  async setSubject(): Promise<void> {}
  async invite(): Promise<void> {}
  async send(room: string, opts: { id: string; body?: string; encrypted?: EncryptedElement }): Promise<string> {
    this.port.sent.push({ kind: 'room', room, id: opts.id, ...(opts.body !== undefined ? { body: opts.body } : {}), ...(opts.encrypted ? { el: opts.encrypted } : {}) });
    return opts.id;
  }
  async info(): Promise<RoomInfo> {
    return { features: [...this.features] };
  }
  async findService(): Promise<string | undefined> {
    return 'rooms.example.org';
  }
  async configure(): Promise<void> {}
  async instantRoom(): Promise<void> {}
  async affiliations(room: string, affiliation: string): Promise<{ jid: string }[]> {
    return affiliation === 'member' ? (this.members.get(room) ?? []) : [];
  }
  async setAffiliation(): Promise<void> {}
  bookmarks = { list: async () => [], add: async () => {}, remove: async () => {} };
}

/** A contact's OMEMO device: a real manager on a memory store, published on the fake server. */
export class FakePeer {
  private constructor(
    readonly jid: string,
    readonly omemo: OmemoManager,
    readonly deviceId: number,
    private readonly server: FakeServer,
  ) {}

  /** `listed`: whether the device appears in the JID's published device list right away. */
  static async create(server: FakeServer, jid: string, opts: { listed?: boolean } = {}): Promise<FakePeer> {
    const omemo = new OmemoManager(new MemoryOmemoStore(), { ownJid: jid, trustMode: 'blind' });
    const { deviceId } = await omemo.ensureIdentity(server.deviceLists.get(jid) ?? []);
    server.bundles.set(server.bundleKey(jid, deviceId), await omemo.ownBundle());
    if (opts.listed ?? true) server.deviceLists.set(jid, [...(server.deviceLists.get(jid) ?? []), deviceId]);
    return new FakePeer(jid, omemo, deviceId, server);
  }

  /** An OMEMO message to `to` (and nobody else): a PreKey message while no session exists. */
  async encryptTo(to: string, text: string | null): Promise<EncryptedElement> {
    await this.omemo.processDeviceList(to, this.server.deviceLists.get(to) ?? []);
    const res = await this.omemo.encrypt(text, [to], async (j, d) => {
      const b = this.server.bundles.get(this.server.bundleKey(j, d));
      if (!b) throw new Error(`no bundle ${j}/${d}`);
      return b;
    });
    return res.element;
  }
}

/** An AccountSession's dependencies over fake ports (a new one per connect), accounts in memory. */
export function fakeDeps(newPort: () => XmppPort, more: Partial<AccountSessionDeps> = {}): AccountSessionDeps {
  const settings = new Map<string, AccountSettings>();
  const chatPolicy = new Map<string, Encryption>();
  const store = new MemoryOmemoStore();
  return {
    openOmemoStore: async () => store,
    accounts: {
      list: async () => [...settings.values()],
      get: async (jid) => settings.get(jid),
      add: async (jid) => void settings.set(jid, { jid }),
      set: async (jid, key, value) => void settings.set(jid, { ...(settings.get(jid) ?? { jid }), [key]: value }),
      remove: async (jid) => void settings.delete(jid),
      getChatPolicy: async (jid) => chatPolicy.get(jid),
      setChatPolicy: async (jid, enc) => void (enc ? chatPolicy.set(jid, enc) : chatPolicy.delete(jid)),
    },
    createXmpp: newPort,
    env: { XCHAT_PASSWORD: 'x' },
    ...more,
  };
}
