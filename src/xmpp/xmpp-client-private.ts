// Every use of @xmpp/client's private API, in one place. @xmpp/client is pinned to exactly 0.14.0
// in package.json because of this file: each function names the internal it relies on, so an
// upgrade means re-reading this file against the new @xmpp/connection source. The internals are
// typed here (ClientInternals), not in xmpp-modules.d.ts, so no other file can reach them.
import type net from 'node:net';
import type tls from 'node:tls';
import { EventEmitter } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { Client, Element } from '@xmpp/client';
import type { EarlySocket } from './early-socket.js';
import { logged } from '../lib/diagnostics.js';

/** @xmpp/xml's Parser: its ltx parser emits every start and end tag; 'element' per stanza. */
interface ParserInternals {
  write(s: string): void;
  on(event: 'element' | 'start', l: () => void): void;
  parser: { on(event: 'startElement' | 'endElement', l: () => void): void };
}

/** What this file uses of @xmpp/connection, @xmpp/client-core and @xmpp/reconnect 0.14 beyond their documented API. */
interface ClientInternals {
  socket: unknown;
  parser: ParserInternals | null;
  reconnect: { stop(): void };
  connect(service: string): Promise<unknown>;
  sendReceive(el: Element, timeout?: number): Promise<Element>;
  restart(): Promise<unknown>;
  _onData(data: Buffer | string): void;
  _attachSocket(socket: unknown): void;
  _findTransport(service: string): (new (...args: never[]) => unknown) & { prototype: { Socket: unknown; Parser: unknown } } | undefined;
  _status(status: string, ...args: unknown[]): void;
  Transport: unknown;
  Socket: unknown;
  Parser: unknown;
}

function internalsOf(c: Client): ClientInternals {
  return c as unknown as ClientInternals;
}

/** No automatic reconnect: a failed connect must fail, not loop. Internal: `reconnect.stop()` (undocumented). */
export function stopReconnecting(c: Client): void {
  internalsOf(c).reconnect.stop();
}

/**
 * Calls `fn` on every element before @xmpp/middleware (and so @xmpp/stream-features, with its
 * built-in STARTTLS) sees it: a feature removed from a <stream:features/> element here (see
 * withholdFeatures) is never negotiated by @xmpp/client. Internals: the connection's 'element'
 * event, and that the middleware listens to it with an ordinary (appended) listener.
 */
export function beforeFeatureHandlers(c: Client, fn: (el: Element) => void): void {
  c.prependListener('element', fn);
}

/** Hides `feature` (or, without one, every feature) of a <stream:features/> element from @xmpp/client's handlers. */
export function withholdFeatures(features: Element, feature?: Element): void {
  features.children = feature ? features.children.filter((ch) => ch !== feature) : [];
}

/** Sends a nonza and waits for the next element. Internal: `sendReceive`. */
export function sendReceive(c: Client, el: Element, timeoutMs: number): Promise<Element> {
  return internalsOf(c).sendReceive(el, timeoutMs);
}

/** Deeper than this, a stanza is an attack on the parser (real ones nest a dozen levels). */
export const MAX_STANZA_DEPTH = 128;
/** Larger than this, a stanza is an attack on memory (file transfers go over HTTP, not XML). */
export const MAX_STANZA_CHARS = 4 * 1024 * 1024;

/**
 * Guards what the server sends before it reaches @xmpp's parser, and decodes it properly:
 * - @xmpp/connection 0.14 turns each socket read into a string on its own (`_onData`), so a UTF-8
 *   character split across two reads (TLS records) became two U+FFFD. One decoder per socket
 *   keeps the partial bytes for the next read; a new socket (after STARTTLS) starts a new one.
 * - ltx throws from inside `write` on an illegal character reference or an undefined entity,
 *   which from a socket's 'data' handler would be an uncaught exception. A stanza nested too deep
 *   or too large is refused as well. Each ends the stream: `broken` is told once and no more of
 *   it is parsed.
 * Internals: `_onData`, `_attachSocket`, `parser` (and its ltx parser's events).
 */
export function decodeUtf8AcrossReads(c: Client, broken: (e: Error) => void = () => undefined): void {
  const internals = internalsOf(c);
  let decoder = new StringDecoder('utf8');
  let depth = 0;
  let chars = 0;
  let dead = false;
  const watched = new WeakSet<object>();
  const stop = (why: string) => {
    if (dead) return;
    dead = true;
    broken(new Error(`the server sent ${why}; the connection is closed`));
  };
  const watch = (parser: ParserInternals | null) => {
    if (!parser || watched.has(parser)) return;
    watched.add(parser);
    if (typeof parser.on !== 'function' || !parser.parser) return; // not @xmpp/xml's Parser: nothing to count
    depth = 0;
    chars = 0;
    parser.parser.on('startElement', () => {
      if (++depth > MAX_STANZA_DEPTH + 1) stop(`XML nested deeper than ${MAX_STANZA_DEPTH} levels`);
    });
    parser.parser.on('endElement', () => void depth--);
    // Counted per stanza: from the stream's start tag, then from the end of each stanza.
    parser.on('start', () => void (chars = 0));
    parser.on('element', () => void (chars = 0));
  };
  const attach = internals._attachSocket.bind(c);
  internals._attachSocket = (socket: unknown) => {
    decoder = new StringDecoder('utf8');
    dead = false;
    attach(socket);
  };
  internals._onData = (data: Buffer | string) => {
    if (dead) return;
    const text = typeof data === 'string' ? data : decoder.write(data);
    watch(internals.parser);
    chars += text.length;
    if (chars > MAX_STANZA_CHARS) return stop(`a stanza larger than ${MAX_STANZA_CHARS / 1024 / 1024} MiB`);
    try {
      internals.parser?.write(text);
    } catch (e) {
      stop(`malformed XML (${e instanceof Error ? e.message : String(e)})`);
    }
  };
}

/**
 * The client's first connect() takes over `early` instead of opening a socket: @xmpp/connection's
 * connect() (status 'connecting', attach the socket, wait for 'connect') minus the socket
 * creation. A socket that already failed or closed is dropped and the client connects as usual,
 * so errors read the same as without an early socket.
 * Internals: `connect`, `_findTransport`, `Transport`, `Socket`, `Parser`, `_status`, `_attachSocket`.
 */
export function useEarlySocket(c: Client, early: EarlySocket, opts: { onlyThisSocket?: boolean } = {}): void {
  const internals = internalsOf(c);
  const ownConnect = internals.connect.bind(c);
  // Through a proxy, no other connection may ever be opened (a redirect, a dead socket): it would
  // go around the proxy.
  const next = opts.onlyThisSocket
    ? () => Promise.reject(new Error('the connection through the proxy is gone; no direct connection is made'))
    : ownConnect;
  internals.connect = async (service: string) => {
    internals.connect = next; // once: a see-other-host redirect connects normally (not through a proxy)
    if (early.dead) {
      early.socket.destroy();
      return next(service);
    }
    const transport = internals._findTransport(service);
    if (!transport) throw new Error('No compatible connection method found.');
    internals.Transport = transport;
    internals.Socket = transport.prototype.Socket;
    internals.Parser = transport.prototype.Parser;
    internals._status('connecting', service);
    // As @xmpp/connection-tcp's Socket class: no TLS yet.
    const socket = Object.assign(early.socket, { secure: false });
    const alreadyConnected = !socket.connecting;
    internals._attachSocket(socket);
    if (alreadyConnected) internals._status('connect'); // its 'connect' event fired before we listened
    else await early.connected; // the attached listener sets the status
  };
}

/** The TCP socket under the stream, for our own STARTTLS step. Internal: `socket`. */
export function rawSocket(c: Client): net.Socket {
  return internalsOf(c).socket as net.Socket;
}

/** Puts a verified TLS socket under the stream and restarts the stream on it. Internals: `_attachSocket`, `restart`. */
export async function upgradeToTls(c: Client, secure: tls.TLSSocket): Promise<void> {
  const internals = internalsOf(c);
  internals._attachSocket(new SecureSocket(secure));
  await internals.restart();
}

/** The socket the client holds now (stop() may drop it before it is closed). Internal: `socket`. */
export function currentSocket(c: Client): { destroy?: () => void } | null {
  return internalsOf(c).socket as { destroy?: () => void } | null;
}

/** Destroys whatever socket the client holds now. Internal: `socket`. */
export function destroySocket(c: Client): void {
  (internalsOf(c).socket as { destroy?: () => void } | null)?.destroy?.();
}

/** True while the client still has a socket to write to. Internal: `socket`. */
export function hasSocket(c: Client): boolean {
  return !!internalsOf(c).socket;
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
 * Stanzas sent on this stream that the server never acknowledged (XEP-0198, as @xmpp's
 * stream-management tracks them). Internal: `streamManagement.outbound_q`.
 */
export function unackedStanzas(c: Client): Element[] {
  const sm = (c as unknown as { streamManagement?: { outbound_q?: { stanza: Element }[] } }).streamManagement;
  return (sm?.outbound_q ?? []).map((item) => item.stanza);
}

/** What a lost stream leaves for resuming it (XEP-0198): its id, both counters and the unacked queue. */
export interface SmResumption {
  id: string;
  inbound: number;
  outbound: number;
  queue: { stanza: Element; stamp: string }[];
  /** The full JID bound on that stream: a resumed stream keeps it. */
  jid: string;
}

interface SmInternals extends EventEmitter {
  id: string;
  enabled: boolean;
  inbound: number;
  outbound: number;
  outbound_q: { stanza: Element; stamp: string }[];
}

function smOf(c: Client): SmInternals | undefined {
  return (c as unknown as { streamManagement?: SmInternals }).streamManagement;
}

/**
 * The resumable state of a stream that broke (taken before @xmpp clears it on 'offline'), or
 * undefined when the server did not enable resumption. Internals: `streamManagement.{id,
 * inbound, outbound, outbound_q}`.
 */
export function smResumption(c: Client, jid: string): SmResumption | undefined {
  const sm = smOf(c);
  if (!sm?.id) return undefined;
  return { id: sm.id, inbound: inboundCounts.get(c)?.() ?? sm.inbound, outbound: sm.outbound, queue: [...sm.outbound_q], jid };
}

const NS_SM = 'urn:xmpp:sm:3';
const inboundCounts = new WeakMap<Client, () => number>();

/**
 * Counts the stanzas received since <enabled/> (or since <resumed/>, from the resumed count) as
 * XEP-0198's 'h', and makes it @xmpp's counter too. @xmpp resets its own only when the enable
 * step's promise continues — after a stanza or an <r/> read together with <enabled/> was already
 * handled — so its 'h' could be one short (a resume then replayed a message already shown) or,
 * after a refused resume, still the old stream's (the server closed the stream for acknowledging
 * more than it sent). Internal: `streamManagement.inbound`, made an accessor over our count.
 */
export function countInbound(c: Client, resumedFrom?: number): void {
  // A resume sends the old stream's count in <resume h=…/>; a new stream counts from <enabled/>.
  let count = resumedFrom ?? 0;
  c.prependListener('element', (el: Element) => {
    if (el.is('enabled', NS_SM) || el.is('failed', NS_SM)) count = 0;
    else if (el.name === 'message' || el.name === 'presence' || el.name === 'iq') count++;
  });
  const sm = smOf(c);
  // @xmpp's own writes (its increment, its late reset, a restored value) are ignored: ours is 'h'.
  if (sm) Object.defineProperty(sm, 'inbound', { get: () => count, set: () => undefined, configurable: true });
  inboundCounts.set(c, () => count);
}

/**
 * Prepares a new client to resume `r` instead of binding a new resource: @xmpp's stream feature
 * sends <resume/> when `sm.id` is set. Calls `onResumed` when the server accepted it; @xmpp then
 * marks the client online without its 'online' event, so start() alone would never settle.
 * Internals: `streamManagement`, `_jid`.
 */
export function resumeOn(c: Client, r: SmResumption, onResumed: () => void): void {
  const sm = smOf(c);
  if (!sm) return;
  Object.assign(sm, { id: r.id, inbound: r.inbound, outbound: r.outbound, outbound_q: [...r.queue] });
  (c as unknown as { _jid(id: string): void })._jid(r.jid);
  sm.once('resumed', onResumed);
}

/**
 * @xmpp/connection's start() (connect, open, wait for 'online') without its leak: when open()
 * fails, start() leaves its 'online' wait pending, and the next 'error' rejects it unhandled
 * (one per failed attempt, e.g. each reconnect to a network that is down). The error is the
 * one open() already threw. Internals: `status`, `options`, `connect`, `open`.
 */
export async function startStream(c: Client): Promise<ReturnType<Client['start']> extends Promise<infer J> ? J : never> {
  const conn = c as unknown as {
    status: string;
    options: { service: string; domain: string; lang?: string };
    connect(service: string): Promise<void>;
    open(o: { domain: string; lang?: string }): Promise<unknown>;
  };
  if (conn.status !== 'offline') throw new Error('Connection is not offline');
  const { service, domain, lang } = conn.options;
  await conn.connect(service);
  type Jid = ReturnType<Client['start']> extends Promise<infer J> ? J : never;
  const online = new Promise<Jid>((resolve, reject) => {
    const onOnline = (jid: Jid) => {
      c.off('error', onError);
      resolve(jid);
    };
    const onError = (e: Error) => {
      c.off('online', onOnline);
      reject(e);
    };
    c.once('online', onOnline);
    c.once('error', onError);
  });
  online.catch(logged('xmpp: the login ended before online (open() reports why)'));
  await conn.open({ domain, ...(lang ? { lang } : {}) });
  return online;
}

/**
 * Turns Nagle's algorithm off on every socket the client attaches. XMPP is a conversation of small
 * writes: with Nagle on, each answer waited for the peer's delayed ACK (40 ms on Linux), four
 * times in a login (TLS, stream restart, roster, presence). Internal: `_attachSocket`.
 */
export function sendWithoutDelay(c: Client): void {
  const internals = c as unknown as { _attachSocket(socket: unknown): void };
  const attach = internals._attachSocket.bind(c);
  internals._attachSocket = (socket: unknown) => {
    (socket as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    attach(socket);
  };
}
