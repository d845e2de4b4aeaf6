// Incoming 1:1 messages (live, carbons, archive): plain or OMEMO, with receipts, chat states,
// corrections and retractions handed to message-extras.
import type { IncomingMessage } from '../ports.js';
import type { EncryptedElement } from '../../omemo/manager.js';
import type { MessageExtrasCore } from '../message-extras.js';
import { bareJid } from '../../lib/jid.js';
import type { SessionContext } from './context.js';
import type { OmemoIo } from './omemo-io.js';
import type { Chats } from './chats.js';

export class Incoming {
  /** Set while the archive is read: the OMEMO manager defers prekey and session work to the end. */
  catchingUp = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly io: OmemoIo,
    private readonly chats: Chats,
    private readonly extras: MessageExtrasCore,
  ) {}

  async onMessage(m: IncomingMessage): Promise<void> {
    const stamp = m.stamp ?? new Date().toISOString();
    this.extras.signals(m);
    if (m.encrypted) {
      if ('error' in m.encrypted) {
        this.ctx.error(`unreadable OMEMO message from ${m.from}: ${m.encrypted.error}`, m.from, 'bad-element');
        return;
      }
      await this.onEncrypted(m, m.encrypted, stamp);
      return;
    }
    if (m.body === undefined) {
      await this.extras.display(m, undefined); // e.g. a retraction without fallback body
      return;
    }
    if (m.type === 'error') {
      this.ctx.error(`error from ${m.from}: ${m.body}`, m.from);
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
  }

  private async onEncrypted(m: IncomingMessage, el: EncryptedElement, stamp: string): Promise<void> {
    const account = this.ctx.account;
    if (!account) return;
    const sender = bareJid(m.from);
    const peer = m.carbon === 'sent' ? bareJid(m.to) : sender;
    // Our own reflected message (same device) carries no key for us by design.
    if (sender === account.jid && el.sid === (await account.omemo.ownDeviceId())) return;
    const res = await this.io.decryptOrReport({ from: m.from, sender, el, catchUp: this.catchingUp });
    if (!res) return;
    this.chats.sawEncrypted(peer);
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
}
