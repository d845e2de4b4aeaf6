// One login's client, before it is started: @xmpp/client with our SCRAM (scram.ts) as the only way
// in, our STARTTLS step and certificate policy (starttls.ts), the stream guard, and the early or
// proxied socket. XmppSession (connection.ts) starts it and owns it from then on.
import type { TLSSocket } from 'node:tls';
import { client as xmppClient, jid as parseJid, type Client } from '@xmpp/client';
import { XmppError } from './errors.js';
import { channelBindingOf, chooseScram, useScram, type ScramKeyCache, type ScramState } from './scram.js';
import { connectThroughProxy, parseProxy } from './proxy.js';
import type { KeepaliveOptions } from './keepalive.js';
import { enforceTlsPolicy, type TlsMode } from './starttls.js';
import { countInbound, decodeUtf8AcrossReads, sendWithoutDelay, stopReconnecting, useEarlySocket, type SmResumption } from './xmpp-client-private.js';
import type { EarlySocket } from './early-socket.js';

export interface ConnectOptions {
  /** Bare or full JID; a resource here is used unless `resource` is given. */
  jid: string;
  password: string;
  /** Host to connect to (default: the JID's domain; no SRV lookup). */
  server?: string;
  port?: number;
  /** force (default): fail without STARTTLS; allow: STARTTLS when offered; disable: never. */
  tls?: TlsMode;
  resource?: string;
  /** Extra trusted CA certificate(s), PEM; added to Node's default roots (which include NODE_EXTRA_CA_CERTS). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Per-step timeout in ms (default 10000). */
  timeoutMs?: number;
  /** A TCP connection to the same host and port opened earlier (early-socket.ts): used if still alive. */
  earlySocket?: EarlySocket;
  /** The SHA-256 fingerprint of the one server certificate accepted (pinned), instead of a CA. */
  tlsPin?: string;
  /** socks5h://HOST:PORT: the stream goes through this proxy (which resolves the server's name). */
  proxy?: string;
  /** When a quiet link is pinged and given up (keepalive.ts); tests shorten it. */
  keepalive?: KeepaliveOptions;
  /** The lost stream to resume (XEP-0198) instead of starting a new session, when the server still has it. */
  resume?: SmResumption;
  /** Salted SCRAM keys kept between logins (never the password); without it PBKDF2 runs each time. */
  scramKeys?: ScramKeyCache;
}

/** Where and how one login goes. */
export interface LoginTarget {
  domain: string;
  host: string;
  port: number;
}

export interface PreparedClient {
  client: Client;
  scram: ScramState;
  /** The verified TLS socket once STARTTLS is done. */
  tlsSocket: () => TLSSocket | undefined;
  /** The first reason the login could not go on, if any (a refused certificate, a broken stream). */
  connectError: () => Error | undefined;
}

/** The TCP connection through the proxy, handed to the client as if opened early. */
export async function proxiedSocket(url: string, t: LoginTarget, timeoutMs: number): Promise<EarlySocket> {
  const socket = await connectThroughProxy(parseProxy(url), t.host, t.port, timeoutMs);
  return {
    host: t.host,
    port: t.port,
    socket,
    connected: Promise.resolve(),
    get dead() {
      return socket.destroyed;
    },
  };
}

/** The client for one login: SCRAM only, no automatic reconnect, the early socket if it fits. */
export function prepareClient(
  opts: ConnectOptions,
  t: LoginTarget,
  username: string,
  hooks: { timeoutMs: number; warn: (message: string) => void; streamBroken: (c: Client, e: Error) => void },
): PreparedClient {
  let tlsSocket: TLSSocket | undefined;
  // The SCRAM state needs the client; the credentials callback runs only once both exist.
  const ref: { scram?: ScramState } = {};
  const c = xmppClient({
    service: `xmpp://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`,
    domain: t.domain,
    resource: opts.resource ?? (parseJid(opts.jid).resource || undefined),
    timeout: hooks.timeoutMs,
    // SCRAM only (ours, scram.ts): a plain password never goes over the wire, not even inside TLS.
    credentials: async (authenticate, mechanisms) => {
      const mechanism = chooseScram(mechanisms, tlsSocket ? channelBindingOf(tlsSocket) : undefined, ref.scram?.serverBindings);
      if (!mechanism) throw new XmppError('auth', `server offers no SCRAM mechanism (offered: ${mechanisms.join(', ') || 'none'})`);
      await authenticate({ username, password: opts.password }, mechanism);
    },
  });
  stopReconnecting(c); // a failed connect must fail, not loop; the caller decides on retries
  sendWithoutDelay(c);
  countInbound(c, opts.resume?.inbound);
  if (opts.earlySocket) {
    if (opts.earlySocket.host === t.host && opts.earlySocket.port === t.port) useEarlySocket(c, opts.earlySocket, { onlyThisSocket: opts.proxy !== undefined });
    else opts.earlySocket.socket.destroy();
  }
  let connectError: Error | undefined;
  const fail = (e: Error) => {
    connectError ??= e;
    c.emit('error', e);
  };
  const scram = useScram(c, fail, {
    binding: () => (tlsSocket ? channelBindingOf(tlsSocket) : undefined),
    account: `${username}@${t.domain}`,
    ...(opts.scramKeys ? { cache: opts.scramKeys } : {}),
  });
  ref.scram = scram;
  decodeUtf8AcrossReads(c, (e) => {
    fail(new XmppError('bad-stream', e.message));
    hooks.streamBroken(c, e);
  });
  const ca = opts.ca === undefined ? undefined : Array.isArray(opts.ca) ? opts.ca : [opts.ca];
  enforceTlsPolicy(c, {
    ...t,
    mode: opts.tls ?? 'force',
    ...(ca ? { ca } : {}),
    ...(opts.tlsPin ? { pin: opts.tlsPin } : {}),
    timeoutMs: hooks.timeoutMs,
    warn: hooks.warn,
    fail,
    secured: (socket) => {
      tlsSocket = socket;
    },
  });
  return { client: c, scram, tlsSocket: () => tlsSocket, connectError: () => connectError };
}
