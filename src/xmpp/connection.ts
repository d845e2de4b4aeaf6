// XmppSession: one @xmpp/client connection with our own STARTTLS step (tls modes as in Profanity,
// an optional extra CA, certificate errors naming the SHA-256 fingerprint), SCRAM-only SASL,
// from-checked IQ requests, and typed events. Features live in their own files and hang off it.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { client as xmppClient, jid as parseJid, xml, type Client, type Element } from '@xmpp/client';
import { XmppError, CertificateError } from './errors.js';
import { bareJid as bareOf } from '../lib/jid.js';
export { bareJid as bareOf } from '../lib/jid.js';
import type { IqHandler, XmppErrorEvent, XmppEvents, XmppStream } from './stream.js';
export type { IqHandler, XmppErrorEvent, XmppEvents } from './stream.js';
import { Roster, type RosterItem } from './roster.js';
import { Presence, type PresenceUpdate, type SubscriptionUpdate } from './presence.js';
import { Carbons } from './carbons.js';
import { Disco, loadCapsHash } from './disco.js';
import type { EarlySocket } from './early-socket.js';
import { Pep, type DeviceListEvent } from './pep.js';
import { Messages, type IncomingMessage } from './message.js';
import { Mam } from './mam.js';
import { Muc } from './muc.js';
import { Bookmarks } from './bookmarks.js';
import { NS_SASL, NS_STREAM, NS_TLS } from './ns.js';

export type TlsMode = 'force' | 'allow' | 'disable';

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
}

interface PendingIq {
  to?: string;
  resolve: (el: Element) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class XmppSession extends EventEmitter<XmppEvents> implements XmppStream {
  client: Client | null = null;
  /** Our full JID once online. */
  jid = '';
  bareJid = '';
  domain = '';
  readonly roster: Roster;
  readonly presence: Presence;
  readonly carbons: Carbons;
  readonly disco: Disco;
  readonly pep: Pep;
  readonly messages: Messages;
  readonly mam: Mam;
  readonly muc: Muc;
  readonly bookmarks: Bookmarks;

  private iqGet: [string, string, IqHandler][] = [];
  private iqSet: [string, string, IqHandler][] = [];
  private pending = new Map<string, PendingIq>();
  private iqCounter = 0;
  private online = false;
  private timeoutMs = 10_000;

  constructor() {
    super();
    this.disco = new Disco(this);
    this.roster = new Roster(this);
    this.presence = new Presence(this, this.disco);
    this.carbons = new Carbons(this);
    this.pep = new Pep(this, this.disco);
    this.messages = new Messages(this, this.carbons);
    this.mam = new Mam(this);
    this.muc = new Muc(this, this.disco);
    this.bookmarks = new Bookmarks(this, this.pep);
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Registers an IQ get/set responder (applied to every connection). */
  handleIqGet(ns: string, name: string, h: IqHandler): void {
    this.iqGet.push([ns, name, h]);
  }
  handleIqSet(ns: string, name: string, h: IqHandler): void {
    this.iqSet.push([ns, name, h]);
  }

  emitError(message: string, extra: Omit<XmppErrorEvent, 'message'> = {}): void {
    // Many of these are caused by remote stanzas: without a listener, Node's EventEmitter would
    // throw on 'error' and let any contact crash us, so unobserved errors are dropped instead.
    if (this.listenerCount('error') === 0) return;
    this.emit('error', { message, ...extra });
  }

  async connect(opts: ConnectOptions): Promise<void> {
    if (this.client) throw new XmppError('busy', 'already connected or connecting');
    const mode: TlsMode = opts.tls ?? 'force';
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const addr = parseJid(opts.jid);
    if (!addr.local || !addr.domain) throw new XmppError('bad-jid', `not a user JID: ${opts.jid}`);
    const domain = addr.domain;
    const host = opts.server ?? domain;
    const port = opts.port ?? 5222;
    const resource = opts.resource ?? (addr.resource || undefined);
    const extraCa = opts.ca === undefined ? undefined : Array.isArray(opts.ca) ? opts.ca : [opts.ca];

    const c = xmppClient({
      service: `xmpp://${host.includes(':') ? `[${host}]` : host}:${port}`,
      domain,
      resource,
      timeout: this.timeoutMs,
      // SCRAM only: a plain password never goes over the wire, not even inside TLS.
      credentials: async (authenticate, mechanisms) => {
        if (!mechanisms.includes('SCRAM-SHA-1')) {
          throw new XmppError('auth', `server offers no SCRAM mechanism (offered: ${mechanisms.join(', ') || 'none'})`);
        }
        await authenticate({ username: addr.local, password: opts.password }, 'SCRAM-SHA-1');
      },
    });
    this.client = c;
    decodeUtf8AcrossReads(c);
    c.reconnect.stop(); // a failed connect must fail, not loop; the caller decides on retries
    if (opts.earlySocket) {
      if (opts.earlySocket.host === host && opts.earlySocket.port === port) useEarlySocket(c, opts.earlySocket);
      else opts.earlySocket.socket.destroy();
    }

    let connectError: Error | undefined;
    const fail = (e: Error) => {
      connectError ??= e;
      c.emit('error', e);
    };

    // Runs before @xmpp/client's own feature handlers: TLS policy is decided here, and when we
    // upgrade ourselves the features element is emptied so the built-in STARTTLS never runs.
    // Only the features before authentication decide on TLS: those after it (bind, sm) carry no
    // mechanisms, and judging them again once logged in would fail a login that succeeded.
    let authenticated = false;
    c.prependListener('element', (el: Element) => {
      if (el.is('success', NS_SASL)) authenticated = true;
      if (!el.is('features', NS_STREAM) || c.isSecure() || authenticated) return;
      const st = el.getChild('starttls', NS_TLS);
      const clearLogin = () => {
        if (el.getChild('mechanisms', NS_SASL)) {
          // Said before the first SASL byte: the SCRAM exchange can be cracked offline by anyone on the path.
          this.emit('warning', {
            message: `logging in to ${host} WITHOUT TLS (tls mode '${mode}'): anyone on the network can read the session and try to crack the password from the login exchange`,
          });
          return;
        }
        el.children = [];
        fail(new XmppError('auth', `${host} offers no way to log in without TLS${mode === 'disable' ? " (tls mode 'disable'; the server requires encryption)" : ''}`));
      };
      if (mode === 'disable') {
        if (st) el.children = el.children.filter((ch) => ch !== st);
        clearLogin();
        return;
      }
      if (!st) {
        if (mode === 'force') {
          el.children = [];
          fail(new XmppError('tls-unavailable', `${host} does not offer STARTTLS (tls mode 'force')`));
        } else {
          clearLogin();
        }
        return;
      }
      el.children = [];
      this.startTls(c, host, port, domain, extraCa).catch((e: Error) => fail(e));
    });

    for (const [ns, name, h] of this.iqGet) c.iqCallee.get(ns, name, h);
    for (const [ns, name, h] of this.iqSet) c.iqCallee.set(ns, name, h);

    c.on('error', (e: Error) => {
      if (this.online) this.emitError(describe(e), { error: e, condition: (e as { condition?: string }).condition });
    });
    c.on('stanza', (el: Element) => this.onStanza(el));
    c.on('offline', () => this.wentOffline('offline'));
    c.on('disconnect', (info?: { reason?: unknown }) => this.wentOffline(info?.reason ? String(info.reason) : 'disconnected'));

    let overall: NodeJS.Timeout | undefined;
    let capsHash: Promise<void> = Promise.resolve();
    try {
      const starting = c.start();
      // Loaded while the login runs (not before: the connection attempt goes out first).
      capsHash = loadCapsHash();
      capsHash.catch(() => undefined);
      // Backstop: a server that stops answering mid-negotiation must not hang connect() forever.
      const full = await Promise.race([
        starting,
        new Promise<never>((_, reject) => {
          overall = setTimeout(() => reject(new XmppError('timeout', `login to ${host}:${port} timed out`)), this.timeoutMs * 3);
        }),
      ]);
      clearTimeout(overall);
      this.jid = full.toString();
      this.bareJid = full.bare().toString();
      this.domain = domain;
    } catch (e) {
      clearTimeout(overall);
      const err = connectError ?? e;
      await this.teardown(c);
      throw toXmppError(err as Error);
    }
    this.online = true;
    try {
      await capsHash; // initial presence carries the caps hash
      await this.roster.fetch();
      await this.carbons.enable();
      // 'online' means deliverable: wait until the server reflects our initial presence back,
      // otherwise a message sent to our bare JID right now could still miss this resource.
      const echoed = new Promise<void>((resolve) => {
        const t = setTimeout(done, this.timeoutMs);
        t.unref();
        function done() {
          clearTimeout(t);
          c.off('stanza', on);
          resolve();
        }
        const on = (el: Element) => {
          if (el.is('presence') && !el.attrs.type && el.attrs.from === this.jid) done();
        };
        c.on('stanza', on);
      });
      await this.presence.sendInitial();
      await echoed;
    } catch (e) {
      this.emitError(`post-login setup failed: ${describe(e as Error)}`, { error: e as Error });
    }
    this.emit('online', { jid: this.jid });
  }

  private async startTls(c: Client, host: string, port: number, domain: string, ca?: (string | Buffer)[]): Promise<void> {
    const reply = await c.sendReceive(xml('starttls', { xmlns: NS_TLS }), this.timeoutMs);
    if (!reply.is('proceed', NS_TLS)) throw new XmppError('tls-failed', `STARTTLS refused by ${host}`);
    const raw = c.socket as unknown as net.Socket;
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({
        socket: raw,
        servername: domain,
        host: domain,
        ...(ca ? { ca: [...tls.rootCertificates, ...ca] } : {}),
      });
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    }).catch(async (e: NodeJS.ErrnoException) => {
      if (!isCertError(e)) throw new XmppError('tls-failed', `TLS handshake with ${host} failed: ${e.message}`);
      // Only to READ the fingerprint for the message: a separate probe connection that is closed
      // right after the handshake; nothing is ever sent over an unverified channel.
      const fp = await probeFingerprint(host, port, domain).catch(() => undefined);
      throw new CertificateError(e.code ?? e.message, fp, domain);
    });
    c._attachSocket(new SecureSocket(secure));
    await c.restart();
  }

  private wentOffline(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new XmppError('offline', 'connection closed'));
      this.pending.delete(id);
    }
    if (!this.online) return;
    this.online = false;
    this.emit('offline', { reason });
  }

  private async teardown(c: Client): Promise<void> {
    const sock = c.socket as unknown as { destroy?: () => void } | null;
    await Promise.race([c.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    sock?.destroy?.();
    (c.socket as unknown as { destroy?: () => void } | null)?.destroy?.();
    c.removeAllListeners();
    c.on('error', () => undefined);
    if (this.client === c) this.client = null;
  }

  async disconnect(): Promise<void> {
    const c = this.client;
    if (!c) return;
    if (this.online) {
      try {
        await this.send(xml('presence', { type: 'unavailable' }));
      } catch {
        /* going away anyway */
      }
    }
    this.wentOffline('disconnect');
    await this.teardown(c);
  }

  async send(el: Element): Promise<void> {
    // After an unexpected disconnect @xmpp keeps the client but drops its socket: writing then
    // fails deep inside with a TypeError, so say what it means.
    if (!this.client || !this.client.socket) throw new XmppError('offline', 'not connected');
    try {
      await this.client.send(el);
    } catch (e) {
      if (e instanceof TypeError && !this.client?.socket) throw new XmppError('offline', 'not connected');
      throw e;
    }
  }

  /**
   * Sends an IQ and resolves with the result stanza. The reply must come from whom we asked
   * (our own account when `to` is absent or our bare JID); a type='error' reply rejects with
   * an XmppError carrying the condition.
   */
  async iq(type: 'get' | 'set', child: Element, to?: string, timeoutMs = this.timeoutMs): Promise<Element> {
    const id = `x${Date.now().toString(36)}${(++this.iqCounter).toString(36)}`;
    const stanza = xml('iq', to ? { type, to, id } : { type, id }, child);
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new XmppError('timeout', `no answer to IQ ${child.name} ${child.attrs.xmlns ?? ''}${to ? ` from ${to}` : ''}`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { to, resolve, reject, timer });
      this.send(stanza).catch((e: Error) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(e);
      });
    });
  }

  /** True when `from` is our own account as a stanza source (absent, our bare JID, or our full JID). */
  isOwnAccount(from: string | undefined): boolean {
    if (!from) return true;
    return bareOf(from) === this.bareJid;
  }

  private replyFromOk(p: PendingIq, from: string | undefined): boolean {
    if (!p.to || p.to === this.bareJid) {
      return !from || from === this.bareJid || from === this.jid || from === this.domain;
    }
    return !!from && from.toLowerCase() === p.to.toLowerCase();
  }

  private onStanza(el: Element): void {
    try {
      if (el.name === 'iq') {
        const { type, id, from } = el.attrs;
        if ((type === 'result' || type === 'error') && id && this.pending.has(id)) {
          const p = this.pending.get(id)!;
          if (!this.replyFromOk(p, from)) {
            this.emitError(`ignored an IQ reply from ${from ?? 'our server'} to a request sent to ${p.to ?? 'our account'}`, { from });
            return;
          }
          this.pending.delete(id);
          clearTimeout(p.timer);
          if (type === 'result') p.resolve(el);
          else p.reject(stanzaError(el));
        }
      } else if (el.name === 'message') {
        if (this.pep.handleMessage(el)) return;
        if (this.mam.handleMessage(el)) return;
        if (this.muc.handleMessage(el)) return;
        this.messages.handle(el);
      } else if (el.name === 'presence') {
        if (this.muc.handlePresence(el)) return;
        this.presence.handle(el);
      }
    } catch (e) {
      this.emitError(`failed to handle a ${el.name} from ${el.attrs.from ?? 'server'}: ${describe(e as Error)}`, {
        from: el.attrs.from,
        error: e as Error,
      });
    }
  }
}

/**
 * The client's first connect() takes over `early` instead of opening a socket: @xmpp/connection's
 * connect() (status 'connecting', attach the socket, wait for 'connect') minus the socket
 * creation. A socket that already failed or closed is dropped and the client connects as usual,
 * so errors read the same as without an early socket.
 */
function useEarlySocket(c: Client, early: EarlySocket): void {
  const ownConnect = c.connect;
  c.connect = async (service: string) => {
    c.connect = ownConnect; // once: a see-other-host redirect connects normally
    if (early.dead) {
      early.socket.destroy();
      return ownConnect.call(c, service);
    }
    const transport = c._findTransport(service);
    if (!transport) throw new Error('No compatible connection method found.');
    c.Transport = transport;
    c.Socket = transport.prototype.Socket;
    c.Parser = transport.prototype.Parser;
    c._status('connecting', service);
    // As @xmpp/connection-tcp's Socket class: no TLS yet.
    const socket = Object.assign(early.socket, { secure: false });
    const alreadyConnected = !socket.connecting;
    c._attachSocket(socket);
    if (alreadyConnected) c._status('connect'); // its 'connect' event fired before we listened
    else await early.connected; // the attached listener sets the status
  };
}


export function stanzaError(el: Element): XmppError {
  const err = el.getChild('error');
  const cond = err?.getChildElements().find((c) => c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text');
  const text = err?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? undefined;
  const app = err?.getChildElements().find((c) => c.attrs.xmlns !== 'urn:ietf:params:xml:ns:xmpp-stanzas');
  const condition = cond?.name ?? 'undefined-condition';
  return new XmppError(
    condition,
    `${el.attrs.from ?? 'server'} answered with error ${condition}${app ? ` (${app.name})` : ''}${text ? `: ${text}` : ''}`,
    { from: el.attrs.from, text, application: app?.name },
  );
}

function describe(e: Error): string {
  return e?.message ?? String(e);
}

function toXmppError(e: Error): XmppError {
  if (e instanceof XmppError) return e;
  const cond = (e as { condition?: string }).condition;
  if (e?.name === 'SASLError') return new XmppError('auth', `authentication failed: ${cond ?? e.message}`);
  if (e?.name === 'StreamError') return new XmppError(cond ?? 'stream-error', `stream error: ${e.message}`);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code) return new XmppError('network', `connection failed: ${e.message}`);
  return new XmppError(cond ?? 'connect-failed', `connection failed: ${describe(e)}`);
}

function isCertError(e: NodeJS.ErrnoException): boolean {
  const code = e.code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME/.test(code);
}

/** What @xmpp/connection expects from a socket, over an already verified TLS socket. */
class SecureSocket extends EventEmitter {
  readonly secure = true;
  constructor(private readonly socket: tls.TLSSocket) {
    super();
    socket.on('data', (d: Buffer) => this.emit('data', d));
    socket.on('close', () => this.emit('close'));
    socket.on('error', (e: Error) => this.emit('error', e));
  }
  write(data: string, fn?: (err?: Error | null) => void): void {
    this.socket.write(data, fn);
  }
  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Opens a second connection, negotiates STARTTLS without verification, reads the server
 * certificate's SHA-256 fingerprint and closes. Used only to word the certificate error.
 */
export function probeFingerprint(host: string, port: number, domain: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host, port });
    let buf = '';
    let upgraded = false;
    const timer = setTimeout(() => done(new Error('probe timed out')), timeoutMs);
    const done = (err?: Error, fp?: string) => {
      clearTimeout(timer);
      raw.destroy();
      if (err || !fp) reject(err ?? new Error('no fingerprint'));
      else resolve(fp);
    };
    raw.on('error', (e) => done(e));
    raw.on('connect', () => {
      raw.write(`<?xml version='1.0'?><stream:stream to='${escapeAttr(domain)}' version='1.0' xmlns='jabber:client' xmlns:stream='${NS_STREAM}'>`);
    });
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      if (!upgraded && buf.includes('</stream:features>')) {
        buf = buf.slice(buf.indexOf('</stream:features>') + 18);
        raw.write(`<starttls xmlns='${NS_TLS}'/>`);
        upgraded = true;
      } else if (upgraded && /<proceed\b/.test(buf)) {
        raw.removeListener('data', onData);
        const t = tls.connect({ socket: raw, servername: domain, rejectUnauthorized: false });
        t.once('secureConnect', () => {
          const fp = t.getPeerCertificate()?.fingerprint256;
          t.destroy();
          done(undefined, fp);
        });
        t.once('error', (e) => done(e));
      }
    };
    raw.on('data', onData);
  });
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * @xmpp/connection 0.14 turns each socket read into a string on its own (`_onData`), so a UTF-8
 * character split across two reads (TLS records) became two U+FFFD. One decoder per socket keeps
 * the partial bytes for the next read; a new socket (after STARTTLS) starts a new decoder.
 * Private API of @xmpp/connection, pinned with @xmpp/client in package.json.
 */
export function decodeUtf8AcrossReads(c: Client): void {
  const internals = c as unknown as {
    _onData(data: Buffer | string): void;
    _attachSocket(socket: unknown): void;
    parser: { write(s: string): void } | null;
  };
  let decoder = new StringDecoder('utf8');
  const attach = internals._attachSocket.bind(c);
  internals._attachSocket = (socket: unknown) => {
    decoder = new StringDecoder('utf8');
    attach(socket);
  };
  internals._onData = (data: Buffer | string) => {
    internals.parser?.write(typeof data === 'string' ? data : decoder.write(data));
  };
}
