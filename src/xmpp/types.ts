// The data the XMPP floor hands up, as plain types: a leaf every feature file and the stream
// interface can import without importing each other.
import type { EncryptedElement } from '../omemo/manager.js';
import type { MessageExtras } from './message-extras.js';

export type Subscription = 'none' | 'to' | 'from' | 'both';

export interface RosterItem {
  jid: string;
  name?: string;
  subscription: Subscription;
  /** Our outgoing subscription request is pending. */
  ask?: 'subscribe';
  groups: string[];
}

export type Show = 'chat' | 'away' | 'xa' | 'dnd';

export interface PresenceUpdate {
  from: string;
  type: 'available' | 'unavailable';
  show?: string;
  status?: string;
}

export interface SubscriptionUpdate {
  from: string;
  type: 'subscribed' | 'unsubscribed' | 'unsubscribe';
}

export interface DeviceListEvent {
  /** The publisher: the bare `from` of the event message. */
  jid: string;
  ids: number[];
  /** Junk ids that were dropped. */
  dropped: string[];
}

export type MessageType = 'chat' | 'groupchat' | 'normal' | 'headline' | 'error';

export interface IncomingMessage {
  from: string;
  to: string;
  type: MessageType;
  id?: string;
  /** Plain body; absent whenever `encrypted` is present (that body is only a fallback). */
  body?: string;
  encrypted?: EncryptedElement | { error: string };
  carbon?: 'sent' | 'received';
  stamp?: string;
  /** XEP-0359 stanza-id assigned by our server (or by the room for groupchat). */
  stanzaId?: string;
  /** Receipts, chat states, correction, retraction, origin-id (message-extras.ts). */
  extras?: MessageExtras;
}
