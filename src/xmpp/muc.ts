// Multi-User Chat (XEP-0045): join/leave/nick, occupant presence, groupchat messages, subject,
// invites, room disco, owner configuration (muc#owner forms) and affiliation lists (muc#admin).
// Parsing is pure (exported for tests); the Muc class is one per XmppStream and has its own events.
import { EventEmitter } from 'node:events';
import { xml, type Element } from '@xmpp/client';
import { encryptedFromXml, encryptedToXml, type EncryptedElement } from './omemo-xml.js';
import { OMEMO_FALLBACK_BODY, newMessageId } from './message.js';
import { XmppError } from './errors.js';
import { bareJid as bareOf, resourceOf } from '../lib/jid.js';
import type { XmppStream } from './stream.js';
import { NS_AXOLOTL, NS_CONFERENCE, NS_DATA, NS_DELAY, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_EME, NS_HINTS, NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_MUC_USER, NS_OCCUPANT_ID, NS_SID, NS_STANZAS } from './ns.js';
import type { Disco } from './disco.js';
import { parseForm, submitForm, type FormField } from './data-forms.js';
import { reportCaught } from '../lib/diagnostics.js';
export { parseForm, submitForm, type FormField } from './data-forms.js';


export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';
export const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'outcast', 'none'];

export interface MucPresence {
  room: string; // bare room JID
  nick: string;
  type: 'available' | 'unavailable' | 'error';
  /** The occupant's real full JID (non-anonymous rooms, or when we are a moderator). */
  jid?: string;
  affiliation?: string;
  role?: string;
  /** muc#user status codes: 110 self, 201 created, 303 nick change, 307 kicked, 301 banned, … */
  codes: string[];
  /** With 303: the new nick. */
  newNick?: string;
  self: boolean;
  error?: { condition: string; text?: string };
  reason?: string;
  /** XEP-0421 occupant-id: stamped by the room (which strips any the occupant sent). */
  occupantId?: string;
}

export interface MucMessage {
  room: string;
  /** Absent for messages from the room itself (status changes, some subjects). */
  nick?: string;
  id?: string;
  originId?: string;
  stanzaId?: string;
  body?: string;
  encrypted?: EncryptedElement | { error: string };
  subject?: string;
  stamp?: string;
  /**
   * The real JID named by the message's muc#user <item jid/>, only when every such item names the
   * same bare JID. The SENDER can add an <x> of its own: core believes this only for archive
   * results of non-anonymous rooms, where the room appends its own <x> after the sender's (a
   * forged one then disagrees and nothing is set).
   */
  realJid?: string;
  /** muc#user items named different JIDs: someone tried to claim another identity. */
  realJidConflict?: boolean;
  /** XEP-0421 occupant-id, as stamped by the room. */
  occupantId?: string;
  codes: string[];
}

export interface MucInvite {
  room: string;
  from: string;
  reason?: string;
  password?: string;
}

export interface RoomInfo {
  features: string[];
  name?: string;
}


function statusCodes(x: Element | undefined): string[] {
  return (x?.getChildren('status') ?? []).map((s) => s.attrs.code).filter((c): c is string => !!c);
}

function splitOccupant(from: string): { room: string; nick: string } | undefined {
  const nick = resourceOf(from);
  const room = bareOf(from);
  if (!nick || !room) return undefined;
  return { room, nick };
}

/**
 * Pure parse of an occupant presence. Returns undefined when `el` is not MUC presence: it must
 * carry a muc#user <x/>, or be an error presence from a room we are joining (`joining`).
 */
export function parseMucPresence(el: Element, joining: (room: string) => boolean = () => false): MucPresence | undefined {
  const from = el.attrs.from;
  if (!from) return undefined;
  const occ = splitOccupant(from);
  const x = el.getChild('x', NS_MUC_USER);
  if (el.attrs.type === 'error') {
    const room = occ?.room ?? bareOf(from);
    if (!x && !el.getChild('x', NS_MUC) && !joining(room)) return undefined;
    const err = el.getChild('error');
    const cond = err?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text');
    const text = err?.getChildText('text', NS_STANZAS) ?? undefined;
    return {
      room,
      nick: occ?.nick ?? '',
      type: 'error',
      codes: [],
      self: true,
      error: { condition: cond?.name ?? 'undefined-condition', ...(text ? { text } : {}) },
    };
  }
  if (!x || !occ) return undefined;
  if (el.attrs.type !== undefined && el.attrs.type !== 'unavailable') return undefined;
  const item = x.getChild('item');
  const codes = statusCodes(x);
  const p: MucPresence = {
    room: occ.room,
    nick: occ.nick,
    type: el.attrs.type === 'unavailable' ? 'unavailable' : 'available',
    codes,
    self: codes.includes('110'),
  };
  if (item?.attrs.jid) p.jid = item.attrs.jid;
  if (item?.attrs.affiliation) p.affiliation = item.attrs.affiliation;
  if (item?.attrs.role) p.role = item.attrs.role;
  if (codes.includes('303') && item?.attrs.nick) p.newNick = item.attrs.nick;
  const reason = item?.getChildText('reason');
  if (reason) p.reason = reason;
  const occupantId = el.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id;
  if (occupantId) p.occupantId = occupantId;
  return p;
}

/** The one bare JID all muc#user items of a message name, or a conflict when they disagree. */
function claimedRealJid(el: Element): { jid: string } | { conflict: true } | undefined {
  let found: string | undefined;
  for (const x of el.getChildren('x', NS_MUC_USER)) {
    for (const item of x.getChildren('item')) {
      const j = item.attrs.jid;
      if (!j) continue;
      const b = bareOf(j).toLowerCase();
      if (found !== undefined && found !== b) return { conflict: true };
      found = b;
    }
  }
  return found === undefined ? undefined : { jid: found };
}

/** Pure parse of a type='groupchat' message. Undefined when there is nothing in it for us. */
export function parseMucMessage(el: Element): MucMessage | undefined {
  if (el.attrs.type !== 'groupchat' || !el.attrs.from) return undefined;
  const from = el.attrs.from;
  const occ = splitOccupant(from);
  const room = occ?.room ?? bareOf(from);
  const x = el.getChild('x', NS_MUC_USER);
  const m: MucMessage = { room, codes: statusCodes(x) };
  if (occ) m.nick = occ.nick;
  if (el.attrs.id) m.id = el.attrs.id;
  const origin = el.getChild('origin-id', NS_SID)?.attrs.id;
  if (origin) m.originId = origin;
  // Only the room may assign stanza-ids to its messages (XEP-0359 §3.1).
  const sid = el.getChildren('stanza-id', NS_SID).find((s) => s.attrs.by && bareOf(s.attrs.by) === room);
  if (sid?.attrs.id) m.stanzaId = sid.attrs.id;
  const stamp = el.getChild('delay', NS_DELAY)?.attrs.stamp;
  if (stamp) m.stamp = stamp;
  const real = claimedRealJid(el);
  if (real && 'conflict' in real) m.realJidConflict = true;
  else if (real) m.realJid = real.jid;
  // Only the room's occupant-id counts (XEP-0421 §4: the room strips those occupants send).
  const occupantIds = el.getChildren('occupant-id', NS_OCCUPANT_ID);
  if (occupantIds.length === 1 && occupantIds[0].attrs.id) m.occupantId = occupantIds[0].attrs.id;
  const subject = el.getChild('subject');
  const encEl = el.getChild('encrypted', NS_AXOLOTL);
  if (encEl) {
    try {
      m.encrypted = encryptedFromXml(encEl);
    } catch (e) {
      m.encrypted = { error: (e as Error).message };
    }
  } else {
    const body = el.getChildText('body');
    if (body !== null) m.body = body;
  }
  // XEP-0045 §8.1: a subject change has a <subject/> and no body.
  if (subject && m.body === undefined && !m.encrypted) m.subject = subject.text();
  if (m.body === undefined && !m.encrypted && m.subject === undefined && m.codes.length === 0) return undefined;
  return m;
}

/** Mediated (muc#user) or direct (jabber:x:conference) invitation; undefined otherwise. */
export function parseInvite(el: Element): MucInvite | undefined {
  if (el.name !== 'message' || el.attrs.type === 'groupchat' || el.attrs.type === 'error') return undefined;
  const from = el.attrs.from;
  if (!from) return undefined;
  const inv = el.getChild('x', NS_MUC_USER)?.getChild('invite');
  if (inv) {
    const out: MucInvite = { room: bareOf(from), from: inv.attrs.from ?? from };
    const reason = inv.getChildText('reason');
    if (reason) out.reason = reason;
    const pw = el.getChild('x', NS_MUC_USER)?.getChildText('password');
    if (pw) out.password = pw;
    return out;
  }
  const direct = el.getChild('x', NS_CONFERENCE);
  if (direct?.attrs.jid) {
    const out: MucInvite = { room: bareOf(direct.attrs.jid), from };
    if (direct.attrs.reason) out.reason = direct.attrs.reason;
    if (direct.attrs.password) out.password = direct.attrs.password;
    return out;
  }
  return undefined;
}

export function buildGroupchat(room: string, opts: { id?: string; body?: string; encrypted?: EncryptedElement }): Element {
  const id = opts.id ?? newMessageId();
  const el = xml('message', { to: room, type: 'groupchat', id });
  if (opts.encrypted) {
    el.append(encryptedToXml(opts.encrypted));
    el.append(xml('encryption', { xmlns: NS_EME, namespace: NS_AXOLOTL, name: 'OMEMO' }));
    el.append(xml('store', { xmlns: NS_HINTS }));
    el.append(xml('body', {}, OMEMO_FALLBACK_BODY));
  } else {
    el.append(xml('body', {}, opts.body ?? ''));
  }
  // The room keeps our id on the reflection, but origin-id survives into its archive too.
  el.append(xml('origin-id', { xmlns: NS_SID, id }));
  return el;
}

export interface MucEvents {
  presence: [MucPresence];
  message: [MucMessage];
  invite: [MucInvite];
}

interface PendingJoin {
  resolve: (p: MucPresence) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class Muc extends EventEmitter<MucEvents> {
  private readonly joining = new Map<string, PendingJoin>();

  constructor(
    private readonly session: XmppStream,
    private readonly disco: Disco,
  ) {
    super();
    disco.addFeature(NS_MUC);
    disco.addFeature(NS_CONFERENCE);
  }

  /** Consumes MUC presence; true when `el` was one. */
  handlePresence(el: Element): boolean {
    const p = parseMucPresence(el, (r) => this.joining.has(r));
    if (!p) return false;
    const pending = this.joining.get(p.room);
    if (pending && (p.type === 'error' || (p.self && p.type === 'available'))) {
      this.joining.delete(p.room);
      clearTimeout(pending.timer);
      if (p.type === 'error') {
        pending.reject(new XmppError(p.error!.condition, `cannot join ${p.room}: ${p.error!.condition}${p.error!.text ? ` (${p.error!.text})` : ''}`, { from: p.room }));
      } else {
        pending.resolve(p);
      }
    }
    if (this.listenerCount('presence') > 0) this.emit('presence', p);
    return true;
  }

  /** Consumes groupchat messages and invitations; true when `el` was one. */
  handleMessage(el: Element): boolean {
    if (el.attrs.type === 'groupchat') {
      const m = parseMucMessage(el);
      if (m && this.listenerCount('message') > 0) this.emit('message', m);
      return true;
    }
    const inv = parseInvite(el);
    if (!inv) return false;
    if (this.listenerCount('invite') > 0) this.emit('invite', inv);
    return true;
  }

  /** Joins (or creates) a room; resolves with our own presence (codes include 201 when created). */
  join(room: string, nick: string, opts: { password?: string; maxHistory?: number; timeoutMs?: number } = {}): Promise<MucPresence> {
    const r = bareOf(room);
    const x = xml('x', { xmlns: NS_MUC });
    if (opts.password) x.append(xml('password', {}, opts.password));
    if (opts.maxHistory !== undefined) x.append(xml('history', { maxstanzas: String(opts.maxHistory) }));
    return new Promise((resolve, reject) => {
      const old = this.joining.get(r);
      if (old) {
        clearTimeout(old.timer);
        old.reject(new XmppError('conflict', `join of ${r} superseded`));
      }
      const timer = setTimeout(() => {
        this.joining.delete(r);
        reject(new XmppError('timeout', `no answer from ${r} to our join`));
      }, opts.timeoutMs ?? 15_000);
      timer.unref();
      this.joining.set(r, { resolve, reject, timer });
      this.session.send(xml('presence', { to: `${r}/${nick}` }, x, this.disco.capsElement())).catch((e: Error) => {
        clearTimeout(timer);
        this.joining.delete(r);
        reject(e);
      });
    });
  }

  async leave(room: string, nick: string, status?: string): Promise<void> {
    await this.session.send(xml('presence', { to: `${bareOf(room)}/${nick}`, type: 'unavailable' }, ...(status ? [xml('status', {}, status)] : [])));
  }

  /** Changes nick: the answer is a 303 presence, or an error presence (conflict) emitted as an event. */
  async changeNick(room: string, nick: string): Promise<void> {
    await this.session.send(xml('presence', { to: `${bareOf(room)}/${nick}` }, this.disco.capsElement()));
  }

  async setSubject(room: string, subject: string): Promise<void> {
    await this.session.send(xml('message', { to: bareOf(room), type: 'groupchat', id: newMessageId() }, xml('subject', {}, subject)));
  }

  /** Mediated invitation (XEP-0045 §7.8.2): the room adds members-only invitees when we may. */
  async invite(room: string, jid: string, reason?: string): Promise<void> {
    await this.session.send(
      xml(
        'message',
        { to: bareOf(room), id: newMessageId() },
        xml('x', { xmlns: NS_MUC_USER }, xml('invite', { to: jid }, ...(reason ? [xml('reason', {}, reason)] : []))),
      ),
    );
  }

  async send(room: string, opts: { id?: string; body?: string; encrypted?: EncryptedElement }): Promise<string> {
    const el = buildGroupchat(bareOf(room), opts);
    await this.session.send(el);
    return el.attrs.id!;
  }

  async info(jid: string): Promise<RoomInfo & { identities: { category: string; type: string }[] }> {
    const res = await this.session.iq('get', xml('query', { xmlns: NS_DISCO_INFO }), jid);
    const q = res.getChild('query', NS_DISCO_INFO);
    const identities = (q?.getChildren('identity') ?? []).map((i) => ({ category: i.attrs.category ?? '', type: i.attrs.type ?? '', name: i.attrs.name }));
    const features = (q?.getChildren('feature') ?? []).map((f) => f.attrs.var).filter((f): f is string => !!f);
    const name = identities.find((i) => i.category === 'conference')?.name;
    return { features, identities, ...(name ? { name } : {}) };
  }

  /** The server's MUC service (disco#items of our domain, identity conference/text), if any. */
  async findService(): Promise<string | undefined> {
    const res = await this.session.iq('get', xml('query', { xmlns: NS_DISCO_ITEMS }), this.session.domain);
    const items = (res.getChild('query', NS_DISCO_ITEMS)?.getChildren('item') ?? []).map((i) => i.attrs.jid).filter((j): j is string => !!j);
    for (const j of items) {
      try {
        const info = await this.info(j);
        if (info.identities.some((i) => i.category === 'conference' && i.type === 'text')) return j;
      } catch (e) {
        // an item that does not answer disco is simply not the MUC service
        reportCaught(`muc: disco#info of ${j}`, e, 'info');
      }
    }
    return undefined;
  }

  async configForm(room: string): Promise<FormField[]> {
    const res = await this.session.iq('get', xml('query', { xmlns: NS_MUC_OWNER }), bareOf(room));
    return parseForm(res.getChild('query', NS_MUC_OWNER)?.getChild('x', NS_DATA));
  }

  /** Submits the room's current configuration with `changes` applied. */
  async configure(room: string, changes: Record<string, string | string[]>): Promise<void> {
    const form = await this.configForm(room);
    if (form.length === 0) throw new XmppError('bad-request', `${bareOf(room)} sent no configuration form`);
    await this.session.iq('set', xml('query', { xmlns: NS_MUC_OWNER }, submitForm(form, changes)), bareOf(room));
  }

  /** Accepts the default configuration of a room we just created (unlocks it). */
  async instantRoom(room: string): Promise<void> {
    await this.session.iq('set', xml('query', { xmlns: NS_MUC_OWNER }, xml('x', { xmlns: NS_DATA, type: 'submit' })), bareOf(room));
  }

  async affiliations(room: string, affiliation: Affiliation): Promise<{ jid: string; nick?: string }[]> {
    const res = await this.session.iq('get', xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { affiliation })), bareOf(room));
    return (res.getChild('query', NS_MUC_ADMIN)?.getChildren('item') ?? [])
      .filter((i) => i.attrs.jid)
      .map((i) => ({ jid: bareOf(i.attrs.jid!), ...(i.attrs.nick ? { nick: i.attrs.nick } : {}) }));
  }

  async setAffiliation(room: string, jid: string, affiliation: Affiliation, reason?: string): Promise<void> {
    await this.session.iq(
      'set',
      xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { affiliation, jid: bareOf(jid) }, ...(reason ? [xml('reason', {}, reason)] : []))),
      bareOf(room),
    );
  }
}

