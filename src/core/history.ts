// Local history for one account session: every shown message (incoming, sent, carbons, archive)
// is stored once; replays (archive, offline delivery) are recognised before they are decrypted.
// The session routes incoming messages through receive() and every event through decorate().
import type { XchatEvent } from './api.js';
import type { IncomingMessage } from './ports.js';
import type { RoomMessageIds } from './muc/ports.js';
export type { RoomMessageIds } from './muc/ports.js';
import type { HistoryRecord, HistoryRow, LoggingMode, SyncState } from '../store/history.js';
import type { SessionJournalEntry } from '../omemo/session-hold.js';
import { bareJid as bare, resourceOf } from '../lib/jid.js';

export type { LoggingMode } from '../store/history.js';

/** What the session needs from the history store (src/store/history.ts implements it). */
export interface HistoryPort {
  find(account: string, ids: { serverId?: string; from?: string; msgId?: string; body?: string }): HistoryRow | undefined;
  findRoom(account: string, room: string, ids: { serverId?: string; from?: string; msgIds?: string[]; own?: boolean }): HistoryRow | undefined;
  edit(account: string, peer: string, sender: string, msgId: string, change: { body: string } | { retract: true }): boolean;
  add(rec: HistoryRecord, mode?: LoggingMode): { added: boolean; row?: HistoryRow };
  recent(account: string, peer: string, n: number): HistoryRow[];
  /** recent() in pages, oldest first (optional: a port without it gets one page). */
  recentPages?(account: string, peer: string, n: number): Iterable<HistoryRow[]>;
  search(account: string, text: string, opts?: { peer?: string; limit?: number }): HistoryRow[];
  /** Messages next to a moment, oldest first (optional: without it there is no local paging). */
  around?(account: string, peer: string, at: { before: string } | { after: string }, n: number): HistoryRow[];
  oldestServerId(account: string, peer: string): string | undefined;
  getSyncState(account: string, archive?: string): SyncState;
  setSyncState(account: string, s: { lastArchiveId?: string }, archive?: string): void;
  getLogging(account: string): LoggingMode;
  setLogging(account: string, mode: LoggingMode): void;
  /** Archive catch-up: one transaction per page, committed with the page's OMEMO session journal. */
  beginPage(): void;
  commitPage(account: string, journal: SessionJournalEntry[], lastArchiveId: string | undefined): void;
  rollbackPage(): void;
  sessionJournal(account: string): SessionJournalEntry[];
  clearSessionJournal(account: string): void;
}

type MessageEvent = Extract<XchatEvent, { event: 'message' }>;

/** A stored row as the message event the front ends already display (marked archived). */
export function rowToEvent(r: HistoryRow): XchatEvent {
  const out = r.direction === 'out';
  const base = {
    event: 'message' as const,
    from: r.from,
    to: r.to,
    body: r.body ?? (r.retracted ? '[retracted]' : '[not logged]'),
    encryption: r.encryption,
    ...(r.senderDevice !== undefined ? { sender_device: r.senderDevice } : {}),
    ...(r.trust ? { trust: r.trust as MessageEvent['trust'] } : {}),
    ...(r.msgId ? { id: r.msgId } : {}),
    stamp: r.stamp,
    archived: true as const,
  };
  if (!r.groupchat) return { ...base, ...(out ? { carbon: 'sent' as const } : {}) };
  const nick = resourceOf(r.from);
  return {
    ...base,
    groupchat: true,
    ...(nick !== undefined ? { nick } : {}),
    ...(out ? { own: true as const } : {}),
  };
}

export class HistoryCore {
  /** The incoming message being handled: its ids go with the 'message' event it produces. */
  private ctx?: { m: IncomingMessage; archived: boolean };
  /** The room message being handled (receiveRoom). */
  private roomCtx?: { ids: RoomMessageIds; archived: boolean };
  /** Rows shown in this process: a replay of one of them is not shown again. */
  private readonly shown = new Set<number>();
  /** Per window: messages received during the current catch-up. */
  private counts?: Map<string, number>;
  /** The catch-up page open in the store, and the first store failure inside it. */
  private page?: { failed?: Error; counts?: Map<string, number> };

  constructor(
    private readonly store: HistoryPort | undefined,
    private readonly account: () => string | undefined,
    /** Our nick in a room (our sent room messages are stored as room/nick). */
    private readonly roomNick: (room: string) => string | undefined = () => undefined,
  ) {}

  get available(): boolean {
    return this.store !== undefined;
  }

  private requireStore(): { store: HistoryPort; account: string } {
    const account = this.account();
    if (!this.store) throw new Error('history is not available in this session');
    if (!account) throw new Error('no account: /connect JID first');
    return { store: this.store, account };
  }

  /**
   * True when `m` is already stored: by our server's stanza-id / archive id, else by the sender's
   * origin-id (never by the plain `id`: clients that number messages per session repeat it). Then
   * it is skipped quietly. Our own sent message replayed by the archive learns its archive id here.
   */
  seen(m: IncomingMessage): boolean {
    const account = this.account();
    if (!this.store || !account) return false;
    const store = this.store;
    const serverId = (m as { archiveId?: string }).archiveId ?? m.stanzaId;
    const row = this.stored(() => store.find(account, { serverId, from: m.from, msgId: m.extras?.originId, ...(m.encrypted ? {} : m.body !== undefined ? { body: m.body } : {}) }));
    if (!row) return false;
    if (serverId && !row.serverId) this.stored(() => store.add({ ...row, serverId }));
    return true;
  }

  /** A store call; a failure inside a catch-up page fails the whole page (commitPage). */
  private stored<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (this.page) this.page.failed ??= e instanceof Error ? e : new Error('a history store call failed', { cause: e });
      throw e;
    }
  }

  // ---- archive catch-up pages (session/catch-up.ts) ---------------------------------------------

  /** True while an archived message is being handled: its events belong to the open page. */
  get handlingArchived(): boolean {
    return this.ctx?.archived === true;
  }

  beginPage(): void {
    this.requireStore().store.beginPage();
    this.page = this.counts ? { counts: new Map(this.counts) } : {};
  }

  /** Commits the open page, or rolls it back and throws when one of its store writes failed. */
  commitPage(journal: SessionJournalEntry[], lastArchiveId: string | undefined): void {
    const page = this.page;
    this.page = undefined;
    const { store, account } = this.requireStore();
    if (page?.failed) {
      if (page.counts) this.counts = page.counts;
      store.rollbackPage();
      throw new Error(`local history could not store a message of an archive page (${page.failed.message}); the page is read again on the next connection`);
    }
    store.commitPage(account, journal, lastArchiveId);
  }

  /** Drops the open page: nothing of it is stored, nor counted for the away summary. */
  rollbackPage(): void {
    if (this.page?.counts) this.counts = this.page.counts;
    this.page = undefined;
    this.store?.rollbackPage();
  }

  sessionJournal(): SessionJournalEntry[] {
    const account = this.account();
    return this.store && account ? this.store.sessionJournal(account) : [];
  }

  clearSessionJournal(): void {
    const account = this.account();
    if (this.store && account) this.store.clearSessionJournal(account);
  }

  async receive(m: IncomingMessage, archived: boolean, handle: () => Promise<void>): Promise<void> {
    if (this.seen(m)) return;
    this.ctx = { m, archived };
    try {
      await handle();
    } finally {
      this.ctx = undefined;
    }
  }

  /**
   * A room message: stored once (room stanza-id / room archive id, or the sender's id). When it is
   * already stored, `handle(row)` still runs for the live reflection of our own message (the
   * confirmation the room got it; not stored again); any other replay (join history, room archive)
   * is shown from the store via `replay` once per process, never decrypted again.
   */
  async receiveRoom(ids: RoomMessageIds, archived: boolean, handle: (known?: HistoryRow) => Promise<void>, replay: (e: XchatEvent) => void): Promise<void> {
    const account = this.account();
    const row = this.store && account ? this.findRoomRow(this.store, account, ids) : undefined;
    if (row) {
      const serverId = ids.archiveId ?? ids.stanzaId;
      if (serverId && !row.serverId) this.store!.add({ ...row, serverId });
      const liveOwn = row.direction === 'out' && !archived && ids.stamp === undefined;
      if (!liveOwn) {
        if (!this.shown.has(row.seq)) {
          this.shown.add(row.seq);
          replay(rowToEvent(row));
        }
        return;
      }
    }
    this.roomCtx = { ids, archived };
    try {
      await handle(row);
    } finally {
      this.roomCtx = undefined;
    }
  }

  private findRoomRow(store: HistoryPort, account: string, ids: RoomMessageIds): HistoryRow | undefined {
    // origin-id only: a plain message id is repeated by clients that number per session.
    const msgIds = ids.originId !== undefined ? [ids.originId] : [];
    return store.findRoom(account, ids.room, { serverId: ids.archiveId ?? ids.stanzaId, from: `${ids.room}/${ids.nick}`, msgIds, own: ids.own });
  }

  /** Read/advance the room archive position (see muc.ts catch-up). */
  roomSync(room: string): SyncState | undefined {
    const account = this.account();
    return this.store && account ? this.store.getSyncState(account, room) : undefined;
  }

  setRoomSync(room: string, lastArchiveId: string | undefined): void {
    const account = this.account();
    if (this.store && account) this.store.setSyncState(account, lastArchiveId ? { lastArchiveId } : {}, room);
  }

  private decorateRoom(e: MessageEvent, account: string): XchatEvent {
    const { ids, archived } = this.roomCtx!;
    const out = e.own === true;
    if (this.store) {
      const serverId = ids.archiveId ?? ids.stanzaId;
      const msgId = ids.originId ?? ids.id;
      const r = this.store.add(
        {
          account,
          peer: ids.room,
          direction: out ? 'out' : 'in',
          from: e.from,
          to: e.to,
          body: e.body,
          encryption: e.encryption,
          stamp: e.stamp,
          groupchat: true,
          ...(msgId ? { msgId } : {}),
          ...(serverId ? { serverId } : {}),
          ...(e.sender_device !== undefined ? { senderDevice: e.sender_device } : {}),
          ...(e.trust ? { trust: e.trust } : {}),
        },
        this.store.getLogging(account),
      );
      if (r.row) this.shown.add(r.row.seq);
    }
    return archived ? { ...e, archived: true } : e;
  }

  /** Corrections and retractions change the stored message of their window. */
  private edit(e: Extract<XchatEvent, { event: 'correction' | 'retraction' }>, store: HistoryPort, account: string): void {
    const sender = bare(e.from);
    const out = e.carbon === 'sent' || sender === account;
    const peer = out ? bare(e.to) : sender;
    store.edit(account, peer, out ? account : sender, e.id, e.event === 'retraction' ? { retract: true } : { body: e.body });
  }

  /** Stores message/sent events; marks archive replays. Returns the event to emit. */
  decorate(e: XchatEvent): XchatEvent {
    const account = this.account();
    if (e.event === 'message' && e.groupchat && this.roomCtx && account && !(e as { archived?: boolean }).archived) {
      return this.decorateRoom(e, account);
    }
    if ((e.event === 'correction' || e.event === 'retraction') && this.store && account) {
      const store = this.store;
      this.stored(() => this.edit(e, store, account));
      return e;
    }
    if (e.event === 'message' && this.ctx && !(e as { archived?: boolean }).archived) {
      const { m, archived } = this.ctx;
      const out = e.carbon === 'sent' || (account !== undefined && bare(e.from) === account);
      const peer = out ? bare(e.to) : bare(e.from);
      const store = this.store;
      if (store && account) {
        this.stored(() => store.add(
          {
            account,
            peer,
            direction: out ? 'out' : 'in',
            from: e.from,
            to: e.to,
            body: e.body,
            encryption: e.encryption,
            stamp: e.stamp,
            ...(m.id ? { msgId: m.id } : {}),
            ...(((m as { archiveId?: string }).archiveId ?? m.stanzaId) ? { serverId: (m as { archiveId?: string }).archiveId ?? m.stanzaId } : {}),
            ...(e.sender_device !== undefined ? { senderDevice: e.sender_device } : {}),
            ...(e.trust ? { trust: e.trust } : {}),
            ...(e.carbon ? { carbon: e.carbon } : {}),
          },
          store.getLogging(account),
        ));
      }
      if (this.counts && !out) this.counts.set(peer, (this.counts.get(peer) ?? 0) + 1);
      return archived ? { ...e, archived: true } : e;
    }
    if (e.event === 'sent' && this.store && account) {
      // Our own plaintext: the archive's copy of an OMEMO message is not encrypted for this device.
      const room = e.groupchat ? bare(e.to) : undefined;
      const r = this.store.add(
        {
          account,
          peer: bare(e.to),
          direction: 'out',
          from: room ? `${room}/${this.roomNick(room) ?? account}` : account,
          to: e.to,
          body: e.body,
          encryption: e.encryption,
          stamp: new Date().toISOString(),
          msgId: e.id,
          ...(room ? { groupchat: true } : {}),
        },
        this.store.getLogging(account),
      );
      if (r.row) this.shown.add(r.row.seq);
    }
    return e;
  }

  startCounting(): void {
    this.counts = new Map();
  }

  /** Per window: how many messages arrived during the catch-up. */
  stopCounting(): Map<string, number> {
    const c = this.counts ?? new Map<string, number>();
    this.counts = undefined;
    return c;
  }

  // ---- commands ---------------------------------------------------------------------------

  recent(peer: string, n: number): XchatEvent[] {
    const { store, account } = this.requireStore();
    return store.recent(account, peer, n).map(rowToEvent);
  }

  /** recent() a page at a time, so a long history is never all in memory at once. */
  *recentPages(peer: string, n: number): Generator<XchatEvent[]> {
    const { store, account } = this.requireStore();
    if (!store.recentPages) {
      yield store.recent(account, peer, n).map(rowToEvent);
      return;
    }
    for (const rows of store.recentPages(account, peer, n)) yield rows.map(rowToEvent);
  }

  search(text: string, peer?: string): XchatEvent[] {
    const { store, account } = this.requireStore();
    return store.search(account, text, peer ? { peer } : {}).map(rowToEvent);
  }

  /** Stored messages of a window next to a moment (see HistoryPort.around), as archived messages. */
  around(peer: string, at: { before: string } | { after: string }, n: number): XchatEvent[] {
    const { store, account } = this.requireStore();
    return store.around ? store.around(account, peer, at, n).map(rowToEvent) : [];
  }

  logging(mode?: LoggingMode): LoggingMode {
    const { store, account } = this.requireStore();
    if (mode) store.setLogging(account, mode);
    return store.getLogging(account);
  }

  /** Stores an archived message read by paging back (plain ones; see mam.ts). */
  storeOlder(m: IncomingMessage & { archiveId: string }, e: XchatEvent): void {
    this.ctx = { m, archived: false };
    try {
      const { archived: _shown, ...plain } = e as MessageEvent & { archived?: boolean };
      this.decorate(plain);
    } finally {
      this.ctx = undefined;
    }
  }

  find(m: IncomingMessage & { archiveId: string }): HistoryRow | undefined {
    const account = this.account();
    if (!this.store || !account) return undefined;
    return this.store.find(account, { serverId: m.archiveId, from: m.from, msgId: m.id });
  }

  get port(): HistoryPort | undefined {
    return this.store;
  }
}
