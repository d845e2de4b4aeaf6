// Group chat for one account session: rooms joined, occupants (nick → real JID), room windows,
// bookmarks with autojoin, and OMEMO in rooms (legacy namespace). OMEMO is only allowed in rooms
// that are non-anonymous and members-only: then every member's real JID is known, and a message is
// encrypted for every device of every member/admin/owner (offline ones too) plus our own devices.
import { randomUUID } from 'node:crypto';
import type { BookmarkView, Encryption, MucApi, OccupantView, RoomSetting, XchatEvent } from './api.js';
import type { XmppPort } from './ports.js';
import type { OmemoManager, EncryptedElement } from '../omemo/manager.js';
import { isOmemoError, OmemoError } from '../omemo/errors.js';
import { shortFingerprint } from '../omemo/fingerprint.js';
import type { Affiliation, MucInvite, MucMessage, MucPresence, RoomInfo } from '../xmpp/muc.js';
import type { Bookmark } from '../xmpp/bookmarks.js';
import { NS_MAM, type ArchivedRoomMessage, type RoomMamPage } from '../xmpp/mam.js';
import type { HistoryRow } from '../store/history.js';
import type { RoomMessageIds } from './history.js';

/** Room archive pages read per query on catch-up; the first visit reads one page this big. */
const ROOM_CATCH_UP_PAGE = 100;
const ROOM_FIRST_PAGE = 20;

/** What group chat needs from local history (history.ts HistoryCore). */
export interface RoomHistory {
  readonly available: boolean;
  receiveRoom(ids: RoomMessageIds, archived: boolean, handle: (known?: HistoryRow) => Promise<void>, replay: (e: XchatEvent) => void): Promise<void>;
  roomSync(room: string): { initialized: boolean; lastArchiveId?: string } | undefined;
  setRoomSync(room: string, lastArchiveId: string | undefined): void;
}

/** What the core needs from src/xmpp for group chat. */
export interface MucPort {
  onPresence(l: (p: MucPresence) => void): void;
  onMessage(l: (m: MucMessage) => void): void;
  onInvite(l: (i: MucInvite) => void): void;
  domain(): string;
  join(room: string, nick: string, opts?: { password?: string; maxHistory?: number }): Promise<MucPresence>;
  leave(room: string, nick: string): Promise<void>;
  changeNick(room: string, nick: string): Promise<void>;
  setSubject(room: string, subject: string): Promise<void>;
  invite(room: string, jid: string, reason?: string): Promise<void>;
  send(room: string, opts: { id: string; body?: string; encrypted?: EncryptedElement }): Promise<string>;
  info(jid: string): Promise<RoomInfo>;
  findService(): Promise<string | undefined>;
  configure(room: string, changes: Record<string, string | string[]>): Promise<void>;
  instantRoom(room: string): Promise<void>;
  affiliations(room: string, affiliation: Affiliation): Promise<{ jid: string; nick?: string }[]>;
  /** One page of the room's own archive (XEP-0313 to the room JID). */
  mamQuery?(room: string, q: { after?: string; before?: string; max?: number }): Promise<RoomMamPage>;
  setAffiliation(room: string, jid: string, affiliation: Affiliation, reason?: string): Promise<void>;
  bookmarks: { list(): Promise<Bookmark[]>; add(b: Bookmark): Promise<void>; remove(room: string): Promise<void> };
}

/** What the core gives the group chat part of a session. */
export interface MucHost {
  xmpp(): XmppPort | undefined;
  connected(): boolean;
  manager(): OmemoManager | undefined;
  ownJid(): string | undefined;
  emit(e: XchatEvent): void;
  /** Runs `fn` on the session's serial queue, tracked for drain(). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** A JID's device list (fetched when unknown or stale) fed to the OMEMO manager. */
  deviceListOf(jid: string): Promise<number[]>;
  explainFetchError(jid: string, e: unknown): Error;
  /** Completes a new session / heartbeat with a 1:1 key-transport message. */
  sendKeyTransport(jid: string): Promise<void>;
  setCurrent(jid: string): void;
  getChatPolicy(jid: string): Promise<Encryption | undefined>;
  setChatPolicy(jid: string, enc: Encryption | undefined): Promise<void>;
  /** Local history: room messages stored once, room archive catch-up. Absent: nothing stored. */
  history?(): RoomHistory | undefined;
}

interface Occupant {
  jid?: string; // bare
  affiliation?: string;
  role?: string;
}

interface Room {
  room: string;
  nick: string;
  password?: string;
  joined: boolean;
  occupants: Map<string, Occupant>;
  subject?: string;
  features?: string[];
  encryption: Encryption;
  /** Plaintext of our own messages by id: the reflection of an OMEMO message is not for us. */
  sent: Map<string, string>;
  /** The room archive was read up to now: live stanza-ids advance the stored position. */
  archiveSynced?: boolean;
  /** XEP-0421 occupant-id → real bare JID, learned from the room's presence (never from messages). */
  occupantIds: Map<string, string>;
}

/** Room features OMEMO needs (XEP-0384 §6: the real JIDs of all members must be known). */
export const OMEMO_ROOM_FEATURES = ['muc_nonanonymous', 'muc_membersonly'] as const;

const SETTING_FIELDS: Record<RoomSetting, (on: boolean) => Record<string, string>> = {
  persistent: (on) => ({ 'muc#roomconfig_persistentroom': on ? '1' : '0' }),
  'members-only': (on) => ({ 'muc#roomconfig_membersonly': on ? '1' : '0' }),
  nonanonymous: (on) => ({ 'muc#roomconfig_whois': on ? 'anyone' : 'moderators' }),
  public: (on) => ({ 'muc#roomconfig_publicroom': on ? '1' : '0' }),
};

const SENT_KEPT = 500;

function bare(j: string): string {
  const i = j.indexOf('/');
  return (i === -1 ? j : j.slice(0, i)).toLowerCase();
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class MucCore implements MucApi {
  private readonly roomMap = new Map<string, Room>();
  private port?: MucPort;
  private service?: string;

  constructor(private readonly host: MucHost) {}

  // ---- wiring -------------------------------------------------------------------------------

  /** Called for every new XMPP connection. */
  attach(x: XmppPort): void {
    const p = x.muc;
    this.port = p;
    this.service = undefined;
    if (!p) return;
    p.onPresence((pr) => {
      if (this.port !== p) return;
      try {
        this.onPresence(pr);
      } catch (e) {
        this.host.emit({ event: 'error', message: `bad presence from ${pr.room}: ${errText(e)}`, from: pr.room });
      }
    });
    p.onMessage((m) => {
      if (this.port !== p) return;
      this.host.run(() => this.onMessage(m)).catch((e) =>
        this.host.emit({ event: 'error', message: `message in ${m.room} could not be handled: ${errText(e)}`, from: m.room }),
      );
    });
    p.onInvite((i) => this.host.emit({ event: 'invite', room: i.room, from: i.from, ...(i.reason ? { reason: i.reason } : {}), ...(i.password ? { password: i.password } : {}) }));
    x.on('offline', () => {
      for (const r of this.roomMap.values()) {
        r.joined = false;
        r.archiveSynced = false;
        r.occupants.clear();
      }
    });
  }

  /** After login: rejoin the rooms we were in and join autojoin bookmarks. */
  async online(): Promise<void> {
    if (!this.port) return; // a port without group chat (test doubles)
    const p = this.requirePort();
    const want = new Map<string, { nick?: string; password?: string }>();
    for (const r of this.roomMap.values()) want.set(r.room, { nick: r.nick, ...(r.password ? { password: r.password } : {}) });
    try {
      for (const b of await p.bookmarks.list()) {
        if (b.autojoin && !want.has(b.room)) want.set(b.room, { ...(b.nick ? { nick: b.nick } : {}), ...(b.password ? { password: b.password } : {}) });
      }
    } catch (e) {
      this.host.emit({ event: 'warning', message: `could not read bookmarks: ${errText(e)}` });
    }
    for (const [room, o] of want) {
      await this.join(room, o, { background: true }).catch((e) => this.host.emit({ event: 'room', room, status: 'error', message: errText(e) }));
    }
  }

  private requirePort(): MucPort {
    if (!this.port || !this.host.connected()) throw new Error('not connected: use /connect JID first');
    return this.port;
  }

  private roomOf(room: string | undefined, what: string): Room {
    const r = room ? this.roomMap.get(bare(room)) : undefined;
    if (r) return r;
    if (room) throw new Error(`not in room ${bare(room)}: /join ${bare(room)} first`);
    throw new Error(`${what}: not in a room window (name the room, or /join one)`);
  }

  private currentRoom(room: string | undefined, what: string): Room {
    if (room) return this.roomOf(room, what);
    return this.roomOf(this.currentRoomJid(), what);
  }

  private currentRoomJid(): string | undefined {
    return this.current;
  }
  private current?: string;

  /** The session tells us which window is current (a room or not). */
  noteCurrent(jid: string | undefined): void {
    this.current = jid && this.roomMap.has(bare(jid)) ? bare(jid) : undefined;
  }

  /** Our nick in a room we are in. */
  nickIn(room: string): string | undefined {
    return this.roomMap.get(bare(room))?.nick;
  }

  isRoom(jid: string): boolean {
    return this.roomMap.has(bare(jid));
  }

  rooms(): string[] {
    return [...this.roomMap.keys()];
  }

  encryptionOf(room: string): Encryption {
    return this.roomMap.get(bare(room))?.encryption ?? 'none';
  }

  // ---- join / leave / nick -----------------------------------------------------------------

  private async resolveRoom(room: string): Promise<string> {
    const r = room.trim().toLowerCase();
    if (!r || /[\s/]/.test(r)) throw new Error(`"${room}" is not a room name`);
    if (r.includes('@')) return r;
    const p = this.requirePort();
    if (!this.service) {
      try {
        this.service = await p.findService();
      } catch {
        this.service = undefined;
      }
      this.service ??= `muc.${p.domain()}`;
    }
    return `${r}@${this.service}`;
  }

  /** background: an autojoin/rejoin, which must not take the user's current window away. */
  async join(room: string, opts: { nick?: string; password?: string } = {}, how: { background?: boolean } = {}): Promise<void> {
    const p = this.requirePort();
    const jid = await this.resolveRoom(room);
    const own = this.host.ownJid() ?? '';
    const nick = opts.nick ?? this.roomMap.get(jid)?.nick ?? (own.split('@')[0] || 'xchat');
    const existing = this.roomMap.get(jid);
    const state: Room = existing ?? {
      room: jid,
      nick,
      joined: false,
      occupants: new Map(),
      occupantIds: new Map(),
      encryption: (await this.host.getChatPolicy(jid)) ?? 'none',
      sent: new Map(),
    };
    state.nick = nick;
    if (opts.password) state.password = opts.password;
    this.roomMap.set(jid, state);
    // A room with an archive is caught up from it (since the last id we stored) instead of its
    // join history, which would only repeat part of it.
    const hist = this.host.history?.();
    let roomMam = false;
    if (hist?.available && p.mamQuery) roomMam = (await p.info(jid).catch(() => undefined))?.features.includes(NS_MAM) ?? false;
    state.archiveSynced = false;
    let self: MucPresence;
    try {
      // Join history comes with a rejoin too: messages already stored are not shown again.
      self = await p.join(jid, nick, { ...(state.password ? { password: state.password } : {}), maxHistory: roomMam ? 0 : 20 });
    } catch (e) {
      if (!existing) this.roomMap.delete(jid);
      throw new Error(`cannot join ${jid}: ${errText(e)}`);
    }
    state.joined = true;
    state.nick = self.nick;
    const created = self.codes.includes('201');
    if (created) {
      // A new room stays locked until configured: take the defaults, /room config changes them.
      await p.instantRoom(jid);
    }
    await this.refreshFeatures(state).catch(() => undefined);
    if (state.encryption === 'omemo') {
      const missing = this.missingOmemoFeatures(state);
      if (missing.length) {
        state.encryption = 'none';
        this.host.emit({ event: 'warning', jid, message: `OMEMO is off in ${jid}: the room is not ${missing.map(describeFeature).join(' and ')}` });
      }
    }
    this.host.emit({ event: 'room', room: jid, status: 'joined', nick: state.nick, encryption: state.encryption, ...(created ? { created: true } : {}) });
    if (hist?.available && p.mamQuery && (roomMam || (created && state.features?.includes(NS_MAM)))) {
      if (created) {
        // A new archive: everything in it will have been seen live.
        hist.setRoomSync(jid, undefined);
        state.archiveSynced = true;
      } else {
        this.host
          .run(() => this.catchUpRoom(state, p, hist))
          .catch((e) => this.host.emit({ event: 'warning', jid, message: `could not read the archive of ${jid} (messages sent while you were away may be missing): ${errText(e)}` }));
      }
    }
    if (!how.background) {
      this.host.setCurrent(jid);
      this.current = jid;
      this.host.emit({ event: 'chat', jid, encryption: state.encryption });
    }
  }

  async leave(room?: string): Promise<void> {
    const r = this.currentRoom(room, '/leave');
    this.roomMap.delete(r.room);
    if (this.current === r.room) this.current = undefined;
    if (r.joined && this.port && this.host.connected()) await this.port.leave(r.room, r.nick);
    this.host.emit({ event: 'room', room: r.room, status: 'left', nick: r.nick });
  }

  async nick(newNick: string, room?: string): Promise<void> {
    const r = this.currentRoom(room, '/nick');
    if (!newNick.trim()) throw new Error('missing nick');
    await this.requirePort().changeNick(r.room, newNick);
  }

  occupants(room?: string): OccupantView[] {
    const r = this.currentRoom(room, '/occupants');
    return [...r.occupants.entries()]
      .map(([nick, o]) => ({ nick, ...(o.jid ? { jid: o.jid } : {}), ...(o.affiliation ? { affiliation: o.affiliation } : {}), ...(o.role ? { role: o.role } : {}), self: nick === r.nick }))
      .sort((a, b) => a.nick.localeCompare(b.nick));
  }

  async subject(text?: string, room?: string): Promise<string | undefined> {
    const r = this.currentRoom(room, '/subject');
    if (text !== undefined) await this.requirePort().setSubject(r.room, text);
    return text ?? r.subject;
  }

  async invite(jid: string, reason?: string, room?: string): Promise<void> {
    const r = this.currentRoom(room, '/invite');
    await this.requirePort().invite(r.room, bare(jid), reason);
    this.host.emit({ event: 'info', message: `invited ${bare(jid)} to ${r.room}` });
  }

  async configure(setting: RoomSetting, on: boolean, room?: string): Promise<void> {
    const r = this.currentRoom(room, '/room config');
    await this.requirePort().configure(r.room, SETTING_FIELDS[setting](on));
    await this.refreshFeatures(r).catch(() => undefined);
    this.host.emit({ event: 'info', message: `${r.room}: ${setting} ${on ? 'on' : 'off'}` });
    this.checkOmemoStillAllowed(r);
  }

  async affiliation(jid: string, affiliation: Affiliation, room?: string): Promise<void> {
    const r = this.currentRoom(room, '/affiliation');
    await this.requirePort().setAffiliation(r.room, bare(jid), affiliation);
    this.host.emit({ event: 'info', message: `${r.room}: ${bare(jid)} is now ${affiliation}` });
  }

  async affiliationList(affiliation: 'owner' | 'admin' | 'member' | 'outcast', room?: string): Promise<string[]> {
    const r = this.currentRoom(room, '/affiliation list');
    return (await this.requirePort().affiliations(r.room, affiliation)).map((i) => i.jid);
  }

  // ---- bookmarks ----------------------------------------------------------------------------

  async bookmarkAdd(room?: string, opts: { autojoin?: boolean; nick?: string; password?: string; name?: string } = {}): Promise<void> {
    const p = this.requirePort();
    const jid = room ? await this.resolveRoom(room) : this.currentRoom(undefined, '/bookmark add').room;
    const r = this.roomMap.get(jid);
    const nick = opts.nick ?? r?.nick;
    const password = opts.password ?? r?.password;
    await p.bookmarks.add({ room: jid, autojoin: opts.autojoin ?? true, ...(nick ? { nick } : {}), ...(password ? { password } : {}), ...(opts.name ? { name: opts.name } : {}) });
    this.host.emit({ event: 'info', message: `bookmarked ${jid}${opts.autojoin ?? true ? ' (autojoin)' : ''}` });
  }

  async bookmarkRemove(room?: string): Promise<void> {
    const p = this.requirePort();
    const jid = room ? await this.resolveRoom(room) : this.currentRoom(undefined, '/bookmark remove').room;
    await p.bookmarks.remove(jid);
    this.host.emit({ event: 'info', message: `bookmark ${jid} removed` });
  }

  async bookmarkList(): Promise<BookmarkView[]> {
    return (await this.requirePort().bookmarks.list()).map((b) => ({ ...b }));
  }

  // ---- encryption ---------------------------------------------------------------------------

  private async refreshFeatures(r: Room): Promise<void> {
    const info = await this.requirePort().info(r.room);
    r.features = info.features;
  }

  private missingOmemoFeatures(r: Room): string[] {
    const f = new Set(r.features ?? []);
    return OMEMO_ROOM_FEATURES.filter((x) => !f.has(x));
  }

  /** /omemo start|end in a room. */
  async setEncryption(room: string, enc: Encryption): Promise<void> {
    const r = this.roomOf(room, '/omemo');
    if (enc === 'omemo') {
      await this.refreshFeatures(r);
      const missing = this.missingOmemoFeatures(r);
      if (missing.length) {
        throw new Error(
          `OMEMO refused in ${r.room}: the room is not ${missing.map(describeFeature).join(' and ')} (missing disco feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')}); ` +
            `OMEMO needs the real JID of every member. An owner can change it: ${missing.map((f) => `/room config ${f === 'muc_membersonly' ? 'members-only' : 'nonanonymous'} on`).join(', ')}`,
        );
      }
    }
    r.encryption = enc;
    await this.host.setChatPolicy(r.room, enc);
    this.host.setCurrent(r.room);
    this.current = r.room;
    this.host.emit({ event: 'chat', jid: r.room, encryption: enc });
  }

  private checkOmemoStillAllowed(r: Room): void {
    if (r.encryption !== 'omemo') return;
    const missing = this.missingOmemoFeatures(r);
    if (missing.length) {
      this.host.emit({
        event: 'warning',
        jid: r.room,
        message: `${r.room} is no longer ${missing.map(describeFeature).join(' and ')}: encrypted messages will be refused until that is restored (or /omemo end)`,
      });
    }
  }

  /** Bare JIDs of everyone who must be able to read: member/admin/owner lists and occupants. */
  private async recipients(r: Room): Promise<string[]> {
    const p = this.requirePort();
    const own = this.host.ownJid()!;
    const out = new Set<string>();
    for (const aff of ['owner', 'admin', 'member'] as const) {
      try {
        for (const i of await p.affiliations(r.room, aff)) out.add(bare(i.jid));
      } catch (e) {
        throw new Error(`cannot read the ${aff} list of ${r.room} (${errText(e)}): without it OMEMO cannot know who may read`);
      }
    }
    for (const o of r.occupants.values()) if (o.jid) out.add(o.jid);
    out.delete(own);
    return [...out].sort();
  }

  /** Sends a line to a room in its mode (runs on the session queue). */
  async send(room: string, text: string, opts: { plain?: boolean } = {}): Promise<void> {
    const r = this.roomOf(room, 'send');
    const p = this.requirePort();
    if (!r.joined) throw new Error(`not in ${r.room} right now (rejoining after a reconnect?): message not sent`);
    const id = randomUUID();
    if (opts.plain || r.encryption === 'none') {
      this.keep(r, id, text);
      await p.send(r.room, { id, body: text });
      this.host.emit({ event: 'sent', to: r.room, id, body: text, encryption: 'none', groupchat: true });
      return;
    }
    // Features may have changed since /omemo start (a status 104 refreshes them).
    const missing = this.missingOmemoFeatures(r);
    if (missing.length) {
      throw new Error(`message to ${r.room} NOT sent: the room is no longer ${missing.map(describeFeature).join(' and ')}, OMEMO is not possible (/omemo end to send plaintext)`);
    }
    const m = this.host.manager();
    const own = this.host.ownJid();
    if (!m || !own) throw new Error('OMEMO is not set up');
    const members = await this.recipients(r);
    for (const j of [...members, own]) {
      try {
        await this.host.deviceListOf(j);
      } catch (e) {
        this.host.emit({ event: 'warning', jid: j, message: `${r.room}: ${this.host.explainFetchError(j, e).message}` });
      }
    }
    const x = this.host.xmpp()!;
    const res = await m.encrypt(text, [...members, own], async (j, d) => {
      try {
        return await x.fetchBundle(j, d);
      } catch (e) {
        throw this.host.explainFetchError(j, e);
      }
    });
    const readers = new Set(res.recipients.filter((t) => t.status === 'ok' && t.jid !== own).map((t) => t.jid));
    if (members.length > 0 && readers.size === 0) {
      throw new OmemoError('no-trusted-devices', `message to ${r.room} NOT sent: no trusted device of any member (${members.join(', ')}) could receive it`);
    }
    const skipped = res.recipients.filter((t) => t.status !== 'ok');
    const unreadable = members.filter((j) => !readers.has(j));
    if (skipped.length > 0 || unreadable.length > 0) {
      this.host.emit({
        event: 'warning',
        jid: r.room,
        devices: skipped.map((t) => t.deviceId),
        message: `${r.room}: not everyone can read this message:${unreadable.length ? ` no usable device for ${unreadable.join(', ')};` : ''} ${skipped
          .map((t) => `${t.jid} device ${t.deviceId}${t.fingerprint ? ` (${shortFingerprint(t.fingerprint)})` : ''} ${t.status}${t.reason ? `: ${t.reason}` : ''}`)
          .join('; ')}`.trim(),
      });
    }
    this.keep(r, id, text);
    await p.send(r.room, { id, encrypted: res.element });
    this.host.emit({ event: 'sent', to: r.room, id, body: text, encryption: 'omemo', devices: res.element.keys.length, groupchat: true });
  }

  private keep(r: Room, id: string, text: string): void {
    r.sent.set(id, text);
    if (r.sent.size > SENT_KEPT) r.sent.delete(r.sent.keys().next().value!);
  }

  // ---- room archive -------------------------------------------------------------------------

  /**
   * Reads the room's archive since the last room archive id we stored (the last page on a first
   * visit) and handles each message like a live one, marked archived. Runs on the session queue,
   * so live messages of the room wait behind it and keep their order.
   */
  private async catchUpRoom(r: Room, p: MucPort, hist: RoomHistory): Promise<void> {
    const sync = hist.roomSync(r.room);
    if (!sync || !p.mamQuery) return;
    const current = () => this.roomMap.get(r.room) === r && this.port === p;
    const handle = async (msgs: ArchivedRoomMessage[]) => {
      for (const m of msgs) if (current()) await this.onMessage(m, true);
    };
    if (!sync.initialized) {
      const page = await p.mamQuery(r.room, { before: '', max: ROOM_FIRST_PAGE });
      await handle(page.messages);
      hist.setRoomSync(r.room, page.last);
    } else {
      let after = sync.lastArchiveId;
      for (;;) {
        const page = await p.mamQuery(r.room, { ...(after ? { after } : {}), max: ROOM_CATCH_UP_PAGE });
        await handle(page.messages);
        if (!current()) return;
        // A server that stops moving forward must not loop us.
        if (!page.last || page.last === after) break;
        after = page.last;
        hist.setRoomSync(r.room, after);
        if (page.complete || page.count === 0) break;
      }
    }
    if (current()) r.archiveSynced = true;
  }

  // ---- incoming -----------------------------------------------------------------------------

  private onPresence(p: MucPresence): void {
    const r = this.roomMap.get(p.room);
    if (!r) return;
    if (p.type === 'error') {
      // Join errors are answered through join(); this is a failed nick change or similar.
      if (r.joined) this.host.emit({ event: 'error', message: `${p.room}: ${p.error?.condition ?? 'error'}${p.error?.text ? ` (${p.error.text})` : ''}`, from: p.room, reason: p.error?.condition });
      return;
    }
    const jid = p.jid ? bare(p.jid) : undefined;
    const self = p.self || (p.nick === r.nick && jid === this.host.ownJid());
    if (p.type === 'unavailable') {
      const known = r.occupants.get(p.nick);
      r.occupants.delete(p.nick);
      if (p.codes.includes('303') && p.newNick) {
        if (self) r.nick = p.newNick;
        r.occupants.set(p.newNick, known ?? { ...(jid ? { jid } : {}) });
        this.host.emit({ event: 'occupant', room: r.room, nick: p.nick, change: 'nick', new_nick: p.newNick, ...(jid ? { jid } : {}) });
        return;
      }
      if (self) {
        r.joined = false;
        r.occupants.clear();
        const status = p.codes.includes('301') ? 'banned' : p.codes.includes('307') ? 'kicked' : p.codes.includes('321') || p.codes.includes('322') ? 'removed' : 'left';
        if (status !== 'left') {
          this.roomMap.delete(r.room);
          this.host.emit({ event: 'room', room: r.room, status, nick: p.nick, ...(p.reason ? { message: p.reason } : {}) });
        }
        return;
      }
      this.host.emit({ event: 'occupant', room: r.room, nick: p.nick, change: 'left', ...(jid ? { jid } : {}) });
      return;
    }
    const before = r.occupants.get(p.nick);
    const occ: Occupant = { ...(jid ? { jid } : {}), ...(p.affiliation ? { affiliation: p.affiliation } : {}), ...(p.role ? { role: p.role } : {}) };
    r.occupants.set(p.nick, occ);
    if (jid && p.occupantId) r.occupantIds.set(p.occupantId, jid);
    if (self && !r.joined) return; // our own join is reported by join()
    if (!before) {
      this.host.emit({ event: 'occupant', room: r.room, nick: p.nick, change: 'joined', ...occ });
    } else if (before.affiliation !== occ.affiliation || before.role !== occ.role) {
      this.host.emit({ event: 'occupant', room: r.room, nick: p.nick, change: 'changed', ...occ });
    }
  }

  private async onMessage(m: MucMessage | ArchivedRoomMessage, archived = false): Promise<void> {
    const r = this.roomMap.get(m.room);
    if (!r) return; // a room we left: late messages are dropped
    if (m.codes.includes('104') || m.codes.includes('172') || m.codes.includes('173') || m.codes.includes('174')) {
      await this.refreshFeatures(r).catch(() => undefined);
      this.checkOmemoStillAllowed(r);
    }
    if (m.subject !== undefined) {
      r.subject = m.subject;
      this.host.emit({ event: 'subject', room: r.room, subject: m.subject, ...(m.nick ? { nick: m.nick } : {}) });
      return;
    }
    if (!m.nick) {
      if (m.body) this.host.emit({ event: 'info', message: `${r.room}: ${m.body}` });
      return;
    }
    const own = this.host.ownJid();
    const realJid = archived ? this.archivedSender(r, m) : this.liveSender(r, m.nick);
    const hist = this.host.history?.();
    if (!hist) return this.showMessage(r, m, m.nick, realJid);
    const nick = m.nick;
    const archiveId = 'archiveId' in m ? m.archiveId : undefined;
    await hist.receiveRoom(
      {
        room: r.room,
        nick,
        ...(m.id ? { id: m.id } : {}),
        ...(m.originId ? { originId: m.originId } : {}),
        ...(m.stanzaId ? { stanzaId: m.stanzaId } : {}),
        ...(archiveId ? { archiveId } : {}),
        ...(m.stamp ? { stamp: m.stamp } : {}),
        own: own !== undefined && (realJid === own || (!archived && nick === r.nick)),
      },
      archived,
      (known) => this.showMessage(r, m, nick, realJid, known),
      (e) => this.host.emit(e),
    );
    if (!archived && m.stanzaId && r.archiveSynced) hist.setRoomSync(r.room, m.stanzaId);
  }

  /**
   * The real JID of a live message's sender: only what the room told us in presence. The message's
   * own muc#user <x> is written by the sender and proves nothing.
   */
  private liveSender(r: Room, nick: string): string | undefined {
    return r.occupants.get(nick)?.jid ?? (nick === r.nick ? this.host.ownJid() : undefined);
  }

  /**
   * The real JID of an archived message's sender (the nick may belong to someone else by now):
   * the room's occupant-id mapped through presence, else the room's own <x> — believed only in a
   * non-anonymous room, whose archive appends it after any <x> the sender wrote (a forged one
   * then conflicts with it and nothing is believed).
   */
  private archivedSender(r: Room, m: MucMessage): string | undefined {
    const byOccupantId = m.occupantId ? r.occupantIds.get(m.occupantId) : undefined;
    if (byOccupantId) return byOccupantId;
    if (m.realJidConflict || !m.realJid) return undefined;
    return r.features?.includes('muc_nonanonymous') ? m.realJid : undefined;
  }

  /** Decrypts (or takes the plain body of) a room message and emits it. */
  private async showMessage(r: Room, m: MucMessage, nick: string, realJid: string | undefined, known?: HistoryRow): Promise<void> {
    const own = this.host.ownJid();
    const keptId = [m.originId, m.id].find((i) => i !== undefined && r.sent.has(i));
    // Our own message's plaintext: kept in memory, or (after a restart) from local history.
    const ownText = keptId ? r.sent.get(keptId) : known?.direction === 'out' && known.body !== null ? known.body : undefined;
    const base = {
      event: 'message' as const,
      from: `${r.room}/${nick}`,
      to: own ?? '',
      groupchat: true as const,
      nick,
      ...(realJid ? { real_jid: realJid } : {}),
      ...(m.originId ?? m.id ? { id: (m.originId ?? m.id)! } : {}),
      stamp: m.stamp ?? new Date().toISOString(),
    };
    if (m.encrypted) {
      if ('error' in m.encrypted) {
        this.host.emit({ event: 'error', message: `unreadable OMEMO message from ${base.from}: ${m.encrypted.error}`, from: base.from, reason: 'bad-element' });
        return;
      }
      const mgr = this.host.manager();
      if (!mgr) return;
      const ownDevice = await mgr.ownDeviceId();
      if (realJid === own && m.encrypted.sid === ownDevice) {
        // Our own reflection: never encrypted for the sending device; show what we kept.
        if (ownText !== undefined) this.host.emit({ ...base, body: ownText, encryption: 'omemo', trust: 'verified', sender_device: ownDevice, own: true });
        return;
      }
      if (!realJid) {
        const why = m.realJidConflict
          ? 'the message claims a real JID the room did not confirm (a member may be posing as another)'
          : 'the room does not tell its real JID (OMEMO needs a non-anonymous room)';
        this.host.emit({ event: 'error', message: `cannot decrypt ${base.from}: ${why}`, from: base.from, reason: 'unknown-sender' });
        return;
      }
      let res;
      try {
        res = await mgr.decrypt(realJid, m.encrypted);
      } catch (e) {
        if (isOmemoError(e, 'duplicate')) return; // history replays after a rejoin
        if (isOmemoError(e, 'no-key-for-us')) {
          if (m.encrypted.payload === undefined) return;
          this.host.emit({ event: 'error', message: `message from ${base.from} (${realJid}, device ${m.encrypted.sid}) was not encrypted for this device: the sender does not know or trust it yet`, from: base.from, reason: 'no-key-for-us' });
          return;
        }
        const code = e instanceof OmemoError ? e.code : 'error';
        this.host.emit({ event: 'error', message: `could not decrypt message from ${base.from} (${realJid}, device ${m.encrypted.sid}): ${errText(e)}`, from: base.from, reason: code });
        return;
      }
      const x = this.host.xmpp();
      if (res.bundleChanged && x) await x.publishBundle(await mgr.ownBundle());
      if (res.sendEmptyReply && x) await this.host.sendKeyTransport(realJid).catch(() => undefined);
      if (res.plaintext === null) return;
      this.host.emit({ ...base, body: res.plaintext, encryption: 'omemo', sender_device: res.senderDevice, trust: res.trust, ...(realJid === own ? { own: true as const } : {}) });
      return;
    }
    if (m.body === undefined) return;
    const ownMsg = nick === r.nick && (keptId !== undefined || realJid === own);
    this.host.emit({ ...base, body: m.body, encryption: 'none', ...(ownMsg ? { own: true as const } : {}) });
  }
}

function describeFeature(f: string): string {
  return f === 'muc_nonanonymous' ? 'non-anonymous' : f === 'muc_membersonly' ? 'members-only' : f;
}

export type { Bookmark, MucPresence, MucMessage };
