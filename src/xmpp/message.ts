// Chat messages: plain, OMEMO-encrypted and key-transport sending; parsing of incoming ones
// (carbons unwrapped by carbons.ts rules). With <encrypted> present the body is never the text.
import { xml, type Element } from '@xmpp/client';
import type { IncomingMessage, MessageType } from './types.js';
export type { IncomingMessage, MessageType } from './types.js';
import { encryptedFromXml, encryptedToXml, type EncryptedElement } from './omemo-xml.js';
import { bareJid as bareOf } from '../lib/jid.js';
import type { XmppStream } from './stream.js';
import { buildSignalMessage, extrasToXml, hasExtras, parseExtras, type MessageExtras } from './message-extras.js';
import { NS_AXOLOTL, NS_DELAY, NS_EME, NS_HINTS, NS_SID } from './ns.js';
import type { Carbons } from './carbons.js';

export const OMEMO_FALLBACK_BODY = "I sent you an OMEMO encrypted message but your client doesn't seem to support that.";


let idCounter = 0;
export function newMessageId(): string {
  return `xc-${Date.now().toString(36)}-${(++idCounter).toString(36)}`;
}

export function buildChatMessage(to: string, body: string, opts: { id?: string; type?: MessageType; extras?: MessageExtras } = {}): Element {
  const ex = opts.extras ?? {};
  return xml(
    'message',
    { to, type: opts.type ?? 'chat', id: opts.id ?? newMessageId() },
    xml('body', {}, body),
    ...extrasToXml(ex),
    // A retraction must reach the archive even though its body is only a fallback.
    ...(ex.retractId ? [xml('store', { xmlns: NS_HINTS })] : []),
  );
}

export function buildEncryptedMessage(to: string, enc: EncryptedElement, opts: { id?: string; type?: MessageType; extras?: MessageExtras } = {}): Element {
  return xml(
    'message',
    { to, type: opts.type ?? 'chat', id: opts.id ?? newMessageId() },
    encryptedToXml(enc),
    xml('encryption', { xmlns: NS_EME, namespace: NS_AXOLOTL, name: 'OMEMO' }),
    xml('store', { xmlns: NS_HINTS }),
    xml('body', {}, OMEMO_FALLBACK_BODY),
    ...extrasToXml(opts.extras ?? {}),
  );
}

/** Header-only <encrypted> (no payload, no body, no EME), as Conversations sends them. */
export function buildKeyTransportMessage(to: string, enc: EncryptedElement, opts: { id?: string } = {}): Element {
  const { payload: _drop, ...header } = enc;
  return xml('message', { to, type: 'chat', id: opts.id ?? newMessageId() }, encryptedToXml(header), xml('store', { xmlns: NS_HINTS }));
}

const TYPES: readonly string[] = ['chat', 'groupchat', 'normal', 'headline', 'error'];

/**
 * Pure parse of a (possibly carbon-unwrapped) message. `ownBare` is used to trust stanza-ids.
 * Returns undefined for stanzas with nothing to show (no body, no <encrypted>, no extras).
 */
export function parseMessage(
  el: Element,
  ownBare: string,
  extra: { carbon?: 'sent' | 'received'; stamp?: string } = {},
): IncomingMessage | undefined {
  const type = (TYPES.includes(el.attrs.type ?? '') ? el.attrs.type : 'normal') as MessageType;
  const from = el.attrs.from ?? ownBare;
  const to = el.attrs.to ?? ownBare;
  const encEl = el.getChild('encrypted', NS_AXOLOTL);
  const bodyText = el.getChildText('body') ?? undefined;
  const extras = parseExtras(el);
  if (!encEl && bodyText === undefined && !hasExtras(extras)) return undefined;
  const msg: IncomingMessage = { from, to, type };
  if (hasExtras(extras)) msg.extras = extras;
  if (el.attrs.id) msg.id = el.attrs.id;
  if (encEl) {
    try {
      msg.encrypted = encryptedFromXml(encEl);
    } catch (e) {
      msg.encrypted = { error: (e as Error).message };
    }
  } else {
    msg.body = bodyText;
  }
  if (extra.carbon) msg.carbon = extra.carbon;
  const stamp = el.getChild('delay', NS_DELAY)?.attrs.stamp ?? extra.stamp;
  if (stamp) msg.stamp = stamp;
  // XEP-0359: only an id added by the entity we trust to assign it (our server, or the room).
  const trustedBy = type === 'groupchat' ? bareOf(from) : bareOf(ownBare);
  const sid = el.getChildren('stanza-id', NS_SID).find((s) => s.attrs.by && bareOf(s.attrs.by) === trustedBy);
  if (sid?.attrs.id) msg.stanzaId = sid.attrs.id;
  return msg;
}

export class Messages {
  constructor(
    private readonly session: XmppStream,
    private readonly carbons: Carbons,
  ) {}

  async sendChat(to: string, body: string, opts: { id?: string; type?: MessageType; extras?: MessageExtras } = {}): Promise<string> {
    const el = buildChatMessage(to, body, opts);
    await this.session.send(el);
    return el.attrs.id!;
  }

  async sendEncrypted(to: string, enc: EncryptedElement, opts: { id?: string; type?: MessageType; extras?: MessageExtras } = {}): Promise<string> {
    const el = buildEncryptedMessage(to, enc, opts);
    await this.session.send(el);
    return el.attrs.id!;
  }

  /** Body-less receipt or chat state. */
  async sendSignal(to: string, extras: MessageExtras, opts: { id?: string } = {}): Promise<string> {
    const el = buildSignalMessage(to, extras, opts.id ?? newMessageId());
    await this.session.send(el);
    return el.attrs.id!;
  }

  async sendKeyTransport(to: string, enc: EncryptedElement): Promise<string> {
    const el = buildKeyTransportMessage(to, enc);
    await this.session.send(el);
    return el.attrs.id!;
  }

  /** Entry point for every incoming <message> that is not a PEP event. */
  handle(el: Element): void {
    const s = this.session;
    if (el.attrs.type === 'error') {
      const cond = el.getChild('error')?.getChildElements()[0]?.name ?? 'undefined-condition';
      s.emitError(`message to ${el.attrs.from ?? '?'} bounced: ${cond}`, { from: el.attrs.from, condition: cond });
      return;
    }
    const c = this.carbons.unwrap(el);
    if (c.kind === 'forged') {
      s.emitError(`dropped a forged carbon from ${c.from}: ${c.reason}`, { from: c.from, condition: 'forged-carbon' });
      return;
    }
    const msg =
      c.kind === 'carbon'
        ? parseMessage(c.message, s.bareJid, { carbon: c.carbon, ...(c.stamp ? { stamp: c.stamp } : {}) })
        : parseMessage(el, s.bareJid);
    if (msg) s.emit('message', msg);
  }
}
