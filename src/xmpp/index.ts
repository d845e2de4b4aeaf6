// Public API of the XMPP layer.
export { XmppSession, bareOf } from './connection.js';
export type { ConnectOptions, TlsMode, XmppEvents, XmppErrorEvent, IqHandler } from './connection.js';
export { XmppError, CertificateError, isXmppError } from './errors.js';
export { Roster } from './roster.js';
export type { RosterItem, Subscription } from './roster.js';
export { Presence } from './presence.js';
export type { PresenceUpdate, SubscriptionUpdate, Show } from './presence.js';
export { Carbons, unwrapCarbon } from './carbons.js';
export type { CarbonUnwrap } from './carbons.js';
export { Disco, CAPS_NODE, capsVer, loadCapsHash } from './disco.js';
export type { Identity } from './disco.js';
export { Pep } from './pep.js';
export type { DeviceListEvent } from './pep.js';
export {
  Messages,
  parseMessage,
  buildChatMessage,
  buildEncryptedMessage,
  buildKeyTransportMessage,
  OMEMO_FALLBACK_BODY,
} from './message.js';
export type { IncomingMessage, MessageType } from './message.js';
export * from './omemo-xml.js';
export * from './message-extras.js';
export { Mam } from './mam.js';
export type { ArchivedMessage, MamPage, MamQuery } from './mam.js';
// The namespaces this module has always exported (the rest of ns.ts is the XMPP floor's own).
export {
  NS_ROSTER,
  NS_CARBONS,
  NS_MAM,
  NS_AXOLOTL,
  NS_RECEIPTS,
  NS_CHATSTATES,
  NS_CORRECT,
  NS_FASTEN,
  NS_RETRACT0,
  NS_RETRACT1,
  NS_FALLBACK,
} from './ns.js';
