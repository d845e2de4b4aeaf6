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
  /** From the latest message / trust event: true trusted|verified, false untrusted|undecided. */
  trusted?: boolean;
  presence?: string;
  chatState?: string;
  /** Lines scrolled up from the bottom (0 = following new lines). */
  scroll: number;
  /** Message ids shown here: history replays do not duplicate live messages. */
  ids: Set<string>;
  /** A group chat: senders are nicks (drawn in their XEP-0392 colours). */
  room?: boolean;
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
}


