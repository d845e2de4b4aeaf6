// Room messages, both ways, on the one OMEMO path (session/omemo-io.ts): incoming ones stored once
// and shown with the sender's real JID as the room established it, outgoing ones in the room's mode.
import { randomUUID } from 'node:crypto';
import type { XchatEvent } from '../api.js';
import type { HistoryRow } from '../../store/history.js';
import type { ArchivedRoomMessage } from '../../xmpp/mam.js';
import { roomConfigChanged } from '../../xmpp/muc-status.js';
import { bareJid } from '../../lib/jid.js';
import type { SessionContext } from '../session/context.js';
import type { OmemoIo } from '../session/omemo-io.js';
import type { MucMessage, MucPort, RoomHistory } from './ports.js';
import { describeMissing, keepSent, missingOmemoFeatures, type Room, type RoomRegistry } from './rooms.js';
import { archivedSender, liveSender } from './occupants.js';

type MessageEvent = Extract<XchatEvent, { event: 'message' }>;

export class RoomMessages {
  constructor(
    private readonly ctx: SessionContext,
    private readonly io: OmemoIo,
    private readonly rooms: RoomRegistry,
    private readonly history: () => RoomHistory | undefined,
    private readonly refreshFeatures: (r: Room) => Promise<void>,
  ) {}

  /** A live or archived room message (runs on the session queue). */
  async receive(m: MucMessage | ArchivedRoomMessage, archived = false): Promise<void> {
    const r = this.rooms.get(m.room);
    if (!r) return; // a room we left: late messages are dropped
    if (roomConfigChanged(m.codes)) await this.refreshFeatures(r);
    if (m.subject !== undefined) {
      r.subject = m.subject;
      this.ctx.emit({ event: 'subject', room: r.room, subject: m.subject, ...(m.nick ? { nick: m.nick } : {}) });
      return;
    }
    const nick = m.nick;
    if (!nick) {
      if (m.body) this.ctx.info(`${r.room}: ${m.body}`);
      return;
    }
    const own = this.ctx.account?.jid;
    const realJid = archived ? archivedSender(r, m) : liveSender(r, nick, own);
    const hist = this.history();
    if (!hist) return this.show(r, m, nick, realJid);
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
      (known) => this.show(r, m, nick, realJid, known),
      (e) => this.ctx.emit(e),
    );
    if (!archived && m.stanzaId && r.archiveSynced) hist.setRoomSync(r.room, m.stanzaId);
  }

  /** Decrypts (or takes the plain body of) a room message and emits it. */
  private async show(r: Room, m: MucMessage, nick: string, realJid: string | undefined, known?: HistoryRow): Promise<void> {
    const own = this.ctx.account?.jid;
    const keptId = [m.originId, m.id].find((i) => i !== undefined && r.sent.has(i));
    // Our own message's plaintext: kept in memory, or (after a restart) from local history.
    const ownText = keptId ? r.sent.get(keptId) : known?.direction === 'out' && known.body !== null ? known.body : undefined;
    const id = m.originId ?? m.id;
    const base = {
      event: 'message' as const,
      from: `${r.room}/${nick}`,
      to: own ?? '',
      groupchat: true as const,
      nick,
      ...(realJid ? { real_jid: realJid } : {}),
      ...(id ? { id } : {}),
      stamp: m.stamp ?? new Date().toISOString(),
    };
    if (m.encrypted) return this.showEncrypted(m.encrypted, base, { realJid, conflict: m.realJidConflict === true, ownText });
    if (m.body === undefined) return;
    const ownMsg = nick === r.nick && (keptId !== undefined || realJid === own);
    this.ctx.emit({ ...base, body: m.body, encryption: 'none', ...(ownMsg ? { own: true as const } : {}) });
  }

  private async showEncrypted(
    el: NonNullable<MucMessage['encrypted']>,
    base: Omit<MessageEvent, 'body' | 'encryption'>,
    sender: { realJid: string | undefined; conflict: boolean; ownText: string | undefined },
  ): Promise<void> {
    const { realJid, ownText } = sender;
    if ('error' in el) {
      this.ctx.error(`unreadable OMEMO message from ${base.from}: ${el.error}`, base.from, 'bad-element');
      return;
    }
    const account = this.ctx.account;
    if (!account) return;
    const ownDevice = await account.omemo.ownDeviceId();
    if (realJid === account.jid && el.sid === ownDevice) {
      // Our own reflection: never encrypted for the sending device; show what we kept.
      if (ownText !== undefined) this.ctx.emit({ ...base, body: ownText, encryption: 'omemo', trust: 'verified', sender_device: ownDevice, own: true });
      return;
    }
    if (!realJid) {
      const why = sender.conflict
        ? 'the message claims a real JID the room did not confirm (a member may be posing as another)'
        : 'the room does not tell its real JID (OMEMO needs a non-anonymous room)';
      this.ctx.error(`cannot decrypt ${base.from}: ${why}`, base.from, 'unknown-sender');
      return;
    }
    const res = await this.io.decryptOrReport({ from: base.from, sender: realJid, el });
    if (!res || res.plaintext === null) return;
    this.ctx.emit({ ...base, body: res.plaintext, encryption: 'omemo', sender_device: res.senderDevice, trust: res.trust, ...(realJid === account.jid ? { own: true as const } : {}) });
  }

  /** Sends a line to a room in its mode (runs on the session queue). */
  async send(room: string, text: string, port: MucPort, opts: { plain?: boolean; id?: string } = {}): Promise<void> {
    const r = this.rooms.of(room, 'send');
    if (!r.joined) throw new Error(`not in ${r.room} right now (rejoining after a reconnect?): message not sent`);
    const id = opts.id ?? randomUUID();
    if (opts.plain || r.encryption === 'none') {
      keepSent(r, id, text);
      await port.send(r.room, { id, body: text });
      this.ctx.emit({ event: 'sent', to: r.room, id, body: text, encryption: 'none', groupchat: true });
      return;
    }
    // Features may have changed since /omemo start (a status 104 refreshes them).
    const missing = missingOmemoFeatures(r);
    if (missing.length) {
      throw new Error(`message to ${r.room} NOT sent: the room is no longer ${describeMissing(missing)}, OMEMO is not possible (/omemo end to send plaintext)`);
    }
    const element = await this.io.encryptOrRefuse({ chat: r.room, readers: await this.members(r, port), text, room: true });
    keepSent(r, id, text);
    await port.send(r.room, { id, encrypted: element });
    this.ctx.emit({ event: 'sent', to: r.room, id, body: text, encryption: 'omemo', devices: element.keys.length, groupchat: true });
  }

  /** Bare JIDs of everyone who must be able to read: member/admin/owner lists and occupants. */
  private async members(r: Room, port: MucPort): Promise<string[]> {
    const own = this.ctx.online().jid;
    const out = new Set<string>();
    for (const aff of ['owner', 'admin', 'member'] as const) {
      try {
        for (const i of await port.affiliations(r.room, aff)) out.add(bareJid(i.jid));
      } catch (e) {
        throw new Error(`cannot read the ${aff} list of ${r.room} (${e instanceof Error ? e.message : String(e)}): without it OMEMO cannot know who may read`);
      }
    }
    for (const o of r.occupants.values()) if (o.jid) out.add(o.jid);
    out.delete(own);
    return [...out].sort();
  }
}
