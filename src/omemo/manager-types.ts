// The manager's data model: the XML-free <encrypted> element, what encrypting and decrypting
// report, and the manager's options.
import type { Bundle } from './device.js';
import type { TrustState } from './store.js';
import type { TrustMode } from './trust.js';
import type { OmemoBackend } from './backend.js';
import type { XmlElement } from './omemo2/xml.js';

/** XML-free <encrypted> model; src/xmpp/omemo-xml.ts converts it to and from stanzas. */
export interface EncryptedElement {
  /** Sender device id (<header sid>). */
  sid: number;
  /** `jid`: the device's bare JID (OMEMO 2 groups keys by it in <keys jid>; legacy has none). */
  keys: { jid?: string; rid: number; prekey: boolean; data: Uint8Array }[];
  /** Empty in OMEMO 2, which has no <iv>. */
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
  /** The body; null = key-transport/empty message (or, OMEMO 2, content without a body). */
  plaintext: string | null;
  senderDevice: number;
  fingerprint: string;
  trust: TrustState;
  /** A prekey was consumed and replaced: republish the bundle. */
  bundleChanged: boolean;
  /** Send an empty (key-transport) message back: new session completed or heartbeat due. */
  sendEmptyReply: boolean;
  /** OMEMO 2: the SCE content's other elements and the envelope's time, for the XMPP floor. */
  content?: { elements: XmlElement[]; time?: string };
}

export interface EncryptOptions {
  /** Encrypt for devices whose identity is not trusted (key transport only). */
  includeUntrusted?: boolean;
  /** OMEMO 2: the stanza's addressee, bound into the envelope (<to>); the room in groupchat. */
  to?: string;
  groupchat?: boolean;
}

export interface DecryptOptions {
  /** During MAM catch-up: prekeys are deleted and empty replies sent in finishCatchUp. */
  catchUp?: boolean;
  /** OMEMO 2: the stanza's addressee (bare), which the envelope's <to> must name; the room in groupchat. */
  to?: string;
  /** OMEMO 2: a groupchat envelope must name the room. */
  groupchat?: boolean;
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

