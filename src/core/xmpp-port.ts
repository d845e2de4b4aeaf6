// Adapts src/xmpp to the XmppPort the account session uses (filled in when src/xmpp lands).
import type { XmppPort } from './ports.js';

export function createXmppPort(): XmppPort {
  throw new Error('xmpp layer not built yet');
}
