// What the account session needs from the XMPP floor, stated once so the session logic reads
// without stanza details. xmpp-port.ts adapts src/xmpp to it.
import type { EncryptedElement } from '../omemo/manager.js';
import type { Bundle } from '../omemo/device.js';
import type { TlsPolicy } from './api.js';

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
}

export interface XmppPortEvents {
  online: (jid: string) => void;
  offline: (reason?: string) => void;
  error: (e: { message: string; from?: string }) => void;
  message: (m: IncomingMessage) => void;
  subscription: (e: { from: string; type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed' }) => void;
  devicelist: (e: { jid: string; ids: number[] }) => void;
  roster: (items: { jid: string; name?: string; subscription: string }[]) => void;
}

export interface XmppPort {
  connect(opts: { jid: string; password: string; server?: string; port?: number; tls: TlsPolicy }): Promise<string>;
  disconnect(): Promise<void>;
  on<K extends keyof XmppPortEvents>(event: K, listener: XmppPortEvents[K]): void;
  sendPlain(to: string, body: string, id: string): Promise<void>;
  sendEncrypted(to: string, el: EncryptedElement, id: string, opts?: { keyTransport?: boolean }): Promise<void>;
  /** Throws an error with `condition === 'forbidden'` when the node is not visible to us. */
  fetchDeviceList(jid: string): Promise<number[]>;
  fetchBundle(jid: string, deviceId: number): Promise<Bundle>;
  publishDeviceList(ids: number[]): Promise<void>;
  publishBundle(bundle: Bundle): Promise<void>;
  subscription(action: 'request' | 'allow' | 'deny', jid: string): Promise<void>;
}
