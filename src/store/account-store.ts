// Accounts and global settings of one profile: accounts.json (lowdb, 0600, atomic writes).
// Holds no secrets: passwords come from eval_password, --password-file or XCHAT_PASSWORD.
import * as path from 'node:path';
import type { AccountSettings, Encryption, OmemoPolicy, TlsPolicy, TrustMode } from './account-settings.js';
import { JsonDoc } from './json-doc.js';
import { ensureDir } from './profile.js';

export const ACCOUNT_KEYS = ['server', 'port', 'tls', 'eval_password', 'omemo_policy', 'trust_mode', 'max_download', 'tls_pin', 'proxy'] as const;
export type AccountKey = (typeof ACCOUNT_KEYS)[number];
export const TLS_POLICIES: readonly TlsPolicy[] = ['force', 'allow', 'disable'];
export const OMEMO_POLICIES: readonly OmemoPolicy[] = ['manual', 'automatic', 'always'];
export const TRUST_MODES: readonly TrustMode[] = ['manual', 'firstusage', 'blind', 'btbv'];

export interface GlobalSettings {
  omemo_policy?: OmemoPolicy;
  trust_mode?: TrustMode;
  /** Per chat (bare JID): OMEMO on or off, as last chosen with /omemo start|end. */
  chat_encryption: Record<string, Encryption>;
}

interface AccountsDoc {
  version: 1;
  accounts: AccountSettings[];
  settings: GlobalSettings;
}

export class AccountStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountStoreError';
  }
}

/** Validates and converts a `/account set` value; throws AccountStoreError with the allowed values. */
export function parseAccountValue(key: string, value: string | number): AccountSettings[AccountKey] {
  const v = typeof value === 'number' ? String(value) : value;
  switch (key) {
    case 'server':
      if (!v || /\s/.test(v)) throw new AccountStoreError(`invalid server "${v}"`);
      return v;
    case 'port': {
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isInteger(n) || n < 1 || n > 65535) throw new AccountStoreError(`invalid port "${v}" (1-65535)`);
      return n;
    }
    case 'tls':
      if (!(TLS_POLICIES as readonly string[]).includes(v)) throw new AccountStoreError(`invalid tls "${v}" (${TLS_POLICIES.join('|')})`);
      return v;
    case 'eval_password':
      if (!v) throw new AccountStoreError('eval_password needs a command');
      return v;
    case 'omemo_policy':
      if (!(OMEMO_POLICIES as readonly string[]).includes(v)) throw new AccountStoreError(`invalid omemo_policy "${v}" (${OMEMO_POLICIES.join('|')})`);
      return v;
    case 'trust_mode':
      if (!(TRUST_MODES as readonly string[]).includes(v)) throw new AccountStoreError(`invalid trust_mode "${v}" (${TRUST_MODES.join('|')})`);
      return v;
    case 'max_download':
      return parseSize(v);
    case 'proxy':
      if (!/^socks5h?:\/\/(\[[0-9a-fA-F:]+\]|[^\s/:@]+):\d{1,5}\/?$/.test(v)) {
        throw new AccountStoreError(`invalid proxy "${v}" (socks5h://HOST:PORT, e.g. socks5h://127.0.0.1:9050 for Tor)`);
      }
      return v.replace(/^socks5:/, 'socks5h:').replace(/\/$/, '');
    case 'tls_pin': {
      const hex = v.replace(/[\s:]/g, '').toUpperCase();
      if (!/^[0-9A-F]{64}$/.test(hex)) throw new AccountStoreError(`invalid tls_pin "${v}" (the SHA-256 fingerprint of the certificate, 64 hex digits)`);
      return hex.match(/../g)!.join(':');
    }
    default:
      throw new AccountStoreError(`unknown account setting "${key}" (${ACCOUNT_KEYS.join(', ')})`);
  }
}

/** "100M", "2G", "512K", "1048576": bytes (K/M/G are powers of 1024). */
export function parseSize(v: string): number {
  const m = /^(\d+)\s*([kmg])?(?:i?b)?$/i.exec(v.trim());
  const n = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] ?? ' ').toLowerCase()) : NaN;
  if (!m || !Number.isSafeInteger(n) || n < 1) throw new AccountStoreError(`invalid size "${v}" (e.g. 100M, 2G, 512K or bytes)`);
  return n;
}

const JID_RE = /^(?:[^@/\s]+@)?[^@/\s]+$/;

export function normalizeAccountJid(jid: string): string {
  const j = jid.trim().toLowerCase();
  if (!JID_RE.test(j)) throw new AccountStoreError(`invalid account JID "${jid}" (expected user@domain)`);
  return j;
}

export class AccountStore {
  private constructor(
    readonly file: string,
    private readonly doc: JsonDoc<AccountsDoc>,
  ) {}

  static async open(profileDir: string): Promise<AccountStore> {
    await ensureDir(profileDir);
    const file = path.join(profileDir, 'accounts.json');
    const doc = await JsonDoc.open<AccountsDoc>(file, { version: 1, accounts: [], settings: { chat_encryption: {} } });
    if (!doc.data.settings) doc.data.settings = { chat_encryption: {} };
    if (!doc.data.settings.chat_encryption) doc.data.settings.chat_encryption = {};
    return new AccountStore(file, doc);
  }

  async list(): Promise<AccountSettings[]> {
    return this.doc.data.accounts.map((a) => ({ ...a }));
  }

  async get(jid: string): Promise<AccountSettings | undefined> {
    const j = jid.trim().toLowerCase();
    const a = this.doc.data.accounts.find((x) => x.jid === j);
    return a ? { ...a } : undefined;
  }

  /** Adds an account; adding an existing one is an error (settings are changed with set). */
  async add(jid: string): Promise<void> {
    const j = normalizeAccountJid(jid);
    if (this.doc.data.accounts.some((a) => a.jid === j)) throw new AccountStoreError(`account ${j} already exists`);
    await this.doc.update((d) => {
      d.accounts.push({ jid: j });
    });
  }

  async set(jid: string, key: keyof AccountSettings, value: string | number): Promise<void> {
    const j = jid.trim().toLowerCase();
    if (key === 'jid') throw new AccountStoreError('the account JID cannot be changed; remove and add it');
    const parsed = parseAccountValue(key, value);
    if (!this.doc.data.accounts.some((a) => a.jid === j)) throw new AccountStoreError(`no account ${j} (add it with /account add ${j})`);
    await this.doc.update((d) => {
      const a = d.accounts.find((x) => x.jid === j)!;
      (a as unknown as Record<string, unknown>)[key] = parsed;
    });
  }

  /** Removes one setting of an account (back to the default). */
  async unset(jid: string, key: AccountKey): Promise<void> {
    const j = jid.trim().toLowerCase();
    if (!this.doc.data.accounts.some((a) => a.jid === j)) throw new AccountStoreError(`no account ${j}`);
    await this.doc.update((d) => {
      delete d.accounts.find((x) => x.jid === j)![key];
    });
  }

  async remove(jid: string): Promise<void> {
    const j = jid.trim().toLowerCase();
    if (!this.doc.data.accounts.some((a) => a.jid === j)) throw new AccountStoreError(`no account ${j}`);
    await this.doc.update((d) => {
      d.accounts = d.accounts.filter((a) => a.jid !== j);
    });
  }

  // ---- global settings -------------------------------------------------------------------

  async getSettings(): Promise<GlobalSettings> {
    return structuredClone(this.doc.data.settings);
  }

  async setOmemoPolicy(policy: OmemoPolicy): Promise<void> {
    parseAccountValue('omemo_policy', policy);
    await this.doc.update((d) => {
      d.settings.omemo_policy = policy;
    });
  }

  async setTrustMode(mode: TrustMode): Promise<void> {
    parseAccountValue('trust_mode', mode);
    await this.doc.update((d) => {
      d.settings.trust_mode = mode;
    });
  }

  /** OMEMO on/off remembered per chat (bare JID). */
  async getChatPolicy(jid: string): Promise<Encryption | undefined> {
    const m = this.doc.data.settings.chat_encryption;
    const j = jid.toLowerCase();
    return Object.prototype.hasOwnProperty.call(m, j) ? m[j] : undefined;
  }

  async setChatPolicy(jid: string, enc: Encryption | undefined): Promise<void> {
    const j = jid.toLowerCase();
    if (enc !== undefined && enc !== 'omemo' && enc !== 'none') throw new AccountStoreError(`invalid encryption "${String(enc)}"`);
    await this.doc.update((d) => {
      if (enc === undefined) delete d.settings.chat_encryption[j];
      else Object.defineProperty(d.settings.chat_encryption, j, { value: enc, enumerable: true, writable: true, configurable: true });
    });
  }
}
