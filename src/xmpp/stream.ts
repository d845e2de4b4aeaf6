// What the feature files (roster, presence, pep, message, …) need from the stream they run on,
// as an interface: they depend on it, not on the connection that implements it (connection.ts),
// so the XMPP floor has no import cycle.
import type { EventEmitter } from 'node:events';
import type { Element } from '@xmpp/client';
import type { DeviceListEvent, IncomingMessage, PresenceUpdate, RosterItem, SubscriptionUpdate } from './types.js';

export interface XmppErrorEvent {
  message: string;
  /** The sender of the offending stanza, when an error is about one. */
  from?: string;
  condition?: string;
  error?: Error;
}

export interface XmppEvents {
  online: [{ jid: string; resumed?: boolean }];
  offline: [{ reason?: string }];
  error: [XmppErrorEvent];
  message: [IncomingMessage];
  'subscription-request': [{ from: string; nick?: string }];
  subscription: [SubscriptionUpdate];
  presence: [PresenceUpdate];
  roster: [RosterItem[]];
  devicelist: [DeviceListEvent];
  /** Something the user must know before it happens (e.g. logging in without TLS). */
  warning: [{ message: string }];
}


/** Return an Element (the result's child), true (an empty result), or an <error/> element. */
export type IqHandler = (ctx: { stanza: Element; element: Element }) => Element | true | Promise<Element | true>;

export interface XmppStream extends Pick<EventEmitter<XmppEvents>, 'emit'> {
  /** Our full JID once online. */
  readonly jid: string;
  readonly bareJid: string;
  readonly domain: string;
  send(el: Element): Promise<void>;
  /** An IQ request; the reply must come from whom we asked (see connection.ts). */
  iq(type: 'get' | 'set', child: Element, to?: string, timeoutMs?: number): Promise<Element>;
  /** Registers an IQ get/set responder (applied to every connection). */
  handleIqGet(ns: string, name: string, h: IqHandler): void;
  handleIqSet(ns: string, name: string, h: IqHandler): void;
  emitError(message: string, extra?: Omit<XmppErrorEvent, 'message'>): void;
  /** True when `from` is our own account as a stanza source. */
  isOwnAccount(from: string | undefined): boolean;
}
