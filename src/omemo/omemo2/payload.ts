// OMEMO 2 payload encryption (XEP-0384 0.8+ "Message Encryption", python-twomemo
// encrypt_plaintext): a fresh 32-byte key; HKDF-SHA-256(key, 32×0, "OMEMO Payload", 80) gives an
// AES-256 key, a MAC key and an IV; the SCE envelope is encrypted with AES-256-CBC (PKCS#7) and
// authenticated with HMAC-SHA-256 over the ciphertext, truncated to 16 bytes. key ‖ mac (48 bytes)
// is what travels through each device's ratchet. There is no <iv> element in OMEMO 2.
import { OmemoError } from '../errors.js';
import { aesCbcDecrypt, aesCbcEncrypt, concatBytes, equalBytes, hkdfSha256, hmacSha256, randomBytes } from '../primitives.js';

export const PAYLOAD_KEY_LENGTH = 32;
export const PAYLOAD_MAC_LENGTH = 16;
/** An empty message (no <payload>) carries 32 zero bytes through the ratchet (twomemo make_empty). */
export const EMPTY_KEY_MATERIAL_LENGTH = 32;

const INFO = new TextEncoder().encode('OMEMO Payload');
const ZERO_SALT = new Uint8Array(32);

function derive(key: Uint8Array): { encKey: Uint8Array; authKey: Uint8Array; iv: Uint8Array } {
  const okm = hkdfSha256(key, ZERO_SALT, INFO, 80);
  return { encKey: okm.subarray(0, 32), authKey: okm.subarray(32, 64), iv: okm.subarray(64, 80) };
}

function mac(authKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return hmacSha256(authKey, ciphertext).subarray(0, PAYLOAD_MAC_LENGTH);
}

/** Encrypts the serialized envelope under a fresh key. `key` is for tests only. */
export function encryptPayload2(plaintext: Uint8Array, key: Uint8Array = randomBytes(PAYLOAD_KEY_LENGTH)): { payload: Uint8Array; keyMaterial: Uint8Array } {
  if (key.length !== PAYLOAD_KEY_LENGTH) throw new OmemoError('invalid-input', 'OMEMO 2 payload key must be 32 bytes');
  const k = derive(key);
  const payload = aesCbcEncrypt(k.encKey, k.iv, plaintext);
  return { payload, keyMaterial: concatBytes(key, mac(k.authKey, payload)) };
}

/** The ratchet plaintext of an empty message. */
export function emptyKeyMaterial(): Uint8Array {
  return new Uint8Array(EMPTY_KEY_MATERIAL_LENGTH);
}

/**
 * Decrypts a <payload> with the key material a device key carried: exactly key(32) ‖ mac(16).
 * The MAC is checked before anything is decrypted; every failure is 'bad-payload' (a content
 * problem, not a broken session: XEP-0384 asks for no new key exchange because of it).
 */
export function decryptPayload2(keyMaterial: Uint8Array, payload: Uint8Array): Uint8Array {
  if (!(keyMaterial instanceof Uint8Array) || keyMaterial.length !== PAYLOAD_KEY_LENGTH + PAYLOAD_MAC_LENGTH) {
    throw new OmemoError('bad-payload', `OMEMO 2 key material must be 48 bytes, got ${keyMaterial instanceof Uint8Array ? keyMaterial.length : 0}`);
  }
  if (!(payload instanceof Uint8Array) || payload.length === 0 || payload.length % 16 !== 0) {
    throw new OmemoError('bad-payload', 'OMEMO 2 payload is not whole AES blocks');
  }
  const k = derive(keyMaterial.subarray(0, PAYLOAD_KEY_LENGTH));
  if (!equalBytes(mac(k.authKey, payload), keyMaterial.subarray(PAYLOAD_KEY_LENGTH))) {
    throw new OmemoError('bad-payload', 'OMEMO 2 payload MAC does not verify');
  }
  return aesCbcDecrypt(k.encKey, k.iv, payload);
}
