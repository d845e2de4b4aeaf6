// The contract between the command layer (and the TUI) and an account session. Commands call
// these actions; everything the user should see comes back as XchatEvent objects.
import type { TrustState } from '../omemo/store.js';
import type { OmemoErrorCode } from '../omemo/errors.js';
import type { ChatState } from '../xmpp/message-extras.js';
export type { ChatState } from '../xmpp/message-extras.js';
import type { ContactView, StatusShow } from './roster.js';
import type { UriDevice } from '../omemo/uri.js';
export type { ContactView, ResourcePresence, StatusShow } from './roster.js';

import type { AccountSettings, Encryption, OmemoPolicy, TlsPolicy, TrustMode } from '../store/account-settings.js';
export type { AccountSettings, Encryption, OmemoPolicy, TlsPolicy, TrustMode } from '../store/account-settings.js';
export { OMEMO_POLICIES, TLS_POLICIES, TRUST_MODES } from '../store/account-settings.js';

export interface ConnectOptions {
  jid: string;
  password?: string;
  server?: string;
  port?: number;
  tls?: TlsPolicy;
  /**
   * `/connect … tls trust`: the certificate the server shows now is accepted and pinned for the
   * account (the user's explicit trust on first use), TLS still required.
   */
  trustCertificate?: boolean;
}

/** What /omemo verify URI will do with each device the URI lists (core/verify-uri.ts). */
export interface VerifyPlan {
  jid: string;
  /** Listed fingerprints of known devices not verified yet: mark them verified. */
  toVerify: (UriDevice & { knownAs: number })[];
  alreadyVerified: UriDevice[];
  /** The listed device id is known with ANOTHER identity key: never trusted from the URI. */
  mismatched: (UriDevice & { known: string })[];
  /** Neither the device id nor the fingerprint is known (or its key was never fetched). */
  unknown: UriDevice[];
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

/** Why an error event happened, for scripts: every value named here, never a free string. */
export type ErrorReason =
  | OmemoErrorCode
  | 'error' // anything else: the message says what
  | 'bad-element' // an <encrypted> element that cannot be read at all
  | 'unknown-sender' // a room message whose sender's real JID the room did not confirm
  | 'spoofed-correction'
  | 'spoofed-retraction'
  | 'room-error' // the room refused something (nick change, …); the message names the condition
  | 'session-completion' // the empty message that completes a new session could not be sent
  | 'auth'; // the server refused the password (reconnecting stops)

export type WarningReason = 'identity-changed' | 'device-list-capped' | 'own-device-list-unread';

/** A message received (or replayed from history or an archive). */
export interface MessageEvent { event: 'message'; from: string; to: string; body: string; encryption: Encryption; sender_device?: number; trust?: TrustState; id?: string; stamp: string; carbon?: 'sent' | 'received'; archived?: boolean; groupchat?: true; nick?: string; real_jid?: string; own?: true }

/** One JSON line per event under --json; readable text otherwise. */
export type XchatEvent =
  | MessageEvent
  | { event: 'sent'; to: string; id: string; body: string; encryption: Encryption; devices?: number; groupchat?: true }
  // Typed while offline: kept in the profile's outbox, sent (as a 'sent' with the same id) once online.
  | { event: 'pending'; to: string; id: string; body: string; queued_at: string }
  | { event: 'error'; message: string; from?: string; reason?: ErrorReason }
  | { event: 'info'; message: string }
  // reconnecting: the connection was lost and is tried again in `retry_in` seconds.
  | { event: 'status'; status: 'connecting' | 'online' | 'offline' | 'reconnecting'; jid?: string; retry_in?: number; via?: string; resumed?: boolean; reason?: string }
  | { event: 'subscription'; from: string; type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed' }
  | { event: 'device'; jid: string; device: number; fingerprint?: string; trust?: TrustState; change: 'new' | 'removed' }
  | { event: 'trust'; jid: string; fingerprint: string; state: TrustState }
  | { event: 'warning'; message: string; jid?: string; devices?: number[]; reason?: WarningReason }
  // The current chat changed. pending: offline and nothing known yet, decided once online.
  | { event: 'chat'; jid: string; encryption: Encryption; pending?: true }
  // /search: the stored messages with every word of `text` (in one chat, or all), oldest first.
  | { event: 'search'; text: string; chat?: string; hits: MessageEvent[] }
  // Group chat (src/core/muc.ts): our state in a room, occupants coming and going, subject, invitations.
  | { event: 'room'; room: string; status: 'joined' | 'left' | 'kicked' | 'banned' | 'removed' | 'error'; nick?: string; created?: boolean; message?: string; encryption?: Encryption }
  | { event: 'occupant'; room: string; nick: string; change: 'joined' | 'left' | 'nick' | 'changed'; jid?: string; affiliation?: string; role?: string; new_nick?: string }
  | { event: 'subject'; room: string; subject: string; nick?: string }
  | { event: 'invite'; room: string; from: string; reason?: string; password?: string }
  // A contact's resource changed presence (show 'offline' when it left).
  | { event: 'presence'; jid: string; show: 'online' | 'chat' | 'away' | 'xa' | 'dnd' | 'offline'; status?: string }
  // XEP-0184: `to` got our message `id` (the id of a 'sent' event).
  | { event: 'receipt'; id: string; from: string }
  | { event: 'chatstate'; from: string; state: ChatState }
  // XEP-0308: the message `id` (of a 'message' or 'sent' event) now reads `body`; ours too (from = our JID).
  | { event: 'correction'; from: string; to: string; id: string; new_id?: string; body: string; encryption: Encryption; stamp: string; carbon?: 'sent' | 'received' }
  // XEP-0424: the message `id` was retracted by its sender (ours too: from = our JID).
  | { event: 'retraction'; from: string; to: string; id: string; carbon?: 'sent' | 'received' }
  // File transfers (src/core/files.ts): `bytes` of `total` plaintext bytes done; then the result.
  | { event: 'progress'; id: string; direction: 'upload' | 'download'; file: string; bytes: number; total: number }
  | { event: 'file'; action: 'uploaded' | 'saved'; jid: string; path: string; url: string; size: number; encryption: Encryption };

/** What one PageUp at the top of a window found. */
export interface OlderPage {
  /** Messages emitted (as archived messages). */
  shown: number;
  from: 'local' | 'archive';
  /** Nothing older exists: local history and the archive are both exhausted (or no archive). */
  atStart: boolean;
  /** Why the archive was not asked (offline, no archive): the end of local history only. */
  archiveSkipped?: string;
  /** Archived encrypted messages that cannot be shown (not in local history). */
  unreadable?: number;
}

export interface OccupantView {
  nick: string;
  jid?: string; // real bare JID when the room shows it
  affiliation?: string;
  role?: string;
  self: boolean;
}

export interface BookmarkView {
  room: string;
  name?: string;
  nick?: string;
  password?: string;
  autojoin: boolean;
}

export type RoomSetting = 'persistent' | 'members-only' | 'nonanonymous' | 'public';

/** Group chat (XEP-0045) and bookmarks (XEP-0402); implemented by src/core/muc.ts. */
export interface MucApi {
  /** `room` may lack the service part: the server's MUC service is used. Opens the room window. */
  join(room: string, opts?: { nick?: string; password?: string }): Promise<void>;
  leave(room?: string): Promise<void>;
  nick(newNick: string, room?: string): Promise<void>;
  occupants(room?: string): OccupantView[];
  /** Sets the subject with text; returns the current one. */
  subject(text?: string, room?: string): Promise<string | undefined>;
  invite(jid: string, reason?: string, room?: string): Promise<void>;
  configure(setting: RoomSetting, on: boolean, room?: string): Promise<void>;
  affiliation(jid: string, affiliation: 'owner' | 'admin' | 'member' | 'outcast' | 'none', room?: string): Promise<void>;
  affiliationList(affiliation: 'owner' | 'admin' | 'member' | 'outcast', room?: string): Promise<string[]>;
  bookmarkAdd(room?: string, opts?: { autojoin?: boolean; nick?: string; password?: string; name?: string }): Promise<void>;
  bookmarkRemove(room?: string): Promise<void>;
  bookmarkList(): Promise<BookmarkView[]>;
  isRoom(jid: string): boolean;
  rooms(): string[];
}

/** /privacy: how the account's traffic is protected and where it goes. */
export interface PrivacyReport {
  account?: string;
  online: boolean;
  /** host:port the stream goes to (through the proxy when there is one). */
  server?: string;
  /** socks5h://… when every connection (XMPP, uploads, downloads, DNS) goes through a proxy. */
  proxy?: string;
  tls?: string;
  /** The one accepted certificate (SHA-256) when pinned; otherwise verified by CA (or unencrypted). */
  pinnedCertificate?: string;
  tlsPolicy?: TlsPolicy;
  mechanism?: string;
  channelBinding?: string;
  cachedKeys?: boolean;
  omemoPolicy: OmemoPolicy;
  trustMode: TrustMode;
}

export interface CoreApi {
  /** Group chat; optional so test doubles need not implement it. */
  muc?: MucApi;
  on(listener: (e: XchatEvent) => void): () => void;
  isConnected(): boolean;
  connect(opts: ConnectOptions): Promise<void>;
  /** /connect without arguments: the last account again, now. False when there is none. */
  reconnectNow?(): Promise<boolean>;
  /** Settles once the archive has been read after the latest connect (scripts: /wait). */
  caughtUp?(): Promise<void>;
  /** Pins the server certificate (SHA-256) for the account (default: the last one connected); returns the account. */
  tlsTrust?(fingerprint: string, jid?: string): Promise<string>;
  /** What protects this account's connection and messages now (/privacy). */
  privacy?(): Promise<PrivacyReport>;
  disconnect(): Promise<void>;
  /** Waits until every send started so far has finished (used before /quit and at EOF). */
  drain(): Promise<void>;

  /** The chat that plain (non-slash) lines go to. */
  currentChat(): string | undefined;
  openChat(jid: string): void;
  /** Sends in the chat's mode: OMEMO chats never fall back to plaintext. */
  sendMessage(to: string, text: string, opts?: { plain?: boolean }): Promise<void>;

  subscription(action: 'request' | 'allow' | 'deny', jid: string): Promise<void>;

  /** XEP-0085: tells the contact we are typing/paused/…; a no-op when off, offline or unchanged. */
  typing(jid: string, state: ChatState): void;
  /** Turns sending chat states on/off (default on); returns the setting. */
  chatStates(on?: boolean): boolean;
  /** XEP-0308: replaces our last message in the chat (default: the current chat). */
  correctLast(text: string, jid?: string): Promise<void>;
  /** XEP-0424: retracts our last message in the chat (default: the current chat). */
  retractLast(jid?: string): Promise<void>;

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

  // Local history and the server archive (src/core/history.ts, src/core/session/catch-up.ts). Optional so
  // test doubles need not implement them; AccountSession does.
  /** Emits the last `n` stored messages of a window (default: the current chat) as archived messages. */
  historyRecent?(n?: number, jid?: string): Promise<void>;
  /**
   * PageUp at the top of a window: the stored messages before `before` (the oldest one shown),
   * a page at a time, then older pages from the server archive. Says what was found.
   */
  fetchOlder?(jid?: string, opts?: { before?: string }): Promise<OlderPage | void>;
  /** Emits a 'search' event: the stored messages with the words of `text`, in one window or all. */
  historySearch?(text: string, opts?: { all?: boolean; jid?: string }): Promise<void>;
  /** Emits the stored messages just before and after `stamp` in a window (a search hit's context). */
  historyAround?(jid: string, stamp: string): Promise<void>;
  /** on: store messages; redact: metadata only; off: nothing. Returns the mode. */
  historyLogging?(mode?: 'on' | 'redact' | 'off'): Promise<'on' | 'redact' | 'off'>;

  /** Roster with subscription and presence. */
  roster(): ContactView[];
  rosterAdd(jid: string, nick?: string): Promise<void>;
  rosterRemove(jid: string): Promise<void>;
  rosterNick(jid: string, nick: string): Promise<void>;
  /** Our presence; 'online' = plain available. */
  setStatus(show: StatusShow, message?: string): Promise<void>;
  /** Contacts (roster and others whose presence we see) with their presence. */
  presences(): ContactView[];
  /** For completion: roster JIDs and other JIDs this session knows. */
  knownJids(): string[];
  /** For completion: fingerprints (64 hex) known for a JID. */
  knownFingerprints(jid: string): string[];
  /** The contact's trust over all their known devices (local knowledge only, nothing fetched). */
  contactTrust?(jid: string): Promise<TrustState | undefined>;
  /** Every device of JID (default: our own account) with fingerprint, trust, active, last seen. */
  omemoDevices(jid?: string): Promise<DeviceView[]>;
  /** Verifies the fingerprints an OMEMO URI lists; warnings for mismatched and unknown devices. */
  omemoVerify(uri: string): Promise<VerifyPlan & { summary: string }>;
  /** This device and our trusted own devices as an OMEMO URI, and its QR drawing. */
  omemoQrCode(): Promise<{ uri: string; qr: string }>;
  /** Publishes a device list holding only this device; returns the ids removed. */
  omemoClearDeviceList(): Promise<number[]>;

  // Files (src/core/files.ts). Optional so test doubles need not implement them.
  /** Uploads a file to the chat (default: the current one): aesgcm:// link in OMEMO chats. */
  sendFile?(path: string, jid?: string): Promise<void>;
  /** The aesgcm:// links received in a chat, numbered for /url save and /url open. */
  urlList?(jid?: string): string;
  /** Downloads, decrypts and verifies link N (default: the newest); returns the saved path. */
  urlSave?(n?: number, path?: string, jid?: string): Promise<string>;
  /** Opens the saved file of link N with the system opener. */
  urlOpen?(n?: number, jid?: string): Promise<void>;
  /** Stops running downloads: link N of the chat, or all; returns the file names stopped. */
  urlCancel?(n?: number, jid?: string): string[];
  /** Removes partial downloads a killed xchat left behind; returns their paths. */
  removeLeftoverDownloads?(): Promise<string[]>;
}
