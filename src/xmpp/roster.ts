// Roster (RFC 6121): fetch on connect, pushes only from our own account, add/remove.
import { xml, type Element } from '@xmpp/client';
import type { RosterItem, Subscription } from './types.js';
export type { RosterItem, Subscription } from './types.js';
import { bareJid as bareOf } from '../lib/jid.js';
import type { XmppStream } from './stream.js';
import { NS_ROSTER, NS_STANZAS } from './ns.js';



export function parseRosterItem(item: Element): RosterItem | { jid: string; removed: true } | undefined {
  const jid = item.attrs.jid;
  if (!jid) return undefined;
  const bare = bareOf(jid);
  const sub = item.attrs.subscription ?? 'none';
  if (sub === 'remove') return { jid: bare, removed: true };
  const subscription: Subscription = sub === 'to' || sub === 'from' || sub === 'both' ? sub : 'none';
  return {
    jid: bare,
    ...(item.attrs.name ? { name: item.attrs.name } : {}),
    subscription,
    ...(item.attrs.ask === 'subscribe' ? { ask: 'subscribe' as const } : {}),
    groups: item.getChildren('group').map((g) => g.text()),
  };
}

export class Roster {
  private readonly items = new Map<string, RosterItem>();

  constructor(private readonly session: XmppStream) {
    session.handleIqSet(NS_ROSTER, 'query', ({ stanza, element }) => this.onPush(stanza, element));
  }

  list(): RosterItem[] {
    return [...this.items.values()];
  }

  get(jid: string): RosterItem | undefined {
    return this.items.get(bareOf(jid));
  }

  async fetch(): Promise<RosterItem[]> {
    const res = await this.session.iq('get', xml('query', { xmlns: NS_ROSTER }));
    this.items.clear();
    for (const it of res.getChild('query', NS_ROSTER)?.getChildren('item') ?? []) {
      const r = parseRosterItem(it);
      if (r && !('removed' in r)) this.items.set(r.jid, r);
    }
    this.session.emit('roster', this.list());
    return this.list();
  }

  private onPush(stanza: Element, query: Element): Element | true {
    const from = stanza.attrs.from;
    // RFC 6121 §2.1.6: a push from anyone but our own account is ignored (CVE-2019-16236 class).
    if (from && bareOf(from) !== this.session.bareJid) {
      this.session.emitError(`ignored a roster push from ${from}: only our own account may change the roster`, {
        from,
        condition: 'forged-roster-push',
      });
      return xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: NS_STANZAS }));
    }
    for (const it of query.getChildren('item')) {
      const r = parseRosterItem(it);
      if (!r) continue;
      if ('removed' in r) this.items.delete(r.jid);
      else this.items.set(r.jid, r);
    }
    this.session.emit('roster', this.list());
    return true;
  }

  async add(jid: string, name?: string, groups: string[] = []): Promise<void> {
    const item = xml('item', name ? { jid: bareOf(jid), name } : { jid: bareOf(jid) }, ...groups.map((g) => xml('group', {}, g)));
    await this.session.iq('set', xml('query', { xmlns: NS_ROSTER }, item));
  }

  async remove(jid: string): Promise<void> {
    await this.session.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: bareOf(jid), subscription: 'remove' })));
  }
}
