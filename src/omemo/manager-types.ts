// The manager's data model: the XML-free <encrypted> element, what encrypting and decrypting
// report, and the manager's options.
import type { Bundle } from './device.js';
import type { TrustState } from './store.js';
import type { TrustMode } from './trust.js';
import type { OmemoBackend } from './backend.js';

/** XML-free <encrypted> model; src/xmpp/omemo-xml.ts converts it to and from stanzas. */
export interface EncryptedElement {
  /** Sender device id (<header sid>). */
  sid: number;
  keys: { rid: number; prekey: boolean; data: Uint8Array }[];
  iv: Uint8Array;
  /** Absent for key-transport / empty messages. */
  payload?: Uint8Array;
}

export type RecipientStatus = 'ok' | 'untrusted' | 'no-session' | 'bundle-error';

export interface RecipientReport {
  jid: string;
  deviceId: number;
  fingerprint?: string;
  status: RecipientStatus;
  reason?: string;
}

export interface EncryptResult {
  element: EncryptedElement;
  /** One entry per device considered (every active device of every recipient, minus ours). */
  recipients: RecipientReport[];
}

export interface DecryptResult {
  /** null = key-transport/empty message: never show it. */
  plaintext: string | null;
  senderDevice: number;
  fingerprint: string;
  trust: TrustState;
  /** A prekey was consumed and replaced: republish the bundle. */
  bundleChanged: boolean;
  /** Send an empty (key-transport) message back: new session completed or heartbeat due. */
  sendEmptyReply: boolean;
}

export interface ManagerOptions {
  /** Own bare JID. */
  ownJid: string;
  trustMode?: TrustMode;
  /** Clock (ms since epoch); tests inject one. */
  now?: () => number;
  signedPreKeyRotationMs?: number;
  signedPreKeyGraceMs?: number;
  /**
   * A known device id came with a different identity key (from its bundle or a PreKey message).
   * The new key is recorded as a new, undecided identity (the old one's trust record stays);
   * the caller must tell the user loudly.
   */
  onIdentityChange?: (change: IdentityChange) => void;
  /** The protocol version (default: legacy OMEMO). */
  backend?: OmemoBackend;
}

export interface IdentityChange {
  jid: string;
  deviceId: number;
  oldFingerprint: string;
  newFingerprint: string;
  /** The trust state the new identity starts in (undecided unless the trust mode is blind). */
  state: TrustState;
}

export type FetchBundle = (jid: string, deviceId: number) => Promise<Bundle>;

