// SCRAM (RFC 5802, RFC 7677) with node's own PBKDF2 and HMAC, bound to the TLS channel (-PLUS,
// tls-unique on TLS 1.2, tls-exporter on TLS 1.3) when the server offers it. @xmpp/client's bundled SCRAM-SHA-1 runs one async WebCrypto HMAC per
// PBKDF2 iteration (~0.4 s for 4096); node's pbkdf2 does the same in ~2 ms. We also check the
// server's signature in <success>, which proves the server knows our password's keys.
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Client, Element } from '@xmpp/client';
import { XmppError } from './errors.js';
import { NS_SASL, NS_SASL_CB, NS_STREAM } from './ns.js';
import type { TLSSocket } from 'node:tls';

const pbkdf2Async = promisify(pbkdf2);

type Hash = 'sha1' | 'sha256';

/** The fewest PBKDF2 iterations accepted (RFC 7677 asks for 4096 at least). */
export const MIN_ITERATIONS = 4096;
/** The most accepted: a server asking for more would only make us spin. */
export const MAX_ITERATIONS = 10_000_000;

/** What one login did: the mechanism, the binding, the keys to cache once the server proved itself. */
export interface ScramState {
  serverSignature?: Buffer;
  mechanism?: string;
  /** The channel binding type used (-PLUS mechanisms), e.g. tls-unique. */
  binding?: ChannelBindingType;
  /** The cache entry these keys belong to, and whether they came from the cache. */
  cacheId?: string;
  keys?: ScramKeys;
  fromCache?: boolean;
  /** Channel binding types the server announced (XEP-0440); undefined when it announced none. */
  serverBindings?: Set<string>;
  /** The SASL mechanisms the server offered. */
  offered?: string[];
}

export type ChannelBindingType = 'tls-unique' | 'tls-exporter';

/** The TLS channel this login runs over, as RFC 5929 / RFC 9266 define its binding. */
export interface ChannelBinding {
  type: ChannelBindingType;
  data: Buffer;
}

/** The salted keys of one password (never the password): ClientKey and ServerKey. */
export interface ScramKeys {
  clientKey: Buffer;
  serverKey: Buffer;
}

/**
 * Salted keys kept between logins (the profile's scram-keys.json). Entries are named by account,
 * hash, salt and iteration count, so a server that changes either gets a fresh PBKDF2 run.
 */
export interface ScramKeyCache {
  get(id: string): ScramKeys | undefined;
  set(id: string, keys: ScramKeys): void;
  delete(id: string): void;
}

/** How one login may bind to its channel, and where salted keys may be cached. */
export interface ScramOptions {
  /** The channel binding of the TLS session, when there is one (undefined before STARTTLS or without TLS). */
  binding?: () => ChannelBinding | undefined;
  cache?: ScramKeyCache;
  /** The account (user@domain) the cache entries are filed under. */
  account?: string;
}

/** RFC 5802 saslname: '=' and ',' escaped. */
function saslname(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function parseAttributes(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

const hmac = (hash: Hash, key: Buffer, data: string | Buffer) => createHmac(hash, key).update(data).digest();

/** PBKDF2 as SCRAM salts a password: the only slow step, skipped when the keys are cached. */
export async function saltedKeys(hash: Hash, password: string, salt: Buffer, iterations: number): Promise<ScramKeys> {
  const salted = await pbkdf2Async(password.normalize('NFKC'), salt, iterations, hash === 'sha1' ? 20 : 32, hash);
  return { clientKey: hmac(hash, salted, 'Client Key'), serverKey: hmac(hash, salted, 'Server Key') };
}

/** The client proof and the expected server signature, from the salted keys. */
export function proofFromKeys(hash: Hash, keys: ScramKeys, authMessage: string): { proof: Buffer; serverSignature: Buffer } {
  const storedKey = createHash(hash).update(keys.clientKey).digest();
  const clientSignature = hmac(hash, storedKey, authMessage);
  const proof = Buffer.alloc(keys.clientKey.length);
  for (let i = 0; i < proof.length; i++) proof[i] = keys.clientKey[i] ^ clientSignature[i];
  return { proof, serverSignature: hmac(hash, keys.serverKey, authMessage) };
}

/** The keys and proof of one SCRAM exchange (exported for tests with RFC vectors). */
export async function scramProof(
  hash: Hash,
  password: string,
  salt: Buffer,
  iterations: number,
  authMessage: string,
): Promise<{ proof: Buffer; serverSignature: Buffer }> {
  return proofFromKeys(hash, await saltedKeys(hash, password, salt, iterations), authMessage);
}

/**
 * The GS2 header (RFC 5802 §7): 'p' binds to the channel (-PLUS); 'y' says we could bind but the
 * server offered no -PLUS mechanism, so a server that does support binding sees the downgrade and
 * refuses; 'n' when there is no TLS channel to bind to.
 */
export function gs2Header(plus: boolean, binding: ChannelBinding | undefined): string {
  if (plus) {
    if (!binding) throw new XmppError('auth', 'SCRAM: a -PLUS mechanism was chosen but the TLS channel offers no binding');
    return `p=${binding.type},,`;
  }
  return binding ? 'y,,' : 'n,,';
}

/** A saslmechanisms-style mechanism class for one hash, with or without channel binding (-PLUS). */
export function mechanismFor(hash: Hash, state: ScramState, nonce: () => string, opts: ScramOptions & { plus?: boolean } = {}) {
  const name = `SCRAM-SHA-${hash === 'sha1' ? '1' : '256'}${opts.plus ? '-PLUS' : ''}`;
  return class ScramMechanism {
    private stage: 'first' | 'final' | 'done' = 'first';
    private clientFirstBare = '';
    private cnonce = '';
    private serverFirst = '';
    private gs2 = '';
    private binding?: ChannelBinding;

    async response(cred: { username: string; password: string }): Promise<string> {
      if (this.stage === 'first') {
        this.cnonce = nonce();
        this.clientFirstBare = `n=${saslname(cred.username)},r=${this.cnonce}`;
        this.binding = opts.binding?.();
        this.gs2 = gs2Header(opts.plus === true, this.binding);
        state.mechanism = name;
        if (opts.plus) state.binding = this.binding?.type;
        this.stage = 'final';
        return `${this.gs2}${this.clientFirstBare}`;
      }
      if (this.stage === 'final') {
        this.stage = 'done';
        return this.final(cred.password);
      }
      return '';
    }

    challenge(chal: string): this {
      this.serverFirst = chal;
      return this;
    }

    private async final(password: string): Promise<string> {
      const a = parseAttributes(this.serverFirst);
      const r = a.get('r') ?? '';
      const s = a.get('s') ?? '';
      const i = Number(a.get('i'));
      if (!r.startsWith(this.cnonce) || r.length <= this.cnonce.length) throw new XmppError('auth', 'SCRAM: the server nonce does not extend ours');
      if (!s) throw new XmppError('auth', 'SCRAM: the server sent no salt');
      if (!Number.isInteger(i) || i < MIN_ITERATIONS || i > MAX_ITERATIONS) {
        throw new XmppError('auth', `SCRAM: iteration count ${a.get('i') ?? '?'} refused (${MIN_ITERATIONS}–${MAX_ITERATIONS})`);
      }
      const cbind = Buffer.concat([Buffer.from(this.gs2), opts.plus && this.binding ? this.binding.data : Buffer.alloc(0)]);
      const withoutProof = `c=${cbind.toString('base64')},r=${r}`;
      const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
      const cacheId = opts.account ? `${opts.account} ${hash} ${i} ${s}` : undefined;
      const cached = cacheId ? opts.cache?.get(cacheId) : undefined;
      const keys = cached ?? (await saltedKeys(hash, password, Buffer.from(s, 'base64'), i));
      const { proof, serverSignature } = proofFromKeys(hash, keys, authMessage);
      Object.assign(state, { serverSignature, keys, cacheId, fromCache: cached !== undefined });
      return `${withoutProof},p=${proof.toString('base64')}`;
    }
  };
}

/** The mechanism names our credentials callback asks for: the server's name maps to ours. */
export const OUR_SCRAM: Record<string, string> = {
  'SCRAM-SHA-256-PLUS': 'SCRAM-SHA-256-PLUS',
  'SCRAM-SHA-1-PLUS': 'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-256': 'SCRAM-SHA-256',
  'SCRAM-SHA-1': 'XCHAT-SCRAM-SHA-1',
};

/**
 * Best first, of what the server offers: channel binding first (as libstrophe orders them), then
 * the stronger hash. -PLUS only when this channel has a binding the server accepts (XEP-0440's
 * list when it sent one).
 */
export function chooseScram(offered: readonly string[], binding?: ChannelBinding, serverBindings?: ReadonlySet<string>): string | undefined {
  const canBind = binding !== undefined && (serverBindings === undefined || serverBindings.has(binding.type));
  const order = canBind ? ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1'] : ['SCRAM-SHA-256', 'SCRAM-SHA-1'];
  const best = order.find((m) => offered.includes(m));
  return best ? OUR_SCRAM[best] : undefined;
}

/** RFC 9266 on TLS 1.3 (tls-unique is undefined there), RFC 5929 tls-unique before it. */
export function channelBindingOf(s: TLSSocket): ChannelBinding | undefined {
  if (s.getProtocol() === 'TLSv1.3') {
    return { type: 'tls-exporter', data: s.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) };
  }
  // The first Finished of the latest handshake: ours in a full handshake, the server's in a resumed one.
  const finished = s.isSessionReused() ? s.getPeerFinished() : s.getFinished();
  return finished ? { type: 'tls-unique', data: finished } : undefined;
}

/** The channel binding types a server lists in its features (XEP-0440), if it lists any. */
export function announcedBindings(features: Element): Set<string> | undefined {
  const cb = features.getChild('sasl-channel-binding', NS_SASL_CB);
  if (!cb) return undefined;
  return new Set(cb.getChildren('channel-binding').map((el) => String(el.attrs.type ?? '')));
}

/**
 * Registers our SCRAM mechanisms on a client (SCRAM-SHA-1 under an alias, since the bundled one
 * holds that name), checks the server's signature when the server says <success>, and only then
 * caches the salted keys. Keys from the cache that the server refuses are dropped.
 */
export function useScram(c: Client, fail: (e: Error) => void, opts: ScramOptions = {}, nonce: () => string = () => randomBytes(18).toString('base64')): ScramState {
  const state: ScramState = {};
  for (const [server, ours] of Object.entries(OUR_SCRAM)) {
    const mech = mechanismFor(server.includes('SHA-256') ? 'sha256' : 'sha1', state, nonce, { ...opts, plus: server.endsWith('-PLUS') });
    Object.defineProperty(mech.prototype, 'name', { value: server });
    Object.defineProperty(mech.prototype, 'clientFirst', { value: true });
    c.saslFactory.use(ours, mech);
  }
  c.prependListener('element', (el: Element) => {
    const mechanisms = el.is('features', NS_STREAM) ? el.getChild('mechanisms', NS_SASL) : undefined;
    if (mechanisms) {
      state.serverBindings = announcedBindings(el);
      state.offered = mechanisms.getChildren('mechanism').map((m) => m.text());
    }
    if (el.is('failure', NS_SASL) && state.fromCache && state.cacheId) opts.cache?.delete(state.cacheId);
    if (!el.is('success', NS_SASL) || !state.serverSignature) return;
    const v = parseAttributes(Buffer.from(el.text(), 'base64').toString('utf8')).get('v');
    const got = v ? Buffer.from(v, 'base64') : Buffer.alloc(0);
    if (got.length !== state.serverSignature.length || !timingSafeEqual(got, state.serverSignature)) {
      fail(new XmppError('auth', 'SCRAM: the server could not prove it knows the password (server signature mismatch): possible impostor, login aborted'));
      return;
    }
    if (state.cacheId && state.keys && !state.fromCache) opts.cache?.set(state.cacheId, state.keys);
  });
  return state;
}

/** How a login was secured: shown by /privacy. */
export interface LoginSecurity {
  tls?: string;
  offered?: string[];
  mechanism?: string;
  channelBinding?: ChannelBindingType;
  /** The salted keys came from the profile's cache (no PBKDF2 this time). */
  cachedKeys?: boolean;
}

export function describeLogin(state: ScramState | undefined, socket: TLSSocket | undefined): LoginSecurity {
  const tls = socket?.getProtocol() ?? undefined;
  return {
    ...(tls ? { tls } : {}),
    ...(state?.offered ? { offered: state.offered } : {}),
    ...(state?.mechanism ? { mechanism: state.mechanism } : {}),
    ...(state?.binding ? { channelBinding: state.binding } : {}),
    ...(state?.fromCache !== undefined ? { cachedKeys: state.fromCache } : {}),
  };
}
