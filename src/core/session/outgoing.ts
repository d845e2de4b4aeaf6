// Outgoing 1:1 messages in the chat's mode (an OMEMO chat never falls back to plaintext), and the
// actions built on them: corrections, retractions, chat states.
import { randomUUID } from 'node:crypto';
import type { ChatState, Encryption } from '../api.js';
import type { MessageExtras } from '../../xmpp/message-extras.js';
import { RETRACT_FALLBACK_BODY, type MessageExtrasCore } from '../message-extras.js';
import { bareJid } from '../../lib/jid.js';
import { errText, type SessionContext } from './context.js';
import type { OmemoIo } from './omemo-io.js';
import type { Chats } from './chats.js';
import type { MucCore } from '../muc/index.js';
import type { OutboxEntry, OutboxPort } from '../../store/outbox.js';

/** How long a message typed offline for a room waits for the rejoin before the user is told. */
const ROOM_REJOIN_WAIT_MS = 60_000;

export interface SendOptions {
  plain?: boolean;
  /** Encrypted whatever the chat's mode (a file link carries the file's key). */
  omemo?: boolean;
  extras?: MessageExtras;
  /** No 'sent' event (corrections and retractions report themselves). */
  quiet?: boolean;
  /** The message id (a message from the outbox keeps the id it was shown with). */
  id?: string;
}

export class Outgoing {
  constructor(
    private readonly ctx: SessionContext,
    private readonly io: OmemoIo,
    private readonly chats: Chats,
    private readonly extras: MessageExtrasCore,
    private readonly muc: MucCore,
  ) {}

  sendMessage(to: string, text: string, opts: { plain?: boolean } = {}): Promise<void> {
    const jid = bareJid(to);
    const account = this.ctx.account?.jid;
    const outbox = this.ctx.deps.outbox;
    if (this.muc.isRoom(jid)) {
      // Offline: kept like a 1:1 message, and sent once the room is joined again.
      if (!this.ctx.connected && account && outbox && !opts.plain) return this.ctx.track(this.queueForLater(outbox, account, jid, text));
      return this.ctx.track(this.ctx.queue.run(() => this.muc.send(jid, text, opts)));
    }
    // Offline with a known account: kept in the outbox and sent (encrypted then) once online.
    if (!this.ctx.connected && account && outbox && !opts.plain) return this.ctx.track(this.queueForLater(outbox, account, jid, text));
    return this.ctx.track(
      this.ctx.queue.run(async () => {
        try {
          await this.send(jid, text, opts);
        } catch (e) {
          // The connection went while this was on its way (or waiting in the queue): kept, not lost.
          if (this.ctx.connected || !account || !outbox || opts.plain) throw e;
          await this.queueForLater(outbox, account, jid, text);
        }
      }),
    );
  }

  /** Rooms are rejoined in the background: their messages wait for that, not the whole outbox. */
  private sendToRoomOnceJoined(outbox: OutboxPort, m: OutboxEntry): void {
    const still = `message to ${m.to} typed at ${m.queuedAt} is still waiting in the outbox`;
    void this.muc.whenJoined(m.to, ROOM_REJOIN_WAIT_MS).then((joined) => {
      if (!joined) return this.ctx.error(`${still}: not back in the room yet (it goes out with the next connection)`, m.to);
      this.ctx.background(still, async () => {
        if (!outbox.list(m.account).some((e) => e.id === m.id)) return; // sent meanwhile
        await this.muc.send(m.to, m.body, { id: m.id });
        await outbox.remove(m.id);
      }, m.to);
    });
  }

  private async queueForLater(outbox: OutboxPort, account: string, to: string, body: string): Promise<void> {
    const entry = { id: randomUUID(), account, to, body, queuedAt: new Date().toISOString() };
    await outbox.add(entry);
    this.ctx.emit({ event: 'pending', to, id: entry.id, body, queued_at: entry.queuedAt });
  }

  /**
   * Once online: the outbox goes out in the order typed, each message in its chat's mode (an OMEMO
   * chat never falls back to plaintext) and with the id it was shown with. One that cannot go out
   * stays, and the user is told why; a lost connection stops the round.
   */
  async flushOutbox(): Promise<void> {
    const outbox = this.ctx.deps.outbox;
    const account = this.ctx.account?.jid;
    if (!outbox || !account) return;
    for (const m of outbox.list(account)) {
      if (!this.ctx.connected) return;
      if (this.muc.isRoom(m.to)) {
        this.sendToRoomOnceJoined(outbox, m);
        continue;
      }
      try {
        await this.send(m.to, m.body, { id: m.id });
      } catch (e) {
        this.ctx.error(`message to ${m.to} typed at ${m.queuedAt} is still waiting in the outbox: ${errText(e)}`, m.to);
        continue;
      }
      await outbox.remove(m.id);
    }
  }

  /** Runs on the session queue. */
  async send(jid: string, text: string, opts: SendOptions): Promise<{ id: string; encryption: Encryption }> {
    const x = this.ctx.online().xmpp;
    const id = opts.id ?? randomUUID();
    const extras = { ...this.extras.outgoing(jid, id), ...opts.extras };
    const mode = opts.plain ? 'none' : opts.omemo ? 'omemo' : await this.chats.encryptionOf(jid);
    if (mode === 'none') {
      await x.sendPlain(jid, text, id, extras);
      this.extras.afterSend(jid, id, extras);
      if (!opts.quiet) this.ctx.emit({ event: 'sent', to: jid, id, body: text, encryption: 'none' });
      return { id, encryption: 'none' };
    }
    this.chats.set(jid, 'omemo');
    const element = await this.io.encryptOrRefuse({ chat: jid, readers: [jid], text });
    await x.sendEncrypted(jid, element, id, { extras });
    this.extras.afterSend(jid, id, extras);
    if (!opts.quiet) this.ctx.emit({ event: 'sent', to: jid, id, body: text, encryption: 'omemo', devices: element.keys.length });
    return { id, encryption: 'omemo' };
  }

  typing(jid: string, state: ChatState): void {
    const chat = bareJid(jid);
    // A chat state is a 1:1 message: sent to a room's JID it only bounces (service-unavailable).
    if (!this.ctx.connected || this.muc.isRoom(chat)) return;
    this.ctx
      .track(
        this.ctx.queue.run(async () => {
          const s = this.extras.stateToSend(chat, state);
          const link = this.ctx.onlineOrUndefined();
          if (s && link) await link.xmpp.sendSignal(chat, { chatState: s });
        }),
      )
      .catch((e) => this.ctx.error(`could not send chat state to ${chat}: ${errText(e)}`, chat));
  }

  correctLast(text: string, jid?: string): Promise<void> {
    const chat = this.ctx.chatFor(jid, '/correct');
    // Inside the queue: "last message" must include sends queued before this line.
    return this.ctx.track(
      this.ctx.queue.run(async () => {
        const orig = this.extras.lastSent(chat);
        if (!orig) throw new Error(`no message of yours to correct in the chat with ${chat}`);
        const r = await this.send(chat, text, { extras: { replaceId: orig }, quiet: true });
        this.ctx.emit({ event: 'correction', from: this.ctx.account?.jid ?? '', to: chat, id: orig, new_id: r.id, body: text, encryption: r.encryption, stamp: new Date().toISOString() });
      }),
    );
  }

  retractLast(jid?: string): Promise<void> {
    const chat = this.ctx.chatFor(jid, '/retract');
    return this.ctx.track(
      this.ctx.queue.run(async () => {
        const orig = this.extras.lastSent(chat);
        if (!orig) throw new Error(`no message of yours to retract in the chat with ${chat}`);
        await this.send(chat, RETRACT_FALLBACK_BODY, { extras: { retractId: orig, receiptRequest: false }, quiet: true });
        this.ctx.emit({ event: 'retraction', from: this.ctx.account?.jid ?? '', to: chat, id: orig });
      }),
    );
  }
}
