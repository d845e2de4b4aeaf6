// Public API of the XMPP layer.
export { XmppSession, bareOf, probeFingerprint } from './connection.js';
export type { ConnectOptions, TlsMode, XmppEvents, XmppErrorEvent, IqHandler } from './connection.js';
export { XmppError, CertificateError, isXmppError } from './errors.js';
export { Roster, NS_ROSTER } from './roster.js';
export type { RosterItem, Subscription } from './roster.js';
export { Presence } from './presence.js';
export type { PresenceUpdate, SubscriptionUpdate, Show } from './presence.js';
export { Carbons, unwrapCarbon, NS_CARBONS } from './carbons.js';
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
export { Mam, NS_MAM } from './mam.js';
export type { ArchivedMessage, MamPage, MamQuery } from './mam.js';
