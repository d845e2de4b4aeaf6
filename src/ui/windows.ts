// The window model of the TUI (Profanity style), kept free of any UI library so it can be unit
// tested and reused by `xchat run`: window 1 is the console, every conversation gets its own
// window. Fed by XchatEvents; the view reads windows()/current() and re-renders on subscribe().
import type { CoreApi, OlderPage, XchatEvent } from '../core/api.js';
import type { LineKind, Window, WindowLine, WindowsApi } from '../commands/windows-api.js';
import { bareAsWritten, bareJid as bare } from '../lib/jid.js';
import { formatEvent } from './event-text.js';
import { insertArchived, rewriteLine, StoredRows } from './window-lines.js';
import { olderPageText } from '../commands/history-commands.js';
import { routeEvent } from './window-events.js';
import { hitWindow, searchWords } from './search-text.js';
import { reportCaught } from '../lib/diagnostics.js';

type EventOf<K extends XchatEvent['event']> = Extract<XchatEvent, { event: K }>;

export type { LineKind, Window, WindowLine, WindowsApi } from '../commands/windows-api.js';

export interface WindowsOptions {
  /** Switching to a chat window makes it the core's current chat (plain lines go there). */
  core?: Pick<CoreApi, 'openChat' | 'currentChat'> & Partial<Pick<CoreApi, 'fetchOlder' | 'contactTrust'>>;
  /** Readable text of a non-message event (the TUI passes the CLI's formatter). */
  format?: (e: XchatEvent) => string;
  now?: () => number;
  /** Oldest lines are dropped beyond this many per window. */
  maxLines?: number;
}


export class WindowManager implements WindowsApi {
  private readonly wins = new Map<number, Window>();
  private readonly byJid = new Map<string, number>();
  private cur = 1;
  private notifyOn = true;
  private readonly listeners = new Set<() => void>();
  private readonly notifyListeners = new Set<(w: Window, line: WindowLine) => void>();
  readonly now: () => number;
  private readonly maxLines: number;
  /** The results of the last /search, for /search open N. */
  lastSearch?: EventOf<'search'>;
  /** Per window: the latest trust query asked (an older answer arriving late is dropped). */
  private readonly trustAsked = new Map<number, number>();
  private readonly format: (e: XchatEvent) => string;
  /** The terminal's size as last drawn (the App sets it): /omemo qrcode says when it does not fit. */
  screen?: { columns: number; rows: number };
  /** Bumped on every change: the view keys its re-render on it. */
  version = 0;
  /** Connection status for the console title. */
  status: { state: 'connecting' | 'online' | 'offline' | 'reconnecting'; jid?: string; retryIn?: number } = { state: 'offline' };

  constructor(private readonly opts: WindowsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.maxLines = opts.maxLines ?? 100_000;
    this.format = opts.format ?? ((e: XchatEvent) => formatEvent(e));
    this.wins.set(1, { num: 1, kind: 'console', name: 'console', lines: [], unread: 0, activity: false, scroll: 0, ids: new Set() });
  }

  // ---- reading --------------------------------------------------------------------------

  list(): readonly Window[] {
    return [...this.wins.values()].sort((a, b) => a.num - b.num);
  }

  current(): Window {
    return this.wins.get(this.cur)!;
  }

  get(num: number): Window | undefined {
    return this.wins.get(num);
  }

  chatWindow(jid: string): Window | undefined {
    const n = this.byJid.get(bare(jid));
    return n === undefined ? undefined : this.wins.get(n);
  }

  /** Called on every change (re-render). */
  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Called for messages that land in a window other than the current one, when /notify is on. */
  onNotify(l: (w: Window, line: WindowLine) => void): () => void {
    this.notifyListeners.add(l);
    return () => this.notifyListeners.delete(l);
  }

  /** Something in a window changed: redraw. */
  changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  // ---- commands -------------------------------------------------------------------------

  focus(target: number | string): Window | undefined {
    const w = typeof target === 'number' ? this.wins.get(target) : this.chatWindow(target);
    if (!w) return undefined;
    this.cur = w.num;
    w.unread = 0;
    w.activity = false;
    if (w.kind === 'chat' && w.jid && this.opts.core && this.opts.core.currentChat() !== w.jid) {
      this.opts.core.openChat(w.jid);
    }
    this.changed();
    return w;
  }

  /** Closes a chat window (default: the current one); the console cannot be closed. */
  close(num: number = this.cur): Window {
    const w = this.wins.get(num);
    if (!w) throw new Error(`no window ${num}`);
    if (w.kind === 'console') throw new Error('the console (window 1) cannot be closed');
    this.wins.delete(num);
    if (w.jid) this.byJid.delete(w.jid);
    if (this.cur === num) {
      // Profanity goes back to the console; simple and predictable.
      this.cur = 1;
      this.current().unread = 0;
      this.current().activity = false;
    }
    this.changed();
    return w;
  }

  clear(): void {
    const w = this.current();
    w.lines = [];
    w.ids.clear();
    w.scroll = 0;
    w.atStart = false; // PageUp pages history again from the top
    this.changed();
  }

  /** Closes every chat window without unread messages except the current one. */
  prune(): number[] {
    const closed: number[] = [];
    for (const w of this.list()) {
      if (w.kind === 'chat' && w.num !== this.cur && w.unread === 0) {
        this.wins.delete(w.num);
        if (w.jid) this.byJid.delete(w.jid);
        closed.push(w.num);
      }
    }
    if (closed.length) this.changed();
    return closed;
  }

  notify(on?: boolean): boolean {
    if (on !== undefined && on !== this.notifyOn) {
      this.notifyOn = on;
      this.changed();
    }
    return this.notifyOn;
  }

  /** Next (dir 1) or previous (dir -1) window, wrapping around. */
  cycle(dir: 1 | -1): Window {
    const l = this.list();
    const i = l.findIndex((w) => w.num === this.cur);
    const next = l[(i + dir + l.length) % l.length];
    return this.focus(next.num)!;
  }

  /** The next window (after the current one, wrapping) with unread messages or activity. */
  nextUnread(): Window | undefined {
    const l = this.list();
    const i = l.findIndex((w) => w.num === this.cur);
    for (let k = 1; k < l.length; k++) {
      const w = l[(i + k) % l.length];
      if (w.unread > 0) return this.focus(w.num);
    }
    for (let k = 1; k < l.length; k++) {
      const w = l[(i + k) % l.length];
      if (w.activity) return this.focus(w.num);
    }
    return undefined;
  }

  /**
   * Scrolls the current window by n lines (positive: older). At the top, asks for older messages
   * (local history, then the server archive) and says in the window what it found.
   */
  scrollBy(n: number, viewport = 1): void {
    const w = this.current();
    const max = Math.max(0, w.lines.length - 1);
    const atTop = w.scroll >= max || w.scroll + viewport >= w.lines.length;
    const core = this.opts.core;
    if (n > 0 && atTop && !w.atStart && w.kind === 'chat' && w.jid && core?.fetchOlder) this.fetchOlder(w, (jid, o) => core.fetchOlder!(jid, o), viewport);
    const s = Math.min(max, Math.max(0, w.scroll + n));
    if (s !== w.scroll) {
      w.scroll = s;
      this.changed();
    }
  }

  private fetchOlder(w: Window, fetch: NonNullable<CoreApi['fetchOlder']>, viewport: number, rounds = 3): void {
    const oldest = w.lines.find((l) => l.from !== undefined && !l.cont);
    const jid = w.jid!;
    const had = w.lines.length;
    fetch(jid, oldest ? { before: new Date(oldest.time).toISOString() } : {}).then(
      (page: OlderPage | void) => {
        if (page?.atStart) w.atStart = true; // nothing older will come: PageUp stops asking
        // Only lines already shown came (this session's own, stored too): ask for the next page.
        if (page && page.shown > 0 && !page.atStart && w.lines.length === had && rounds > 1) return this.fetchOlder(w, fetch, viewport, rounds - 1);
        const text = page ? olderPageText(jid, page) : undefined;
        if (text) this.addTopLine(w, text, viewport);
      },
      (e: unknown) => this.addLine(w, { time: this.now(), body: `cannot fetch older messages: ${e instanceof Error ? e.message : String(e)}`, kind: 'error' }),
    );
  }

  /** A line about the start of the window, shown above everything (said once). */
  private addTopLine(w: Window, body: string, viewport: number): void {
    const top = w.lines[0];
    if (top?.look === 'top') w.lines.shift(); // the newer word replaces the older one
    w.lines.unshift({ time: w.lines[0]?.time ?? this.now(), body, kind: 'info', look: 'top' });
    // Scrolled to the top (or more lines than fit): show the top, where the line is.
    if (w.scroll > 0 || w.lines.length > viewport) w.scroll = Math.max(0, w.lines.length - 1);
    this.changed();
  }

  /** Asks the core how far the contact of a chat window is trusted; the title follows. */
  refreshTrust(w: Window): void {
    const core = this.opts.core;
    if (!core?.contactTrust || !w.jid || w.room) return;
    const n = (this.trustAsked.get(w.num) ?? 0) + 1;
    this.trustAsked.set(w.num, n);
    core.contactTrust(w.jid).then(
      (t) => {
        if (this.trustAsked.get(w.num) !== n || t === w.trust) return;
        if (t) w.trust = t;
        else delete w.trust;
        this.changed();
      },
      (e: unknown) => reportCaught(`windows: trust of ${w.jid}`, e, 'info'),
    );
  }

  // ---- search ---------------------------------------------------------------------------

  private hit(n: number): EventOf<'search'>['hits'][number] {
    const hits = this.lastSearch?.hits ?? [];
    if (!this.lastSearch) throw new Error('no search yet: /search TEXT first');
    const h = hits[n - 1];
    if (!h) throw new Error(`no hit ${n}: the last search found ${hits.length}`);
    return h;
  }

  /** Hit N (from 1) of the last /search: its chat and time. */
  searchHit(n: number): { chat: string; stamp: string } {
    const h = this.hit(n);
    return { chat: hitWindow(h), stamp: h.stamp };
  }

  /** Opens hit N's window at the hit: the line shown (inserted by time if needed) with its words marked. */
  openSearchHit(n: number): Window {
    const h = this.hit(n);
    const w = this.openWindow(hitWindow(h));
    if (h.groupchat) w.room = true;
    const marks = searchWords(this.lastSearch!.text);
    let i = h.id ? w.lines.findIndex((l) => l.id === h.id) : -1;
    if (i < 0) {
      routeEvent(this, { ...h, archived: true });
      i = w.lines.findIndex((l) => (h.id ? l.id === h.id : l.time === Date.parse(h.stamp) && l.body === h.body.split('\n')[0]));
    }
    if (i >= 0) w.lines[i] = { ...w.lines[i], marks };
    this.focus(w.num);
    // The hit near the bottom of the view, a few newer lines under it.
    if (i >= 0) w.scroll = Math.max(0, w.lines.length - 1 - i - 3);
    this.changed();
    return w;
  }

  // ---- lines ----------------------------------------------------------------------------

  /** Opens (or finds) the chat window of a JID without focusing it. */
  openWindow(jid: string): Window {
    const key = bare(jid);
    const existing = this.chatWindow(key);
    if (existing) return existing;
    let num = 2;
    while (this.wins.has(num)) num++;
    const w: Window = { num, kind: 'chat', jid: key, name: bareAsWritten(jid), lines: [], unread: 0, activity: false, scroll: 0, ids: new Set() };
    this.wins.set(num, w);
    this.byJid.set(key, num);
    return w;
  }

  private readonly rows = new StoredRows();

  /** Adds a line to a window: keeps a scrolled-up view still, counts unread, notifies. */
  addLine(w: Window, line: WindowLine): void {
    const rows = this.rows.of(line);
    for (const r of rows) w.lines.push(r);
    if (line.id) w.ids.add(line.id);
    if (w.scroll > 0) w.scroll += rows.length; // do not yank a reader who scrolled up
    if (w.lines.length > this.maxLines) {
      // Drop in chunks so the array shift cost is amortized.
      const drop = w.lines.length - this.maxLines + Math.min(1000, Math.floor(this.maxLines / 10));
      for (const l of w.lines.splice(0, drop)) if (l.id) w.ids.delete(l.id);
      w.scroll = Math.min(w.scroll, Math.max(0, w.lines.length - 1));
    }
    const elsewhere = w.num !== this.cur;
    if (elsewhere) {
      if (line.kind === 'message') w.unread++;
      else w.activity = true;
    }
    // A mention rings wherever it is; other room messages do not (Profanity's default).
    const ring = line.kind === 'message' && (line.look === 'mention' || (elsewhere && !w.room));
    if (ring && this.notifyOn) for (const l of this.notifyListeners) l(w, line);
    this.changed();
  }

  /**
   * A message replayed from history or the server archive: placed by time (usually above what
   * is shown), never unread, never notified, and skipped when its id is already in the window.
   */
  addArchived(w: Window, line: WindowLine): void {
    if (insertArchived(w, line, this.rows.of(line))) this.changed();
  }

  /** Command output: always in the current window. */
  show(e: XchatEvent): void {
    this.addLine(this.current(), this.eventLine(e));
  }

  eventLine(e: XchatEvent): WindowLine {
    const kind: LineKind = e.event === 'error' ? 'error' : e.event === 'warning' ? 'warning' : 'info';
    return { time: this.now(), body: this.format(e), kind };
  }

  /** Where a non-message event about `jid` goes: its chat window if open, else the console. */
  windowFor(jid: string | undefined): Window {
    return (jid && this.chatWindow(jid)) || this.wins.get(1)!;
  }

  /** The console, window 1. */
  console(): Window {
    return this.wins.get(1)!;
  }

  /** /msg, /join and /omemo start make a chat the core's current one: its window follows. */
  followCurrent(w: Window): void {
    if (this.opts.core?.currentChat() === w.jid && this.cur !== w.num) this.focus(w.num);
    else this.changed();
  }

  /** Core events (core.on): see window-events.ts for where each kind goes. */
  handle(e: XchatEvent): void {
    routeEvent(this, e);
  }

  isOwn(jid: string | undefined): boolean {
    return !!jid && !!this.status.jid && bare(jid) === bare(this.status.jid);
  }

  /** Rewrites a recent line by message id (corrections only ever target recent messages). */
  editLine(w: Window, id: string, body: string, newId?: string): boolean {
    if (!rewriteLine(w, id, body, newId)) return false;
    this.changed();
    return true;
  }

  /** Subscribes to a core; returns the unsubscribe function. */
  attach(core: Pick<CoreApi, 'on'>): () => void {
    return core.on((e) => this.handle(e));
  }
}
