// The crypto primitives' interface: both implementations (node:crypto, noble) provide it.

/** Raw 32-byte X25519 key pair (no 0x05 prefix). */
export interface KeyPair {
  priv: Uint8Array;
  pub: Uint8Array;
}

export interface Primitives {
  readonly name: string;
  randomBytes(n: number): Uint8Array;
  generateKeyPair(): KeyPair;
  /** X25519 public key of a (clamped or unclamped) 32-byte private scalar. */
  x25519Public(priv: Uint8Array): Uint8Array;
  /** X25519 shared secret. Throws on malformed or low-order public keys (all-zero output). */
  x25519(priv: Uint8Array, pub: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** AES-CBC with PKCS#7 padding; key length selects AES-128/192/256. */
  aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws OmemoError 'bad-payload' on bad padding or length. */
  aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /**
   * AES-GCM, 16-byte tag appended: returns ciphertext‖tag. IV of 8 bytes or more (12 and 16 are
   * used on the wire); shorter IVs throw in both implementations (noble refuses them).
   */
  aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Input is ciphertext‖tag(16). Throws OmemoError 'bad-payload' on a bad tag. */
  aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertextAndTag: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Standard RFC 8032 Ed25519 verification of a 64-byte signature under a 32-byte public key. */
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}
