// A protocol version of OMEMO as a backend (as python-omemo has oldmemo and twomemo): everything
// that differs between versions — bundles, sessions, per-device key encryption, the payload and
// what the payload holds — is behind this interface, so the manager's device, identity and trust
// bookkeeping serves all of them. Legacy OMEMO (eu.siacs.conversations.axolotl) is
// legacy-backend.ts, OMEMO 2 (urn:xmpp:omemo:2) omemo2-backend.ts.
import type { Bundle } from './device.js';
import type { DeviceAddress, OmemoStore } from './store.js';
import type { XmlElement } from './omemo2/xml.js';

/** A validated bundle with the one-time prekey picked for a new session. */
export interface PickedBundle {
  readonly bundle: Bundle;
  /**
   * The device's identity as fingerprints and trust know it: the 32-byte Curve25519 key (OMEMO 2
   * bundles publish it in Ed25519 form), so one device has one fingerprint in every version.
   */
  readonly identityKey: Uint8Array;
}

/** What a device key decrypts to, before the session change is stored. */
export interface OpenedKey {
  /** The key material (payload key ‖ tag, or key-transport bytes). */
  keyMaterial: Uint8Array;
  /** Curve25519 form, as PickedBundle.identityKey. */
  senderIdentity: Uint8Array;
  usedPreKeyId?: number;
  /** A PreKey message created or replaced the session. */
  newSession: boolean;
  receivedSinceLastSend: number;
  /** Stores the advanced session; until then the stored one is untouched. */
  commit(): Promise<void>;
}

export interface SealedPayload {
  /** Empty in OMEMO 2, which has no <iv>. */
  iv: Uint8Array;
  keyMaterial: Uint8Array;
  /** Absent for key transport. */
  payload?: Uint8Array;
}

/** Who a message is from and for: OMEMO 2 binds both into its SCE envelope. */
export interface ContentContext {
  /** Bare JID of the sender (our own when encrypting; a room occupant's real JID). */
  from: string;
  /** Bare JID the stanza is addressed to: the room in groupchat. */
  to?: string;
  groupchat?: boolean;
}

export interface OpenedContent {
  /** The body; null when the content carries none. */
  body: string | null;
  /** OMEMO 2: the other elements of the SCE <content>, for the XMPP floor to read. */
  elements?: XmlElement[];
  /** OMEMO 2: the envelope's <time stamp>, for the caller to compare with the stanza's time. */
  time?: string;
}

export interface OmemoBackend {
  /** The XML namespace of this version's elements. */
  readonly namespace: string;
  /** Our bundle as published. */
  ownBundle(store: OmemoStore): Promise<Bundle>;
  /** Validates a fetched bundle (signature, keys) and picks a one-time prekey. Throws OmemoError. */
  pickBundle(bundle: Bundle): PickedBundle;
  hasSession(store: OmemoStore, addr: DeviceAddress): Promise<boolean>;
  /** Starts a session from a picked bundle (X3DH as initiator). */
  initSession(store: OmemoStore, addr: DeviceAddress, picked: PickedBundle): Promise<void>;
  /** Encrypts key material for one device (stored session advanced). */
  encryptKey(store: OmemoStore, addr: DeviceAddress, keyMaterial: Uint8Array): Promise<{ prekey: boolean; data: Uint8Array }>;
  /** Decrypts one device key; nothing is stored until commit(). */
  openKey(store: OmemoStore, addr: DeviceAddress, data: Uint8Array, prekey: boolean): Promise<OpenedKey>;
  /** Encrypts a body (null: key transport) under fresh key material. */
  seal(plaintext: Uint8Array | null): SealedPayload;
  /** Decrypts a payload with the key material a device key carried. Throws OmemoError. */
  open(keyMaterial: Uint8Array, iv: Uint8Array, payload: Uint8Array): Uint8Array;
  /** The plaintext a body travels as (default: its UTF-8; OMEMO 2: an SCE envelope around it). */
  encodeContent?(body: string, ctx: ContentContext): Uint8Array;
  /** The body out of decrypted plaintext, checked against the stanza. Throws OmemoError. */
  decodeContent?(plaintext: Uint8Array, ctx: ContentContext): OpenedContent;
}
