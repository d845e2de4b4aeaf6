// Message Carbons (XEP-0280). A carbon is only believed when the outer stanza comes from our own
// bare JID; anyone else wrapping <sent>/<received> is forging (CVE-2017-5589 class).
import { xml, type Element } from '@xmpp/client';
import { bareJid as bareOf } from '../lib/jid.js';
import type { XmppStream } from './stream.js';
import { NS_CARBONS, NS_DELAY, NS_FORWARD } from './ns.js';

export type CarbonUnwrap =
  | { kind: 'none' }
  | { kind: 'carbon'; carbon: 'sent' | 'received'; message: Element; stamp?: string }
  | { kind: 'forged'; from: string; reason: string };

/** Pure: classify a message stanza as a plain message, a valid carbon, or a forged/invalid one. */
export function unwrapCarbon(el: Element, ownBare: string): CarbonUnwrap {
  const wrap = el.getChild('sent', NS_CARBONS) ?? el.getChild('received', NS_CARBONS);
  if (!wrap) return { kind: 'none' };
  const from = el.attrs.from ?? '';
  // The server stamps carbons with our bare JID; a full JID or anything else is not a carbon.
  if (!from || from.toLowerCase() !== ownBare.toLowerCase()) {
    return { kind: 'forged', from: from || '(none)', reason: `carbon from ${from || 'no sender'}, not from our own account` };
  }
  const fwd = wrap.getChild('forwarded', NS_FORWARD);
  const inner = fwd?.getChild('message');
  if (!fwd || !inner) return { kind: 'forged', from, reason: 'carbon without a forwarded message' };
  const stamp = fwd.getChild('delay', NS_DELAY)?.attrs.stamp;
  return { kind: 'carbon', carbon: wrap.name as 'sent' | 'received', message: inner, ...(stamp ? { stamp } : {}) };
}

export class Carbons {
  enabled = false;

  constructor(private readonly session: XmppStream) {}

  async enable(): Promise<void> {
    await this.session.iq('set', xml('enable', { xmlns: NS_CARBONS }));
    this.enabled = true;
  }

  async disable(): Promise<void> {
    await this.session.iq('set', xml('disable', { xmlns: NS_CARBONS }));
    this.enabled = false;
  }

  /** Ownership check bound to this session. */
  unwrap(el: Element): CarbonUnwrap {
    return unwrapCarbon(el, bareOf(this.session.bareJid));
  }
}
