// Message extras that ride beside (never inside) <encrypted>: delivery receipts (XEP-0184), chat
// states (XEP-0085), corrections (XEP-0308), retractions (XEP-0424, old fasten form and :1) and the
// origin-id (XEP-0359) they refer to. Pure build/parse; message.ts puts them on the stanzas.
import { xml, type Element } from '@xmpp/client';
import { NS_CHATSTATES, NS_CORRECT, NS_FALLBACK, NS_FASTEN, NS_HINTS, NS_RECEIPTS, NS_RETRACT0, NS_RETRACT1, NS_SID } from './ns.js';


export const CHAT_STATES = ['active', 'composing', 'paused', 'inactive', 'gone'] as const;
export type ChatState = (typeof CHAT_STATES)[number];

export const RETRACT_FALLBACK_BODY = "This person attempted to retract a previous message, but it's unsupported by your client.";

export interface MessageExtras {
  /** XEP-0184 <request/>: the recipient should answer with <received id=…/>. */
  receiptRequest?: boolean;
  /** XEP-0184 <received id=…/>: the id of our message the contact got. */
  receivedId?: string;
  chatState?: ChatState;
  /** XEP-0308 <replace id=…/>: this message corrects the message with that id. */
  replaceId?: string;
  /** XEP-0424: this message retracts the message with that origin-id. */
  retractId?: string;
  /** XEP-0359 <origin-id id=…/> chosen by the sender. */
  originId?: string;
}

const MAX_ID = 256;
const okId = (s: string | undefined): string | undefined => (s && s.length <= MAX_ID ? s : undefined);

/** Children to add to a message for these extras (hints excepted: the builder picks those). */
export function extrasToXml(e: MessageExtras): Element[] {
  const out: Element[] = [];
  if (e.originId) out.push(xml('origin-id', { xmlns: NS_SID, id: e.originId }));
  if (e.receiptRequest) out.push(xml('request', { xmlns: NS_RECEIPTS }));
  if (e.receivedId) out.push(xml('received', { xmlns: NS_RECEIPTS, id: e.receivedId }));
  if (e.chatState) out.push(xml(e.chatState, { xmlns: NS_CHATSTATES }));
  if (e.replaceId) out.push(xml('replace', { xmlns: NS_CORRECT, id: e.replaceId }));
  if (e.retractId) {
    // Both generations: Conversations/Gajim of the fasten era and current clients.
    out.push(xml('apply-to', { xmlns: NS_FASTEN, id: e.retractId }, xml('retract', { xmlns: NS_RETRACT0 })));
    out.push(xml('retract', { xmlns: NS_RETRACT1, id: e.retractId }));
    out.push(xml('fallback', { xmlns: NS_FALLBACK, for: NS_RETRACT1 }));
  }
  return out;
}

/** Reads the extras of a (carbon-unwrapped) message; malformed or oversized ids are ignored. */
export function parseExtras(el: Element): MessageExtras {
  const e: MessageExtras = {};
  if (el.getChild('request', NS_RECEIPTS)) e.receiptRequest = true;
  const received = okId(el.getChild('received', NS_RECEIPTS)?.attrs.id);
  if (received) e.receivedId = received;
  for (const c of el.getChildElements()) {
    if (c.attrs.xmlns === NS_CHATSTATES && (CHAT_STATES as readonly string[]).includes(c.name)) {
      e.chatState = c.name as ChatState;
      break;
    }
  }
  const replace = okId(el.getChild('replace', NS_CORRECT)?.attrs.id);
  if (replace) e.replaceId = replace;
  const r1 = okId(el.getChild('retract', NS_RETRACT1)?.attrs.id);
  const applyTo = el.getChild('apply-to', NS_FASTEN);
  const r0 = applyTo?.getChild('retract', NS_RETRACT0) ? okId(applyTo.attrs.id) : undefined;
  if (r1 ?? r0) e.retractId = (r1 ?? r0)!;
  const origin = okId(el.getChild('origin-id', NS_SID)?.attrs.id);
  if (origin) e.originId = origin;
  return e;
}

export function hasExtras(e: MessageExtras): boolean {
  return Object.keys(e).length > 0;
}

/**
 * A body-less message carrying only extras (a receipt, a chat state). Receipts are kept by the
 * server for an offline contact; chat states are worthless later, so they ask not to be stored.
 */
export function buildSignalMessage(to: string, e: MessageExtras, id: string, type = 'chat'): Element {
  const hint = e.receivedId ? 'store' : 'no-store';
  return xml('message', { to, type, id }, ...extrasToXml(e), xml(hint, { xmlns: NS_HINTS }));
}
