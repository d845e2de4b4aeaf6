// What the account session needs from the XMPP floor, stated once so the session logic reads
// without stanza details. xmpp-port.ts adapts src/xmpp to it.
import type { EncryptedElement } from '../omemo/manager.js';
import type { Bundle } from '../omemo/device.js';
import type { TlsPolicy } from './api.js';
import type { MucPort } from './muc/ports.js';
import type { MessageExtras } from '../xmpp/message-extras.js';
import type { UploadPort } from './files.js';
import type { LoginSecurity, ScramKeyCache } from '../xmpp/scram.js';

export interface IncomingMessage {
  from: string; // full JID
  to: string;
  type: string;
  id?: string;
  body?: string;
  encrypted?: EncryptedElement | { error: string };
  carbon?: 'sent' | 'received';
  stamp?: string;
  stanzaId?: string;
  extras?: MessageExtras;
}

/** A message read from our archive (MAM); `archiveId` doubles as its stanza-id. */
export interface ArchivedMessage extends IncomingMessage {
  archiveId: string;
}

export interface ArchivePage {
  messages: ArchivedMessage[];
  complete: boolean;
  first?: string;
  last?: string;
  count: number;
}

export interface XmppPortEvents {
  online: (jid: string) => void;
  offline: (reason?: string) => void;
  error: (e: { message: string; from?: string }) => void;
  warning: (message: string) => void;
  message: (m: IncomingMessage) => void;
  subscription: (e: { from: string; type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed' }) => void;
  devicelist: (e: { jid: string; ids: number[] }) => void;
  roster: (items: { jid: string; name?: string; subscription: string; ask?: string }[]) => void;
  presence: (p: { from: string; type: 'available' | 'unavailable'; show?: string; status?: string }) => void;
}

/** What XmppPort.connect is given; an early connection is taken over only when they match. */
export interface XmppConnectParams {
  jid: string;
  password: string;
  server?: string;
  port?: number;
  tls: TlsPolicy;
  /** The pinned server certificate (SHA-256), from the account's tls_pin. */
  tlsPin?: string;
  /** socks5h://HOST:PORT, from --proxy or the account's proxy: no direct connection is ever made. */
  proxy?: string;
  /** The profile's cache of salted SCRAM keys (src/store/scram-keys.ts). */
  scramKeys?: ScramKeyCache;
  /** A lost stream to resume (what takeResumption() gave), instead of a new session. */
  resume?: unknown;
}

/**
 * A connection started while the session was still loading (createAccountSession's
 * `connectEarly`). Its events are held until `release()`, so the session sees every one of them,
 * in order, once it has wired its listeners.
 */
export interface EarlyConnection {
  params: XmppConnectParams;
  xmpp: XmppPort;
  /** The full JID once online, as XmppPort.connect returns it. */
  connected: Promise<string>;
  release(): void;
}

export interface XmppPort {
  /** Group chat and bookmarks (src/core/muc.ts); optional so test fakes need not have it. */
  muc?: MucPort;
  connect(opts: XmppConnectParams): Promise<string>;
  disconnect(): Promise<void>;
  on<K extends keyof XmppPortEvents>(event: K, listener: XmppPortEvents[K]): void;
  sendPlain(to: string, body: string, id: string, extras?: MessageExtras): Promise<void>;
  sendEncrypted(to: string, el: EncryptedElement, id: string, opts?: { keyTransport?: boolean; extras?: MessageExtras }): Promise<void>;
  /** A body-less receipt or chat state (never encrypted). */
  sendSignal(to: string, extras: MessageExtras): Promise<void>;
  /** Throws an error with `condition === 'forbidden'` when the node is not visible to us. */
  fetchDeviceList(jid: string): Promise<number[]>;
  fetchBundle(jid: string, deviceId: number): Promise<Bundle>;
  publishDeviceList(ids: number[]): Promise<void>;
  publishBundle(bundle: Bundle): Promise<void>;
  subscription(action: 'request' | 'allow' | 'deny', jid: string): Promise<void>;
  /** XEP-0363 upload and OOB links (src/xmpp/upload.ts). Optional: tests' fakes. */
  upload?: UploadPort;
  /** One page of our own archive (XEP-0313); before '' = the newest page. Optional: tests' fakes. */
  mamQuery?(q: { with?: string; start?: string; after?: string; before?: string; max?: number }): Promise<ArchivePage>;
  /** Adds or renames a roster item (a roster set with the same JID updates it). */
  rosterAdd(jid: string, name?: string): Promise<void>;
  rosterRemove(jid: string): Promise<void>;
  /** Messages the server never acknowledged before the connection was lost (opaque to core). */
  takeUnacked?(): unknown[];
  /** What the lost stream left for resuming it (XEP-0198; opaque to core), once. */
  takeResumption?(): unknown;
  /** True when the current connection resumed the previous stream (nothing was lost, nothing to redo). */
  resumed?(): boolean;
  /** How the current login is secured (TLS version, SCRAM mechanism, channel binding). */
  security?(): LoginSecurity;
  /** Sends what takeUnacked() gave on a new connection; returns how many. */
  resend?(stanzas: unknown[]): Promise<number>;
  /** Our presence: show undefined = plain available. */
  setPresence(show?: 'away' | 'xa' | 'dnd' | 'chat', status?: string): Promise<void>;
}
