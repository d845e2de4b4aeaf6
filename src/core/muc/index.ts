// Group chat for one account session: rooms joined, room windows, bookmarks with autojoin, and
// OMEMO in rooms (legacy namespace). OMEMO is only allowed in rooms that are non-anonymous and
// members-only: then every member's real JID is known, and a message is encrypted for every device
// of every member/admin/owner (offline ones too) plus our own devices.
import type { BookmarkView, Encryption, MucApi, OccupantView, RoomSetting } from '../api.js';
import type { XmppPort } from '../ports.js';
import type { Affiliation, MucPresence } from '../../xmpp/muc.js';
import { NS_MAM } from '../../xmpp/mam.js';
import { roomCreated } from '../../xmpp/muc-status.js';
import { bareJid } from '../../lib/jid.js';
import { logged, reportCaught } from '../../lib/diagnostics.js';
import { errText, type SessionContext } from '../session/context.js';
import type { OmemoIo } from '../session/omemo-io.js';
import type { MucPort, RoomHistory } from './ports.js';
import { describeFeature, describeMissing, missingOmemoFeatures, newRoom, RoomRegistry, type Room } from './rooms.js';
import { applyPresence } from './occupants.js';
import { RoomMessages } from './messages.js';
import { catchUpRoom } from './archive.js';

export { OMEMO_ROOM_FEATURES } from './rooms.js';
export type { MucPort, RoomHistory } from './ports.js';

const SETTING_FIELDS: Record<RoomSetting, (on: boolean) => Record<string, string>> = {
  persistent: (on) => ({ 'muc#roomconfig_persistentroom': on ? '1' : '0' }),
  'members-only': (on) => ({ 'muc#roomconfig_membersonly': on ? '1' : '0' }),
  nonanonymous: (on) => ({ 'muc#roomconfig_whois': on ? 'anyone' : 'moderators' }),
  public: (on) => ({ 'muc#roomconfig_publicroom': on ? '1' : '0' }),
};

export class MucCore implements MucApi {
  private readonly registry = new RoomRegistry();
  private readonly messages: RoomMessages;
  private port?: MucPort;
  private service?: string;
  /** Who waits for a room to be joined (again): the outbox, for messages typed while offline. */
  private readonly joinWaiters = new Map<string, (() => void)[]>();
  /** Rooms joined when the stream was lost: joined again as they were if it is resumed. */
  private wasJoined: Room[] = [];

  constructor(
    private readonly ctx: SessionContext,
    io: OmemoIo,
    private readonly history: () => RoomHistory | undefined,
  ) {
    this.messages = new RoomMessages(ctx, io, this.registry, history, (r) => this.refreshAndCheck(r));
  }

  /** Called for every new XMPP connection. */
  attach(x: XmppPort): void {
    const p = x.muc;
    this.port = p;
    this.service = undefined;
    if (!p) return;
    p.onPresence((pr) => {
      if (this.port === p) this.onPresence(pr);
    });
    p.onMessage((m) => {
      if (this.port !== p) return;
      this.ctx.background(`message in ${m.room} could not be handled`, () => this.messages.receive(m), m.room);
    });
    p.onInvite((i) => this.ctx.emit({ event: 'invite', room: i.room, from: i.from, ...(i.reason ? { reason: i.reason } : {}), ...(i.password ? { password: i.password } : {}) }));
    x.on('offline', () => {
      // Occupants are kept until we know the server did not keep the session (see online()).
      this.wasJoined = this.registry.all().filter((r) => r.joined);
      for (const r of this.registry.all()) r.joined = false;
    });
  }

  /** The lost stream was resumed: the server kept us in the rooms, with what we knew of them. */
  resumed(): void {
    for (const r of this.wasJoined) {
      r.joined = true;
      this.wakeJoinWaiters(r.room);
    }
    this.wasJoined = [];
  }

  /** Settles once we are in the room (at once if we are); false when that did not happen within `ms`. */
  whenJoined(room: string, ms: number): Promise<boolean> {
    if (this.registry.get(room)?.joined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.joinWaiters.set(room, (this.joinWaiters.get(room) ?? []).filter((w) => w !== wake));
        resolve(false);
      }, ms);
      this.joinWaiters.set(room, [...(this.joinWaiters.get(room) ?? []), wake]);
    });
  }

  private wakeJoinWaiters(room: string): void {
    const list = this.joinWaiters.get(room) ?? [];
    this.joinWaiters.delete(room);
    for (const wake of list) wake();
  }

  private onPresence(pr: MucPresence): void {
    try {
      for (const e of applyPresence(this.registry, pr, this.ctx.account?.jid)) this.ctx.emit(e);
    } catch (e) {
      this.ctx.error(`bad presence from ${pr.room}: ${errText(e)}`, pr.room);
    }
  }

  /** After login: rejoin the rooms we were in and join autojoin bookmarks. */
  async online(): Promise<void> {
    // A new session: the rooms are joined afresh, and what we knew of them is gone with the old one.
    this.wasJoined = [];
    for (const r of this.registry.all()) {
      r.archiveSynced = false;
      r.occupants.clear();
    }
    if (!this.port) return; // a port without group chat (test doubles)
    const p = this.requirePort();
    const want = new Map<string, { nick?: string; password?: string }>();
    for (const r of this.registry.all()) want.set(r.room, { nick: r.nick, ...(r.password ? { password: r.password } : {}) });
    try {
      for (const b of await p.bookmarks.list()) {
        if (b.autojoin && !want.has(b.room)) want.set(b.room, { ...(b.nick ? { nick: b.nick } : {}), ...(b.password ? { password: b.password } : {}) });
      }
    } catch (e) {
      // Lost with the connection: the next one reads them again; otherwise the user is told.
      if (this.ctx.connected) this.ctx.warn(`could not read bookmarks: ${errText(e)}`);
      else reportCaught('rooms: read bookmarks on a connection that was lost', e, 'info');
    }
    for (const [room, o] of want) {
      await this.join(room, o, { background: true }).catch((e) => this.ctx.emit({ event: 'room', room, status: 'error', message: errText(e) }));
    }
  }

  private requirePort(): MucPort {
    if (!this.port || !this.ctx.connected) throw new Error('not connected: use /connect JID first');
    return this.port;
  }

  noteCurrent(jid: string | undefined): void {
    this.registry.noteCurrent(jid);
  }
  nickIn(room: string): string | undefined {
    return this.registry.get(room)?.nick;
  }
  isRoom(jid: string): boolean {
    return this.registry.has(jid);
  }
  rooms(): string[] {
    return this.registry.jids();
  }
  encryptionOf(room: string): Encryption {
    return this.registry.get(room)?.encryption ?? 'none';
  }

  // ---- join / leave ---------------------------------------------------------------------------

  private async resolveRoom(room: string): Promise<string> {
    const r = room.trim().toLowerCase();
    if (!r || /[\s/]/.test(r)) throw new Error(`"${room}" is not a room name`);
    if (r.includes('@')) return r;
    const p = this.requirePort();
    if (!this.service) {
      this.service = (await p.findService().catch(logged('rooms: find the MUC service'))) ?? `muc.${p.domain()}`;
    }
    return `${r}@${this.service}`;
  }

  /** background: an autojoin/rejoin, which must not take the user's current window away. */
  async join(room: string, opts: { nick?: string; password?: string } = {}, how: { background?: boolean } = {}): Promise<void> {
    const p = this.requirePort();
    const jid = await this.resolveRoom(room);
    const own = this.ctx.account?.jid ?? '';
    const existing = this.registry.get(jid);
    const nick = opts.nick ?? existing?.nick ?? (own.split('@')[0] || 'xchat');
    const state = existing ?? newRoom(jid, nick, (await this.ctx.deps.accounts.getChatPolicy(jid)) ?? 'none');
    state.nick = nick;
    if (opts.password) state.password = opts.password;
    this.registry.set(state);
    // A room with an archive is caught up from it (since the last id we stored) instead of its
    // join history, which would only repeat part of it.
    const hist = this.history();
    const roomMam = hist?.available && p.mamQuery ? ((await p.info(jid).catch(logged(`rooms: features of ${jid}`)))?.features.includes(NS_MAM) ?? false) : false;
    state.archiveSynced = false;
    const created = await this.enter(state, p, roomMam, !existing);
    this.ctx.emit({ event: 'room', room: jid, status: 'joined', nick: state.nick, encryption: state.encryption, ...(created ? { created: true } : {}) });
    if (hist?.available && p.mamQuery && (roomMam || (created && state.features?.includes(NS_MAM)))) this.startArchive(state, p, hist, created);
    if (!how.background) {
      this.registry.setCurrent(jid);
      this.ctx.current = jid;
      this.ctx.emit({ event: 'chat', jid, encryption: state.encryption });
    }
  }

  /** Sends the join presence and settles the room's state; returns whether we created the room. */
  private async enter(state: Room, p: MucPort, roomMam: boolean, isNew: boolean): Promise<boolean> {
    let self: MucPresence;
    try {
      // Join history comes with a rejoin too: messages already stored are not shown again.
      self = await p.join(state.room, state.nick, { ...(state.password ? { password: state.password } : {}), maxHistory: roomMam ? 0 : 20 });
    } catch (e) {
      if (isNew) this.registry.delete(state.room);
      throw new Error(`cannot join ${state.room}: ${errText(e)}`);
    }
    state.joined = true;
    state.nick = self.nick;
    this.wakeJoinWaiters(state.room);
    const created = roomCreated(self.codes);
    // A new room stays locked until configured: take the defaults, /room config changes them.
    if (created) await p.instantRoom(state.room);
    await this.refreshFeatures(state).catch(logged(`rooms: features of ${state.room}`));
    const missing = state.encryption === 'omemo' ? missingOmemoFeatures(state) : [];
    if (missing.length) {
      state.encryption = 'none';
      this.ctx.warn(`OMEMO is off in ${state.room}: the room is not ${describeMissing(missing)}`, { jid: state.room });
    }
    return created;
  }

  private startArchive(state: Room, p: MucPort, hist: RoomHistory, created: boolean): void {
    if (created) {
      // A new archive: everything in it will have been seen live.
      hist.setRoomSync(state.room, undefined);
      state.archiveSynced = true;
      return;
    }
    const current = () => this.registry.get(state.room) === state && this.port === p;
    this.ctx
      .track(this.ctx.queue.run(() => catchUpRoom(state, p, hist, current, (m) => this.messages.receive(m, true))))
      .catch((e) => this.ctx.warn(`could not read the archive of ${state.room} (messages sent while you were away may be missing): ${errText(e)}`, { jid: state.room }));
  }

  async leave(room?: string): Promise<void> {
    const r = this.registry.of(room, '/leave');
    this.registry.delete(r.room);
    if (r.joined && this.port && this.ctx.connected) await this.port.leave(r.room, r.nick);
    this.ctx.emit({ event: 'room', room: r.room, status: 'left', nick: r.nick });
  }

  async nick(newNick: string, room?: string): Promise<void> {
    const r = this.registry.of(room, '/nick');
    if (!newNick.trim()) throw new Error('missing nick');
    await this.requirePort().changeNick(r.room, newNick);
  }

  occupants(room?: string): OccupantView[] {
    const r = this.registry.of(room, '/occupants');
    return [...r.occupants.entries()]
      .map(([nick, o]) => ({ nick, ...(o.jid ? { jid: o.jid } : {}), ...(o.affiliation ? { affiliation: o.affiliation } : {}), ...(o.role ? { role: o.role } : {}), self: nick === r.nick }))
      .sort((a, b) => a.nick.localeCompare(b.nick));
  }

  async subject(text?: string, room?: string): Promise<string | undefined> {
    const r = this.registry.of(room, '/subject');
    if (text !== undefined) await this.requirePort().setSubject(r.room, text);
    return text ?? r.subject;
  }

  async invite(jid: string, reason?: string, room?: string): Promise<void> {
    const r = this.registry.of(room, '/invite');
    await this.requirePort().invite(r.room, bareJid(jid), reason);
    this.ctx.info(`invited ${bareJid(jid)} to ${r.room}`);
  }

  async configure(setting: RoomSetting, on: boolean, room?: string): Promise<void> {
    const r = this.registry.of(room, '/room config');
    await this.requirePort().configure(r.room, SETTING_FIELDS[setting](on));
    await this.refreshFeatures(r).catch(logged(`rooms: features of ${r.room}`));
    this.ctx.info(`${r.room}: ${setting} ${on ? 'on' : 'off'}`);
    this.checkOmemoStillAllowed(r);
  }

  async affiliation(jid: string, affiliation: Affiliation, room?: string): Promise<void> {
    const r = this.registry.of(room, '/affiliation');
    await this.requirePort().setAffiliation(r.room, bareJid(jid), affiliation);
    this.ctx.info(`${r.room}: ${bareJid(jid)} is now ${affiliation}`);
  }

  async affiliationList(affiliation: 'owner' | 'admin' | 'member' | 'outcast', room?: string): Promise<string[]> {
    const r = this.registry.of(room, '/affiliation list');
    return (await this.requirePort().affiliations(r.room, affiliation)).map((i) => i.jid);
  }

  // ---- bookmarks ------------------------------------------------------------------------------

  async bookmarkAdd(room?: string, opts: { autojoin?: boolean; nick?: string; password?: string; name?: string } = {}): Promise<void> {
    const p = this.requirePort();
    const jid = room ? await this.resolveRoom(room) : this.registry.of(undefined, '/bookmark add').room;
    const r = this.registry.get(jid);
    const nick = opts.nick ?? r?.nick;
    const password = opts.password ?? r?.password;
    await p.bookmarks.add({ room: jid, autojoin: opts.autojoin ?? true, ...(nick ? { nick } : {}), ...(password ? { password } : {}), ...(opts.name ? { name: opts.name } : {}) });
    this.ctx.info(`bookmarked ${jid}${opts.autojoin ?? true ? ' (autojoin)' : ''}`);
  }

  async bookmarkRemove(room?: string): Promise<void> {
    const p = this.requirePort();
    const jid = room ? await this.resolveRoom(room) : this.registry.of(undefined, '/bookmark remove').room;
    await p.bookmarks.remove(jid);
    this.ctx.info(`bookmark ${jid} removed`);
  }

  async bookmarkList(): Promise<BookmarkView[]> {
    return (await this.requirePort().bookmarks.list()).map((b) => ({ ...b }));
  }

  // ---- encryption -----------------------------------------------------------------------------

  private async refreshFeatures(r: Room): Promise<void> {
    r.features = (await this.requirePort().info(r.room)).features;
  }

  /** A configuration change (status 104, 172–174): features re-read, OMEMO still allowed? */
  private async refreshAndCheck(r: Room): Promise<void> {
    await this.refreshFeatures(r).catch(logged(`rooms: features of ${r.room}`));
    this.checkOmemoStillAllowed(r);
  }

  /** /omemo start|end in a room. */
  async setEncryption(room: string, enc: Encryption): Promise<void> {
    const r = this.registry.of(room, '/omemo');
    if (enc === 'omemo') {
      await this.refreshFeatures(r);
      const missing = missingOmemoFeatures(r);
      if (missing.length) {
        throw new Error(
          `OMEMO refused in ${r.room}: the room is not ${describeMissing(missing)} (missing disco feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}); ` +
            `OMEMO needs the real JID of every member. An owner can change it: ${missing.map((f) => `/room config ${f === 'muc_membersonly' ? 'members-only' : 'nonanonymous'} on`).join(', ')}`,
        );
      }
    }
    r.encryption = enc;
    await this.ctx.deps.accounts.setChatPolicy(r.room, enc);
    this.ctx.current = r.room;
    this.registry.setCurrent(r.room);
    this.ctx.emit({ event: 'chat', jid: r.room, encryption: enc });
  }

  private checkOmemoStillAllowed(r: Room): void {
    if (r.encryption !== 'omemo') return;
    const missing = missingOmemoFeatures(r);
    if (missing.length) {
      this.ctx.warn(`${r.room} is no longer ${missing.map(describeFeature).join(' and ')}: encrypted messages will be refused until that is restored (or /omemo end)`, { jid: r.room });
    }
  }

  /** Sends a line to a room in its mode (runs on the session queue). */
  send(room: string, text: string, opts: { plain?: boolean; id?: string } = {}): Promise<void> {
    this.registry.of(room, 'send');
    return this.messages.send(room, text, this.requirePort(), opts);
  }
}
