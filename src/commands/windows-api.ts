// What the commands need from a front end's windows (/win, /wins, /close, /clear, /notify), and
// the window model the TUI shows (src/ui/windows.ts implements it). Absent in `xchat run`.
import type { Encryption } from '../core/api.js';
import type { TrustState } from '../omemo/store.js';

export type LineKind = 'message' | 'sent' | 'info' | 'error' | 'warning';

export interface WindowLine {
  /** ms since epoch */
  time: number;
  /** Shown before the body ('me' for our own messages); absent for info lines. */
  from?: string;
  body: string;
  kind: LineKind;
  encryption?: Encryption;
  trust?: TrustState;
  /** Message id, so corrections/retractions can find the line. */
  id?: string;
  /** A continuation line of multi-line text (shown without time). */
  cont?: boolean;
  /** How the whole line looks: a room event (join, leave, other), a message naming our nick, what the top of the window says. */
  look?: 'join' | 'leave' | 'room' | 'mention' | 'top';
  /** Words shown marked (the hits of /search). */
  marks?: string[];
}

export interface Window {
  /** 1 = console; chat windows take the lowest free number from 2 on (10 is shown as 0 on keys). */
  num: number;
  kind: 'console' | 'chat';
  /** Bare JID (lower case) of a chat window. */
  jid?: string;
  /** Display name: 'console' or the bare JID as first seen. */
  name: string;
  lines: WindowLine[];
  /** Messages received while the window was not the current one. */
  unread: number;
  /** Something other than a message (info, error) arrived while not current. */
  activity: boolean;
  encryption?: Encryption;
  /** The contact's trust as the core reports it (all of their devices), for the title and status bar. */
  trust?: TrustState;
  presence?: string;
  chatState?: string;
  /** Lines scrolled up from the bottom (0 = following new lines). */
  scroll: number;
  /** Message ids shown here: history replays do not duplicate live messages. */
  ids: Set<string>;
  /** A group chat: senders are nicks (drawn in their XEP-0392 colours). */
  room?: boolean;
  /** Our nick in the room (a message naming it is a mention). */
  nick?: string;
  /** The chat's encryption is decided once online (opened offline, nothing known yet). */
  encryptionPending?: boolean;
  /** PageUp reached the start of the conversation: nothing older exists. */
  atStart?: boolean;
}

/** Narrow interface the command table uses (/win, /wins, /close, /clear, /notify). */
export interface WindowsApi {
  list(): readonly Window[];
  current(): Window;
  /** By number or JID; undefined when there is no such window. */
  focus(target: number | string): Window | undefined;
  close(num?: number): Window;
  clear(): void;
  prune(): number[];
  notify(on?: boolean): boolean;
  /** Hit N (from 1) of the last /search: its chat and time; throws when there is none. */
  searchHit(n: number): { chat: string; stamp: string };
  /** Shows hit N in its window, at its place, its words marked. */
  openSearchHit(n: number): Window;
  /** The terminal's size as last drawn (columns × rows), when known. */
  screen?: { columns: number; rows: number };
}



/** A theme /theme list shows. */
export interface ThemeListing {
  name: string;
  description: string;
  /** 'built-in', or the theme file's path. */
  source: string;
  current: boolean;
}

/** What /theme needs from the TUI: its themes, the one in use, and the terminal's colours. */
export interface ThemesApi {
  list(): Promise<ThemeListing[]>;
  /** Uses theme NAME now and from the next start on; returns what was loaded. */
  load(name: string): Promise<ThemeListing>;
  current(): string;
  /** How many colours the terminal shows, and why: "256 colours (TERM=xterm-256color)". */
  colours(): string;
}
