// The state every part of one account session shares, and the few helpers they all use. Parts
// (device lists, OMEMO I/O, incoming, catch-up, chats, outgoing, OMEMO commands, contacts) get
// this object instead of reaching back into the session through callbacks.
import type { AccountSettings, Encryption, ErrorReason, OmemoPolicy, TrustMode, XchatEvent } from '../api.js';
import type { EarlyConnection, XmppConnectParams, XmppPort } from '../ports.js';
import type { OmemoManager } from '../../omemo/manager.js';
import type { OmemoStore } from '../../omemo/store.js';
import type { HistoryPort } from '../history.js';
import type { OutboxPort } from '../../store/outbox.js';
import type { ScramKeyStore } from '../../store/scram-keys.js';
import { SerialQueue } from '../serial.js';
import { bareJid } from '../../lib/jid.js';
import { reportCaught, settled } from '../../lib/diagnostics.js';

export interface AccountStorePort {
  list(): Promise<AccountSettings[]>;
  get(jid: string): Promise<AccountSettings | undefined>;
  add(jid: string): Promise<void>;
  set(jid: string, key: keyof AccountSettings, value: string | number): Promise<void>;
  remove(jid: string): Promise<void>;
  getChatPolicy(jid: string): Promise<Encryption | undefined>;
  setChatPolicy(jid: string, enc: Encryption | undefined): Promise<void>;
}

export interface AccountSessionDeps {
  /** OMEMO state is per account: each JID has its own identity, sessions and trust. */
  openOmemoStore: (jid: string) => Promise<OmemoStore>;
  /** The account used before /connect (offline fingerprint, trust): --account or the only one. */
  defaultJid?: string;
  accounts: AccountStorePort;
  createXmpp: () => XmppPort;
  /** A connection already under way for exactly these parameters, if any (taken at most once). */
  takeEarlyConnection?: (params: XmppConnectParams) => EarlyConnection | undefined;
  env?: NodeJS.ProcessEnv;
  /** Local message history (src/store/history.ts); without it nothing is stored. */
  history?: HistoryPort;
  /** The profile's list of partial downloads under way (files.ts). */
  partialsJournal?: string;
  /** --proxy: every account's connections and transfers go through this SOCKS5 proxy. */
  proxy?: string;
  /** Messages typed while offline (src/store/outbox.ts); without it they are refused as before. */
  outbox?: OutboxPort;
  /** Salted SCRAM keys between logins (src/store/scram-keys.ts); without it PBKDF2 runs each login. */
  scramKeys?: ScramKeyStore;
  /** Delay before reconnect attempt n (default: backoff, 1 s doubling to 60 s); tests shorten it. */
  reconnectDelay?: (attempt: number) => number;
}

/** The account whose identity is loaded: online, or offline for fingerprints and trust. */
export interface Account {
  jid: string;
  omemo: OmemoManager;
}

/** The connection: the optional fields of old as one tagged union. */
export type Link = { state: 'offline' } | { state: 'online'; xmpp: XmppPort; fullJid: string; jid: string; omemo: OmemoManager };
export type Online = Extract<Link, { state: 'online' }>;

export class SessionContext {
  readonly queue = new SerialQueue();
  readonly listeners = new Set<(e: XchatEvent) => void>();
  /** Errors and warnings emitted before anyone listened. */
  private readonly unheard: XchatEvent[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  link: Link = { state: 'offline' };
  /** The XMPP port of the last connection (also while it is reconnecting or offline). */
  port?: XmppPort;
  account?: Account;
  policy: OmemoPolicy = 'automatic';
  trustMode: TrustMode = 'btbv';
  /** The chat plain lines go to. */
  current?: string;
  /** Decorates each event before listeners see it (local history). */
  decorate: (e: XchatEvent) => XchatEvent = (e) => e;
  /** Sees each event after decoration (received file links). */
  observe: (e: XchatEvent) => void = () => undefined;
  /** While an archive page is open: its events, shown once it is stored (catch-up.ts). */
  private held?: { test: (e: XchatEvent) => boolean; events: XchatEvent[] };

  constructor(readonly deps: AccountSessionDeps) {}

  emit(e: XchatEvent): void {
    try {
      e = this.decorate(e);
    } catch (err) {
      // History trouble (disk full…) must not cost the user the message itself.
      reportCaught('history: store an event', err);
      if (e.event === 'message' || e.event === 'sent') this.error(`could not store a message in local history: ${errText(err)}`);
    }
    if (this.held?.test(e)) {
      this.held.events.push(e);
      return;
    }
    this.deliver(e);
  }

  /** Holds the events `test` picks until releaseEvents(). */
  holdEvents(test: (e: XchatEvent) => boolean): void {
    this.held = { test, events: [] };
  }

  /** Ends holding: the held events are shown (`show`), or dropped (their page is read again). */
  releaseEvents(show: boolean): void {
    const events = this.held?.events ?? [];
    this.held = undefined;
    if (show) for (const e of events) this.deliver(e);
  }

  private deliver(e: XchatEvent): void {
    this.observe(e);
    if (this.listeners.size === 0 && (e.event === 'error' || e.event === 'warning')) {
      // Said while opening the profile, before a front end listens: kept for the first listener.
      if (this.unheard.length < 50) this.unheard.push(e);
      return;
    }
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        // A broken listener must not stop the others or the session.
        reportCaught(`listener for a ${e.event} event`, err);
      }
    }
  }

  /** Adds a listener; the first one also gets what was said before it. */
  listen(listener: (e: XchatEvent) => void): () => void {
    this.listeners.add(listener);
    for (const e of this.unheard.splice(0)) listener(e);
    return () => this.listeners.delete(listener);
  }

  error(message: string, from?: string, reason?: ErrorReason): void {
    this.emit({ event: 'error', message, ...(from ? { from } : {}), ...(reason ? { reason } : {}) });
  }

  warn(message: string, extra: { jid?: string; devices?: number[] } = {}): void {
    this.emit({ event: 'warning', message, ...extra });
  }

  info(message: string): void {
    this.emit({ event: 'info', message });
  }

  /** Tracks a background task so drain() can wait for it; its failure goes to whoever awaits it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void settled(p).finally(() => this.pending.delete(p));
    return p;
  }

  /** Runs `fn` on the session queue in the background; a failure becomes an error event. */
  background(what: string, fn: () => Promise<unknown>, from?: string): void {
    this.track(this.queue.run(fn)).catch((e) => this.error(`${what}: ${errText(e)}`, from));
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.queue.idle();
  }

  get connected(): boolean {
    return this.link.state === 'online';
  }

  /** The connection, or the error every action that needs one gives. */
  online(): Online {
    if (this.link.state !== 'online') throw new Error('not connected: use /connect JID first');
    return this.link;
  }

  /** The connection when there is one. */
  onlineOrUndefined(): Online | undefined {
    return this.link.state === 'online' ? this.link : undefined;
  }

  /** The chat a command names, else the current one. */
  chatFor(jid: string | undefined, what: string): string {
    const chat = jid ? bareJid(jid) : this.current;
    if (!chat) throw new Error(`no current chat: ${what} needs a chat (/msg JID first)`);
    return chat;
  }
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
