// Every way an OMEMO input can be bad, named once. Callers turn these into one error event naming
// the sender and the reason; none of them may change stored state.
export type OmemoErrorCode =
  | 'bad-base64'
  | 'bad-protobuf' // truncated, oversized, missing required field
  | 'bad-version' // version byte not 0x33
  | 'bad-mac'
  | 'bad-key' // wrong length/type byte, low-order point
  | 'bad-signature' // bundle signed prekey signature
  | 'bad-bundle' // missing parts, no prekeys
  | 'bad-payload' // AES-GCM tag mismatch, short key material
  | 'no-key-for-us' // <encrypted> has no <key rid=our device>
  | 'no-session' // WhisperMessage without a session
  | 'unknown-prekey' // PreKey message naming a prekey we do not have (deleted/reused)
  | 'unknown-signed-prekey'
  | 'duplicate' // counter already consumed: fail quietly
  | 'too-far-ahead' // more than MAX_SKIP messages into the future
  | 'untrusted-identity' // identity key changed for a known device
  | 'no-trusted-devices'
  | 'bad-envelope' // OMEMO 2: decrypted content that is no well-formed SCE envelope
  | 'envelope-mismatch' // OMEMO 2: the envelope's <from>/<to> contradict the stanza
  | 'invalid-input';

export class OmemoError extends Error {
  readonly code: OmemoErrorCode;
  constructor(code: OmemoErrorCode, message: string) {
    super(message);
    this.name = 'OmemoError';
    this.code = code;
  }
}

export function isOmemoError(e: unknown, code?: OmemoErrorCode): e is OmemoError {
  return e instanceof OmemoError && (code === undefined || e.code === code);
}
