// PageUp at the top of a window: older messages from local history first (they are stored, so
// this works offline too), and only when none is left, older pages of the server archive, which
// then add only what local history does not have. Each page says where it came from and whether
// the start of the conversation has been reached, so the window can tell the truth at the top.
import type { OlderPage, XchatEvent } from '../api.js';
import type { ArchivedMessage, XmppPort } from '../ports.js';
import type { HistoryCore } from '../history.js';
import type { SessionContext } from './context.js';
import { bareJid } from '../../lib/jid.js';
import { OLDER_PAGE } from './archive.js';

/** Stored messages per PageUp: about two screens. */
export const LOCAL_PAGE = 40;
/** Archive pages read at most per PageUp while they hold nothing new to show. */
const ARCHIVE_PAGES = 5;

export class OlderPages {
  /** Per window: the archive id where the next archive page ends. */
  private readonly archiveCursor = new Map<string, string>();
  /** Per window: the time of the oldest stored message paged out so far (pages always move on). */
  private readonly localCursor = new Map<string, string>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly hist: HistoryCore,
    private readonly isRoom: (jid: string) => boolean,
  ) {}

  /** Runs on the session queue. `before`: the oldest message the window shows (ISO time). */
  async page(chat: string, before?: string): Promise<OlderPage> {
    // Without `before` the window shows no message: paging starts again from the newest.
    const cursor = before === undefined ? undefined : this.localCursor.get(chat);
    const from = cursor !== undefined && before !== undefined && cursor < before ? cursor : before;
    const local = this.hist.available ? (from ? this.hist.around(chat, { before: from }, LOCAL_PAGE) : this.hist.recent(chat, LOCAL_PAGE)) : [];
    const oldest = local[0];
    if (oldest?.event === 'message') this.localCursor.set(chat, new Date(oldest.stamp).toISOString());
    for (const e of local) this.ctx.emit(e);
    if (local.length > 0) return { shown: local.length, from: 'local', atStart: false };
    if (this.isRoom(chat)) {
      // A room's archive is read from where we left off when we join; older pages are not asked for.
      return { shown: 0, from: 'local', atStart: true, archiveSkipped: 'older room messages are only what was stored while you were in the room' };
    }
    const link = this.ctx.onlineOrUndefined();
    if (!link) return { shown: 0, from: 'local', atStart: false, archiveSkipped: 'offline: the server archive is asked once you are online' };
    if (!link.xmpp.mamQuery) return { shown: 0, from: 'local', atStart: true, archiveSkipped: 'your server keeps no message archive' };
    return this.archive(link.xmpp, link.jid, chat);
  }

  /**
   * Older archive pages until one holds something local history does not (local history is
   * exhausted by now, so what it has is shown already) or the archive ends.
   */
  private async archive(xmpp: XmppPort, account: string, chat: string): Promise<OlderPage> {
    let shown = 0;
    let unreadable = 0;
    for (let i = 0; i < ARCHIVE_PAGES; i++) {
      const before = this.archiveCursor.get(chat) ?? this.hist.port?.oldestServerId(account, chat) ?? '';
      const page = await xmpp.mamQuery!({ with: chat, before, max: OLDER_PAGE });
      if (page.first) this.archiveCursor.set(chat, page.first);
      for (const m of page.messages) {
        const e = this.shownFromArchive(m, account);
        if (e === 'unreadable') unreadable++;
        else if (e) {
          this.ctx.emit(e);
          shown++;
        }
      }
      const atStart = page.complete || page.count === 0;
      if (shown > 0 || unreadable > 0 || atStart) return { shown, from: 'archive', atStart, ...(unreadable ? { unreadable } : {}) };
    }
    return { shown, from: 'archive', atStart: false };
  }

  /**
   * What an archived message adds: nothing when local history has it or it carries no text (an
   * OMEMO key transport); 'unreadable' for an encrypted one not stored (its keys are gone: the
   * ratchet moved on, and an old PreKey message must never replace a live session).
   */
  private shownFromArchive(m: ArchivedMessage, account: string): XchatEvent | 'unreadable' | undefined {
    if (this.hist.find(m)) return undefined;
    if (m.type === 'error') return undefined;
    if (m.encrypted) return 'error' in m.encrypted || m.encrypted.payload !== undefined ? 'unreadable' : undefined;
    if (m.body === undefined) return undefined;
    const e: XchatEvent = {
      event: 'message',
      from: m.from,
      to: m.to,
      body: m.body,
      encryption: 'none',
      ...(m.id ? { id: m.id } : {}),
      stamp: m.stamp ?? new Date().toISOString(),
      ...(bareJid(m.from) === account ? { carbon: 'sent' as const } : {}),
      archived: true,
    };
    this.hist.storeOlder(m, e);
    return e;
  }
}
