// The account settings vocabulary, owned by the store that keeps it (core re-exports it).

export type TlsPolicy = 'force' | 'allow' | 'disable';
export type OmemoPolicy = 'manual' | 'automatic' | 'always';
export type TrustMode = 'manual' | 'firstusage' | 'blind' | 'btbv';
export type Encryption = 'omemo' | 'none';

export const TLS_POLICIES: readonly TlsPolicy[] = ['force', 'allow', 'disable'];
export const OMEMO_POLICIES: readonly OmemoPolicy[] = ['manual', 'automatic', 'always'];
export const TRUST_MODES: readonly TrustMode[] = ['manual', 'firstusage', 'blind', 'btbv'];

export interface AccountSettings {
  jid: string;
  server?: string;
  port?: number;
  tls?: TlsPolicy;
  eval_password?: string;
  omemo_policy?: OmemoPolicy;
  trust_mode?: TrustMode;
  /** Largest file /url save downloads, in bytes (default 100 MiB). */
  max_download?: number;
  /** SHA-256 of the server certificate trusted with /tls trust (instead of a CA). */
  tls_pin?: string;
  /** socks5h://HOST:PORT: the stream and file transfers go through this SOCKS5 proxy (Tor: 127.0.0.1:9050). */
  proxy?: string;
}
