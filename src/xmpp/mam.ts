// Message Archive Management (XEP-0313, urn:xmpp:mam:2) over our own archive and over a room's
// archive (XEP-0313 §5: the query goes to the room JID), paged with RSM (XEP-0059). A <result> is
// only believed when it answers a query id we sent and comes from the archive that query asked:
// our own account (no `from`, or our bare JID) or that room. Anyone else injecting results could
// otherwise plant messages "from" any contact in our history.
import { xml, type Element } from '@xmpp/client';
import { parseMessage, type IncomingMessage } from './message.js';
import { bareJid as bareOf } from '../lib/jid.js';
import type { XmppStream } from './stream.js';
import { parseMucMessage, type MucMessage } from './muc.js';
import { NS_DATA, NS_DELAY, NS_FORWARD, NS_MAM, NS_RSM } from './ns.js';
// NS_MAM is imported from here by src/core/muc and test/xmpp/mam-room.test.ts.
export { NS_MAM } from './ns.js';


export interface ArchivedMessage extends IncomingMessage {
  archiveId: string;
}

export interface MamQuery {
  /** Only messages with this bare JID. */
  with?: string;
  /** ISO time: messages from then on. */
  start?: string;
  /** RSM: the page after this archive id. */
  after?: string;
  /** RSM: the page before this id; '' = the last page. */
  before?: string;
  max?: number;
}

export interface MamPage {
  /** Oldest first. Results whose message has nothing to show are omitted (ids still count). */
  messages: ArchivedMessage[];
  complete: boolean;
  first?: string;
  last?: string;
  /** Results in the page, including omitted ones. */
  count: number;
}

/** A message from a room's archive. */
export interface ArchivedRoomMessage extends MucMessage {
  archiveId: string;
}

export interface RoomMamPage extends Omit<MamPage, 'messages'> {
  messages: ArchivedRoomMessage[];
}

interface Active {
  results: ArchivedMessage[];
  /** Set for a room archive query: the only JID its results may come from. */
  room?: string;
  roomResults: ArchivedRoomMessage[];
  count: number;
}

let queryCounter = 0;

export class Mam {
  private readonly active = new Map<string, Active>();

  constructor(private readonly session: XmppStream) {}

  /** One page of a room's archive (oldest first). */
  async queryRoom(room: string, q: Omit<MamQuery, 'with'> = {}): Promise<RoomMamPage> {
    const active: Active = { results: [], room: bareOf(room).toLowerCase(), roomResults: [], count: 0 };
    const page = await this.run(q, active, active.room);
    return { ...page, messages: active.roomResults };
  }

  /** One page. */
  async query(q: MamQuery = {}): Promise<MamPage> {
    return this.run(q, { results: [], roomResults: [], count: 0 });
  }

  private async run(q: MamQuery, active: Active, to?: string): Promise<MamPage> {
    const queryid = `q${Date.now().toString(36)}${(++queryCounter).toString(36)}`;
    const fields = [xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM))];
    if (q.with) fields.push(xml('field', { var: 'with' }, xml('value', {}, q.with)));
    if (q.start) fields.push(xml('field', { var: 'start' }, xml('value', {}, q.start)));
    const rsm = [xml('max', {}, String(q.max ?? 100))];
    if (q.after !== undefined) rsm.push(xml('after', {}, q.after));
    if (q.before !== undefined) rsm.push(xml('before', {}, q.before));
    this.active.set(queryid, active);
    try {
      const res = await this.session.iq(
        'set',
        xml('query', { xmlns: NS_MAM, queryid }, xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields), xml('set', { xmlns: NS_RSM }, ...rsm)),
        to,
        60_000,
      );
      const fin = res.getChild('fin', NS_MAM);
      const set = fin?.getChild('set', NS_RSM);
      return {
        messages: active.results,
        complete: fin?.attrs.complete === 'true',
        first: set?.getChildText('first') ?? undefined,
        last: set?.getChildText('last') ?? undefined,
        count: active.count,
      };
    } finally {
      this.active.delete(queryid);
    }
  }

  /** Every page after `after` (or from `start`), until the server says complete. */
  async queryAll(q: Omit<MamQuery, 'before'>, onPage?: (p: MamPage) => void | Promise<void>): Promise<{ last?: string; count: number }> {
    let after = q.after;
    let count = 0;
    let last: string | undefined;
    for (;;) {
      const page = await this.query({ ...q, ...(after !== undefined ? { after } : {}) });
      count += page.count;
      if (page.last) last = page.last;
      if (onPage) await onPage(page);
      // A server that stops moving forward must not loop us forever.
      if (page.complete || page.count === 0 || !page.last || page.last === after) break;
      after = page.last;
    }
    return { last, count };
  }

  /** Called for every incoming <message>; true when it was a MAM result (taken or dropped). */
  handleMessage(el: Element): boolean {
    const result = el.getChild('result', NS_MAM);
    if (!result) return false;
    const s = this.session;
    const from = el.attrs.from;
    const active = result.attrs.queryid !== undefined ? this.active.get(result.attrs.queryid) : undefined;
    const fromOk = active?.room !== undefined ? from !== undefined && bareOf(from).toLowerCase() === active.room : s.isOwnAccount(from);
    if (!fromOk) {
      s.emitError(
        `dropped a spoofed archive (MAM) result from ${from}: only ${active?.room ? `the room ${active.room}` : 'our own server'} may send them`,
        { from, condition: 'spoofed-mam-result' },
      );
      return true;
    }
    if (!active) {
      s.emitError(`dropped an archive (MAM) result${from ? ` from ${from}` : ''} for a query we did not send (${result.attrs.queryid ?? 'no query id'})`, {
        from,
        condition: 'unknown-mam-query',
      });
      return true;
    }
    active.count++;
    const fwd = result.getChild('forwarded', NS_FORWARD);
    const inner = fwd?.getChild('message');
    const id = result.attrs.id;
    if (!inner || !id) return true;
    const stamp = fwd!.getChild('delay', NS_DELAY)?.attrs.stamp;
    if (active.room !== undefined) {
      const rm = parseMucMessage(inner);
      // The archived message must itself be from that room.
      if (rm && rm.room === active.room) active.roomResults.push({ ...rm, ...(stamp ? { stamp } : {}), stanzaId: id, archiveId: id });
      return true;
    }
    const msg = parseMessage(inner, s.bareJid, stamp ? { stamp } : {});
    if (msg && msg.type !== 'error' && msg.type !== 'groupchat') active.results.push({ ...msg, archiveId: id, stanzaId: id });
    return true;
  }
}
