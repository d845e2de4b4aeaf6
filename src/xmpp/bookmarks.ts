// PEP Native Bookmarks (XEP-0402): one item per room (item id = room JID) on the private
// urn:xmpp:bookmarks:1 node (access_model whitelist: only our own account can read it).
import { xml, type Element } from '@xmpp/client';
import { XmppError } from './errors.js';
import { bareJid as bareOf } from '../lib/jid.js';
import type { XmppStream } from './stream.js';
import { NS_BOOKMARKS, NS_PUBSUB } from './ns.js';
import type { Pep } from './pep.js';


export interface Bookmark {
  room: string;
  name?: string;
  nick?: string;
  password?: string;
  autojoin: boolean;
}

export const BOOKMARK_OPTIONS: Record<string, string> = {
  'pubsub#persist_items': 'true',
  'pubsub#max_items': 'max',
  'pubsub#send_last_published_item': 'never',
  'pubsub#access_model': 'whitelist',
};

export function bookmarkToXml(b: Bookmark): Element {
  const el = xml('conference', { xmlns: NS_BOOKMARKS, autojoin: b.autojoin ? 'true' : 'false', ...(b.name ? { name: b.name } : {}) });
  if (b.nick) el.append(xml('nick', {}, b.nick));
  if (b.password) el.append(xml('password', {}, b.password));
  return el;
}

/** One pubsub <item/> to a bookmark; undefined when it is not one (ignored, not fatal). */
export function bookmarkFromItem(item: Element): Bookmark | undefined {
  const id = item.attrs.id;
  const c = item.getChild('conference', NS_BOOKMARKS);
  if (!id || !c || !id.includes('@')) return undefined;
  const autojoin = c.attrs.autojoin === 'true' || c.attrs.autojoin === '1';
  const b: Bookmark = { room: bareOf(id), autojoin };
  if (c.attrs.name) b.name = c.attrs.name;
  const nick = c.getChildText('nick');
  if (nick) b.nick = nick;
  const pw = c.getChildText('password');
  if (pw) b.password = pw;
  return b;
}

export class Bookmarks {
  constructor(
    private readonly session: XmppStream,
    private readonly pep: Pep,
  ) {}

  async list(): Promise<Bookmark[]> {
    try {
      const items = await this.pep.fetchItems(this.session.bareJid, NS_BOOKMARKS);
      return items.map(bookmarkFromItem).filter((b): b is Bookmark => !!b);
    } catch (e) {
      if (e instanceof XmppError && e.condition === 'item-not-found') return [];
      throw e;
    }
  }

  async add(b: Bookmark): Promise<void> {
    await this.pep.publish(NS_BOOKMARKS, bareOf(b.room), bookmarkToXml(b), BOOKMARK_OPTIONS);
  }

  async remove(room: string): Promise<void> {
    await this.session.iq(
      'set',
      xml('pubsub', { xmlns: NS_PUBSUB }, xml('retract', { node: NS_BOOKMARKS, notify: 'true' }, xml('item', { id: bareOf(room) }))),
    );
  }
}
