// The contract between the command layer (and the TUI) and an account session. Commands call
// these actions; everything the user should see comes back as XchatEvent objects.
import type { TrustState } from '../omemo/store.js';

export type TlsPolicy = 'force' | 'allow' | 'disable';
export type OmemoPolicy = 'manual' | 'automatic' | 'always';
export type TrustMode = 'manual' | 'firstusage' | 'blind' | 'btbv';
export type Encryption = 'omemo' | 'none';

export interface ConnectOptions {
  jid: string;
  password?: string;
  server?: string;
  port?: number;
  tls?: TlsPolicy;
}

export interface DeviceView {
  jid: string;
  deviceId: number;
  fingerprint?: string; // 64 lower hex
  trust?: TrustState;
  active: boolean;
  own: boolean; // this very device
  lastSeen?: number;
}

/** One JSON line per event under --json; readable text otherwise. */
export type XchatEvent =
  | { event: 'message'; from: string; to: string; body: string; encryption: Encryption; sender_device?: number; trust?: TrustState; id?: string; stamp: string; carbon?: 'sent' | 'received' }
  | { event: 'sent'; to: string; id: string; body: string; encryption: Encryption; devices?: number }
  | { event: 'error'; message: string; from?: string; reason?: string }
  | { event: 'info'; message: string }
  | { event: 'status'; status: 'connecting' | 'online' | 'offline'; jid?: string }
  | { event: 'subscription'; from: string; type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed' }
  | { event: 'device'; jid: string; device: number; fingerprint?: string; trust?: TrustState; change: 'new' | 'removed' }
  | { event: 'trust'; jid: string; fingerprint: string; state: TrustState }
  | { event: 'warning'; message: string; jid?: string; devices?: number[] }
  | { event: 'chat'; jid: string; encryption: Encryption }; // current chat changed

export interface AccountSettings {
  jid: string;
  server?: string;
  port?: number;
  tls?: TlsPolicy;
  eval_password?: string;
  omemo_policy?: OmemoPolicy;
  trust_mode?: TrustMode;
}

export interface CoreApi {
  on(listener: (e: XchatEvent) => void): () => void;
  isConnected(): boolean;
  connect(opts: ConnectOptions): Promise<void>;
  disconnect(): Promise<void>;
  /** Waits until every send started so far has finished (used before /quit and at EOF). */
  drain(): Promise<void>;

  /** The chat that plain (non-slash) lines go to. */
  currentChat(): string | undefined;
  openChat(jid: string): void;
  /** Sends in the chat's mode: OMEMO chats never fall back to plaintext. */
  sendMessage(to: string, text: string, opts?: { plain?: boolean }): Promise<void>;

  subscription(action: 'request' | 'allow' | 'deny', jid: string): Promise<void>;

  accountAdd(jid: string): Promise<void>;
  accountSet(jid: string, key: keyof AccountSettings, value: string): Promise<void>;
  accountList(): Promise<AccountSettings[]>;
  accountRemove(jid: string): Promise<void>;

  omemoGen(): Promise<{ deviceId: number; fingerprint: string; created: boolean }>;
  omemoFingerprint(jid?: string): Promise<DeviceView[]>;
  omemoTrust(jid: string, fingerprint: string): Promise<void>;
  omemoUntrust(jid: string, fingerprint: string): Promise<void>;
  omemoStart(jid?: string): Promise<void>;
  omemoEnd(jid?: string): Promise<void>;
  omemoPolicy(policy?: OmemoPolicy): Promise<OmemoPolicy>;
  omemoTrustMode(mode?: TrustMode): Promise<TrustMode>;
}
