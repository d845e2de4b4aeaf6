// Edits of a window's lines that need no manager state: history placed by time, lines rewritten
// by message id.
import type { Window, WindowLine } from '../commands/windows-api.js';

/**
 * A message replayed from history or the server archive: placed by time (usually above what is
 * shown), never unread, never notified, and skipped when its id is already in the window.
 * Returns whether anything was inserted.
 */
export function insertArchived(w: Window, line: WindowLine, rows: WindowLine[]): boolean {
  if (line.id && w.ids.has(line.id)) return false;
  const before = w.lines.length;
  // Insertion point: before every (multi-line) entry newer than this one.
  // Older than everything (a page from the archive): straight to the top.
  let i = before > 0 && line.time < w.lines[0].time ? 0 : before;
  while (i > 0) {
    let head = i - 1;
    while (head > 0 && w.lines[head].cont) head--;
    if (w.lines[head].time <= line.time) break;
    i = head;
  }
  if (i === before) for (const r of rows) w.lines.push(r);
  else w.lines.splice(i, 0, ...rows);
  if (line.id) w.ids.add(line.id);
  // Lines inserted below the view's bottom line would push it up: keep showing the same lines.
  if (w.scroll > 0 && i >= before - w.scroll) w.scroll += rows.length;
  return true;
}

/** Rewrites a recent line by message id (corrections only ever target recent messages). */
export function rewriteLine(w: Window, id: string, body: string, newId?: string): boolean {
  for (let i = w.lines.length - 1, n = 0; i >= 0 && n < 2000; i--, n++) {
    const l = w.lines[i];
    if (l.id === id) {
      w.lines[i] = { ...l, body, ...(newId ? { id: newId } : {}) };
      return true;
    }
  }
  return false;
}

/**
 * The stored rows of a line: sender/encryption/trust strings shared, split at newlines.
 * Multi-line text (help, lists) becomes one stored line per text line: rendering then maps
 * stored lines to rows without re-splitting thousands of lines.
 */
export class StoredRows {
  /** One copy of each sender/encryption/trust string for all lines (100 000 lines: ~MBs saved). */
  private readonly interned = new Map<string, string>();

  of(line: WindowLine): WindowLine[] {
    const head: WindowLine = { ...line };
    if (head.from !== undefined) head.from = this.intern(head.from);
    if (head.encryption !== undefined) head.encryption = this.intern(head.encryption);
    if (head.trust !== undefined) head.trust = this.intern(head.trust);
    if (!line.body.includes('\n')) return [head];
    const parts = line.body.split('\n');
    head.body = parts[0];
    return parts.map((body, i) => (i === 0 ? head : { time: line.time, body, kind: line.kind, cont: true }));
  }

  private intern<T extends string | undefined>(s: T): T {
    if (s === undefined) return s;
    const known = this.interned.get(s);
    if (known !== undefined) return known as T;
    if (this.interned.size > 10_000) this.interned.clear();
    this.interned.set(s, s);
    return s;
  }
}

