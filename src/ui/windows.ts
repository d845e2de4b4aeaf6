// The window model of the TUI (Profanity style), kept free of any UI library so it can be unit
// tested and reused by `xchat run`: window 1 is the console, every conversation gets its own
// window. Fed by XchatEvents; the view reads windows()/current() and re-renders on subscribe().
import type { CoreApi, XchatEvent } from '../core/api.js';
import type { LineKind, Window, WindowLine, WindowsApi } from '../commands/windows-api.js';
import { bareAsWritten, bareJid as bare, resourceOf } from '../lib/jid.js';
import { formatEvent } from './event-text.js';
import { insertArchived, rewriteLine, StoredRows } from './window-lines.js';

type EventOf<K extends XchatEvent['event']> = Extract<XchatEvent, { event: K }>;

export type { LineKind, Window, WindowLine, WindowsApi } from '../commands/windows-api.js';

export interface WindowsOptions {
  /** Switching to a chat window makes it the core's current chat (plain lines go there). */
  core?: Pick<CoreApi, 'openChat' | 'currentChat'> & Partial<Pick<CoreApi, 'fetchOlder'>>;
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
  private readonly now: () => number;
  private readonly maxLines: number;
  private readonly format: (e: XchatEvent) => string;
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

  private changed(): void {
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

  /** Scrolls the current window by n lines (positive: older); at the top asks the archive for more. */
  scrollBy(n: number): void {
    const w = this.current();
    const max = Math.max(0, w.lines.length - 1);
    if (n > 0 && w.scroll >= max && w.kind === 'chat' && w.jid && this.opts.core?.fetchOlder) {
      this.opts.core.fetchOlder(w.jid).catch((e: unknown) => this.addLine(w, { time: this.now(), body: `cannot fetch older messages: ${e instanceof Error ? e.message : String(e)}`, kind: 'error' }));
    }
    const s = Math.min(max, Math.max(0, w.scroll + n));
    if (s !== w.scroll) {
      w.scroll = s;
      this.changed();
    }
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
    if (w.num !== this.cur) {
      if (line.kind === 'message') {
        w.unread++;
        if (this.notifyOn) for (const l of this.notifyListeners) l(w, line);
      } else w.activity = true;
    }
    this.changed();
  }

  /**
   * A message replayed from history or the server archive: placed by time (usually above what
   * is shown), never unread, never notified, and skipped when its id is already in the window.
   */
  private addArchived(w: Window, line: WindowLine): void {
    if (insertArchived(w, line, this.rows.of(line))) this.changed();
  }

  /** Command output: always in the current window. */
  show(e: XchatEvent): void {
    this.addLine(this.current(), this.eventLine(e));
  }

  private eventLine(e: XchatEvent): WindowLine {
    const kind: LineKind = e.event === 'error' ? 'error' : e.event === 'warning' ? 'warning' : 'info';
    return { time: this.now(), body: this.format(e), kind };
  }

  /** Where a non-message event about `jid` goes: its chat window if open, else the console. */
  private windowFor(jid: string | undefined): Window {
    return (jid && this.chatWindow(jid)) || this.wins.get(1)!;
  }

  private onMessage(e: EventOf<'message'>): void {
    const peer = e.groupchat ? bare(e.from) : e.carbon === 'sent' ? e.to : e.from;
    const w = this.openWindow(peer);
    if (e.groupchat) w.room = true;
    // Our own room message comes back from the room; its 'sent' line already shows it.
    if (e.groupchat && e.own && !e.archived && e.id && w.ids.has(e.id)) return;
    const mine = e.carbon === 'sent' || e.own === true;
    const t = Date.parse(e.stamp);
    const line: WindowLine = {
      time: Number.isNaN(t) ? this.now() : t,
      from: mine ? 'me' : e.groupchat ? (e.nick ?? resourceOf(e.from) ?? e.from) : bare(e.from),
      body: e.body,
      kind: mine ? 'sent' : 'message',
      encryption: e.encryption,
      ...(e.trust ? { trust: e.trust } : {}),
      ...(e.id ? { id: e.id } : {}),
    };
    if (e.archived) {
      this.addArchived(w, line);
      return;
    }
    w.encryption = e.encryption;
    if (e.encryption === 'omemo' && e.trust) w.trusted = e.trust === 'trusted' || e.trust === 'verified';
    this.addLine(w, line);
    return;
  }

  private onChat(e: EventOf<'chat'>): void {
    const w = this.openWindow(e.jid);
    const before = w.encryption;
    w.encryption = e.encryption;
    if (before !== e.encryption) {
      this.addLine(w, { time: this.now(), body: e.encryption === 'omemo' ? 'messages are encrypted with OMEMO' : 'messages are NOT encrypted', kind: 'info' });
    }
    // /msg and /omemo start make the chat the core's current one: follow it.
    if (this.opts.core?.currentChat() === w.jid && this.cur !== w.num) this.focus(w.num);
    else this.changed();
    return;
  }

  /** Typing and presence: shown in an open chat window only (at login every contact reports in). */
  private onContactState(e: EventOf<'chatstate'> | EventOf<'presence'>): void {
    const w = this.chatWindow(e.event === 'chatstate' ? e.from : e.jid);
    if (!w) return;
    if (e.event === 'chatstate') {
      w.chatState = e.state;
      this.changed();
      return;
    }
    w.presence = e.status ? `${e.show}: ${e.status}` : e.show;
    this.addLine(w, this.eventLine(e));
  }

  /** A correction or retraction rewrites the line it names, else it is told as an event. */
  private onEdit(e: EventOf<'correction'> | EventOf<'retraction'>): void {
    const peer = e.carbon === 'sent' || this.isOwn(e.from) ? e.to : e.from;
    const w = this.chatWindow(peer);
    const body = e.event === 'retraction' ? '[retracted]' : `${e.body} [corrected]`;
    if (w && this.editLine(w, e.id, body, e.event === 'correction' ? e.new_id : undefined)) return;
    this.addLine(this.windowFor(peer), this.eventLine(e));
  }

  /** Core events (core.on). */
  handle(e: XchatEvent): void {
    switch (e.event) {
      case 'message':
        this.onMessage(e);
        return;
      case 'sent': {
        const w = this.openWindow(e.to);
        if (e.groupchat) w.room = true;
        w.encryption = e.encryption;
        // A message typed while offline has its pending line already: it now reads as sent.
        if (w.ids.has(e.id) && this.editLine(w, e.id, e.body)) return;
        this.addLine(w, { time: this.now(), from: 'me', body: e.body, kind: 'sent', encryption: e.encryption, id: e.id });
        return;
      }
      case 'pending':
        this.addLine(this.openWindow(e.to), { time: this.now(), from: 'me', body: `[pending] ${e.body}`, kind: 'sent', id: e.id });
        return;
      case 'chat':
        this.onChat(e);
        return;
      case 'status': {
        this.status = { state: e.status, ...(e.jid ? { jid: e.jid } : {}), ...(e.retry_in !== undefined ? { retryIn: e.retry_in } : {}) };
        this.addLine(this.wins.get(1)!, this.eventLine(e));
        return;
      }
      case 'trust': {
        const w = this.chatWindow(e.jid);
        if (w) w.trusted = e.state === 'trusted' || e.state === 'verified';
        this.addLine(this.windowFor(e.jid), this.eventLine(e));
        return;
      }
      case 'error':
        this.addLine(this.windowFor(e.from), this.eventLine(e));
        return;
      case 'warning':
        this.addLine(this.windowFor(e.jid), this.eventLine(e));
        return;
      case 'device':
        this.addLine(this.windowFor(e.jid), this.eventLine(e));
        return;
      case 'subscription':
        this.addLine(this.windowFor(e.from), this.eventLine(e));
        return;
      case 'info':
        this.addLine(this.wins.get(1)!, this.eventLine(e));
        return;
      case 'chatstate':
      case 'presence':
        this.onContactState(e);
        return;
      case 'receipt':
        return; // not shown: a line per delivered message would drown the chat
      case 'correction':
      case 'retraction':
        this.onEdit(e);
        return;
      case 'room':
      case 'occupant':
      case 'subject':
        // Room events go to the room's window once it is open (joined opens it), else the console.
        this.addLine(this.windowFor(e.room), this.eventLine(e));
        return;
      case 'invite':
        this.addLine(this.wins.get(1)!, this.eventLine(e));
        return;
      case 'progress':
        this.addLine(this.wins.get(1)!, this.eventLine(e));
        return;
      case 'file':
        this.addLine(this.windowFor(e.jid), this.eventLine(e));
        return;
      default: {
        const never: never = e;
        this.addLine(this.wins.get(1)!, this.eventLine(never));
      }
    }
  }

  private isOwn(jid: string | undefined): boolean {
    return !!jid && !!this.status.jid && bare(jid) === bare(this.status.jid);
  }

  /** Rewrites a recent line by message id (corrections only ever target recent messages). */
  private editLine(w: Window, id: string, body: string, newId?: string): boolean {
    if (!rewriteLine(w, id, body, newId)) return false;
    this.changed();
    return true;
  }

  /** Subscribes to a core; returns the unsubscribe function. */
  attach(core: Pick<CoreApi, 'on'>): () => void {
    return core.on((e) => this.handle(e));
  }
}
