// Receipts, chat states, corrections and retractions for 1:1 chats: which ids belong to whom (so
// a correction or retraction can only touch the sender's own message), which receipts to answer,
// which chat state was last sent. The account session calls these hooks; stanzas are src/xmpp's.
import type { ChatState, ErrorReason, XchatEvent } from './api.js';
import type { IncomingMessage, XmppPort } from './ports.js';
import { RETRACT_FALLBACK_BODY, type MessageExtras } from '../xmpp/message-extras.js';
import { bareJid as bare } from '../lib/jid.js';

export { RETRACT_FALLBACK_BODY };

/** How many messages per chat we remember for corrections/retractions/receipts. */
const KEEP_PER_CHAT = 500;

interface Known {
  /** Bare JID of the author. */
  sender: string;
  /** The id the UI knows the message by (the id of its 'message' or 'sent' event). */
  id: string;
}

export interface ExtrasHost {
  emit(e: XchatEvent): void;
  error(message: string, from?: string, reason?: ErrorReason): void;
  ownJid(): string | undefined;
  /** The connection, when online. */
  xmpp(): XmppPort | undefined;
}

export type MessageEvent = Extract<XchatEvent, { event: 'message' }>;

function isArchived(m: IncomingMessage): boolean {
  return 'archiveId' in m; // ArchivedMessage (mam.ts)
}

export class MessageExtrasCore {
  private statesOn = true;
  /** chat (bare JID) → message id or origin-id → author; insertion-ordered, trimmed. */
  private readonly known = new Map<string, Map<string, Known>>();
  /** chat → ids of our own messages, oldest first (for /correct and /retract). */
  private readonly ownSent = new Map<string, string[]>();
  private readonly lastState = new Map<string, ChatState>();

  constructor(private readonly host: ExtrasHost) {}

  chatStates(on?: boolean): boolean {
    if (on !== undefined) {
      this.statesOn = on;
      if (!on) this.lastState.clear();
    }
    return this.statesOn;
  }

  /** The chat state to send, or undefined when off or unchanged since the last one. */
  stateToSend(chat: string, state: ChatState): ChatState | undefined {
    if (!this.statesOn || this.lastState.get(chat) === state) return undefined;
    this.lastState.set(chat, state);
    return state;
  }

  /** Extras every outgoing chat message carries: receipt request, origin-id, <active/>. */
  outgoing(chat: string, id: string): MessageExtras {
    const e: MessageExtras = { originId: id, receiptRequest: true };
    if (this.statesOn) {
      e.chatState = 'active';
      this.lastState.set(chat, 'active');
    }
    return e;
  }

  private remember(chat: string, ids: (string | undefined)[], k: Known): void {
    let m = this.known.get(chat);
    if (!m) this.known.set(chat, (m = new Map<string, Known>()));
    for (const id of ids) if (id) m.set(id, k);
    while (m.size > KEEP_PER_CHAT * 2) m.delete(m.keys().next().value!);
  }

  /** After one of our messages went out (plain, correction or retraction). */
  afterSend(chat: string, id: string, extras: MessageExtras): void {
    const own = this.host.ownJid() ?? '';
    const list = this.ownSent.get(chat) ?? [];
    if (extras.retractId) {
      const orig = this.known.get(chat)?.get(extras.retractId)?.id ?? extras.retractId;
      this.ownSent.set(chat, list.filter((i) => i !== orig));
      return;
    }
    if (extras.replaceId) {
      // The correction's own id is an alias of the original: later references may use either.
      const orig = this.known.get(chat)?.get(extras.replaceId) ?? { sender: own, id: extras.replaceId };
      this.remember(chat, [id], orig);
      return;
    }
    this.remember(chat, [id, extras.originId], { sender: own, id });
    list.push(id);
    if (list.length > KEEP_PER_CHAT) list.shift();
    this.ownSent.set(chat, list);
  }

  /** The id of our last (not retracted) message in the chat. */
  lastSent(chat: string): string | undefined {
    return this.ownSent.get(chat)?.at(-1);
  }

  /**
   * Receipts and chat states, for every incoming message before anything else: they mean
   * something even on stanzas without a body.
   */
  signals(m: IncomingMessage): void {
    const ex = m.extras;
    if (!ex || m.type === 'groupchat' || m.type === 'error') return;
    const sender = bare(m.from);
    const own = this.host.ownJid();
    if (m.carbon === 'sent' || sender === own) return; // our own devices' typing and receipts
    // A chat state read back from the archive is long stale.
    if (ex.chatState && !isArchived(m)) this.host.emit({ event: 'chatstate', from: m.from, state: ex.chatState });
    if (ex.receivedId) {
      // Only a receipt from the contact we sent that message to counts.
      const k = this.known.get(sender)?.get(ex.receivedId);
      if (k && k.sender === own) this.host.emit({ event: 'receipt', id: k.id, from: m.from });
    }
  }

  /**
   * Shows a decrypted or plain message (ev), or applies it as a correction or retraction. ev is
   * undefined for a stanza without a body (a bare retraction). Answers receipt requests for what
   * was shown.
   */
  async display(m: IncomingMessage, ev: MessageEvent | undefined): Promise<void> {
    const ex = m.extras ?? {};
    if (m.type === 'groupchat') {
      if (ev) this.host.emit(ev);
      return;
    }
    const own = this.host.ownJid();
    const sender = bare(m.from);
    const chat = m.carbon === 'sent' ? bare(m.to) : sender;
    const original = (id: string) => this.known.get(chat)?.get(id);

    if (ex.retractId) {
      const k = original(ex.retractId);
      if (!k) {
        this.host.emit({ event: 'info', message: `${m.from} retracted a message that is not shown here (${ex.retractId})` });
      } else if (k.sender !== sender) {
        this.host.error(`ignored a retraction from ${m.from}: message ${ex.retractId} is not theirs`, m.from, 'spoofed-retraction');
      } else {
        this.host.emit({ event: 'retraction', from: m.from, to: m.to, id: k.id, ...(m.carbon ? { carbon: m.carbon } : {}) });
        if (k.sender === own) this.ownSent.set(chat, (this.ownSent.get(chat) ?? []).filter((i) => i !== k.id));
      }
      return; // the body of a retraction is only a fallback
    }
    if (!ev) return;

    if (ex.replaceId) {
      const k = original(ex.replaceId);
      if (k && k.sender !== sender) {
        this.host.error(
          `ignored a correction from ${m.from}: message ${ex.replaceId} is not theirs (text: ${JSON.stringify(ev.body)})`,
          m.from,
          'spoofed-correction',
        );
        return;
      }
      if (k) {
        this.remember(chat, [m.id, ex.originId], k);
        this.host.emit({
          event: 'correction',
          from: m.from,
          to: m.to,
          id: k.id,
          ...(m.id ? { new_id: m.id } : {}),
          body: ev.body,
          encryption: ev.encryption,
          stamp: ev.stamp,
          ...(m.carbon ? { carbon: m.carbon } : {}),
        });
        await this.ack(m, sender);
        return;
      }
      // A correction of a message we never saw: show it as a message so nothing is lost.
    }

    const id = m.id ?? ex.originId;
    if (id) this.remember(chat, [m.id, ex.originId], { sender, id });
    if (m.carbon === 'sent' && id) {
      const list = this.ownSent.get(chat) ?? [];
      list.push(id);
      this.ownSent.set(chat, list.slice(-KEEP_PER_CHAT));
    }
    this.host.emit(ev);
    await this.ack(m, sender);
  }

  /** XEP-0184: answer a request on a message the user was shown (not carbons, not our own). */
  private async ack(m: IncomingMessage, sender: string): Promise<void> {
    // Archive catch-up: the live delivery (to some device of ours) was the moment to answer.
    if (!m.extras?.receiptRequest || !m.id || m.carbon || isArchived(m) || sender === this.host.ownJid()) return;
    const x = this.host.xmpp();
    if (!x) return;
    try {
      await x.sendSignal(m.from, { receivedId: m.id });
    } catch (e) {
      this.host.error(`could not send a delivery receipt to ${m.from}: ${e instanceof Error ? e.message : String(e)}`, m.from);
    }
  }
}
