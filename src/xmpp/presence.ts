// Presence: initial presence with caps, status, subscription requests (never auto-accepted).
import { xml, type Element } from '@xmpp/client';
import type { Show } from './types.js';
export type { PresenceUpdate, Show, SubscriptionUpdate } from './types.js';
import { bareJid as bareOf } from '../lib/jid.js';
import type { XmppStream } from './stream.js';
import type { Disco } from './disco.js';
import { NS_NICK } from './ns.js';


export class Presence {
  private show?: Show;
  private status?: string;

  constructor(
    private readonly session: XmppStream,
    private readonly disco: Disco,
  ) {}

  private build(): Element {
    const p = xml('presence', {});
    if (this.show) p.append(xml('show', {}, this.show));
    if (this.status) p.append(xml('status', {}, this.status));
    // Caps let the server learn our +notify features (PEP device list notifications).
    p.append(this.disco.capsElement());
    return p;
  }

  async sendInitial(): Promise<void> {
    await this.session.send(this.build());
  }

  async setStatus(show?: Show, status?: string): Promise<void> {
    this.show = show;
    this.status = status;
    await this.session.send(this.build());
  }

  /** Ask to see `jid`'s presence. */
  async subscribe(jid: string): Promise<void> {
    await this.session.send(xml('presence', { to: bareOf(jid), type: 'subscribe' }));
  }

  /** Approve `jid`'s request to see our presence. */
  async allow(jid: string): Promise<void> {
    await this.session.send(xml('presence', { to: bareOf(jid), type: 'subscribed' }));
  }

  /** Deny (or revoke) `jid`'s subscription to our presence. */
  async deny(jid: string): Promise<void> {
    await this.session.send(xml('presence', { to: bareOf(jid), type: 'unsubscribed' }));
  }

  async unsubscribe(jid: string): Promise<void> {
    await this.session.send(xml('presence', { to: bareOf(jid), type: 'unsubscribe' }));
  }

  handle(el: Element): void {
    const from = el.attrs.from;
    if (!from) return;
    const type = el.attrs.type;
    switch (type) {
      case 'subscribe': {
        const nick = el.getChildText('nick', NS_NICK) ?? undefined;
        this.session.emit('subscription-request', { from: bareOf(from), ...(nick ? { nick } : {}) });
        return;
      }
      case 'subscribed':
      case 'unsubscribed':
      case 'unsubscribe':
        this.session.emit('subscription', { from: bareOf(from), type });
        return;
      case 'error': {
        const cond = el.getChild('error')?.getChildElements()[0]?.name ?? 'undefined-condition';
        this.session.emitError(`presence error from ${from}: ${cond}`, { from, condition: cond });
        return;
      }
      case undefined:
      case 'unavailable': {
        const show = el.getChildText('show') ?? undefined;
        const status = el.getChildText('status') ?? undefined;
        this.session.emit('presence', {
          from,
          type: type === 'unavailable' ? 'unavailable' : 'available',
          ...(show ? { show } : {}),
          ...(status ? { status } : {}),
        });
        return;
      }
      default:
        return; // probe etc.: the server handles these
    }
  }
}
