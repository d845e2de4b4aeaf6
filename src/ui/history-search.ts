// Ctrl-R, readline's reverse incremental search: each character typed narrows the query and the
// line shows the newest history entry that contains it; Ctrl-R again goes to an older one.
import { prevBoundary } from './text-units.js';

export interface Found {
  text: string;
  /** Where the match starts in the entry (the cursor goes there, as in bash). */
  cursor: number;
}

export class HistorySearch {
  query = '';
  /** History index of the entry shown; history.length before the first match. */
  private at: number;
  failed = false;

  constructor(
    private readonly history: readonly string[],
    /** The line before the search, given back by Esc / Ctrl-G. */
    readonly saved: Found,
    /** The query of the last search, offered again by Ctrl-R Ctrl-R (as readline does). */
    private readonly previousQuery = '',
  ) {
    this.at = history.length;
  }

  prompt(): string {
    return `(${this.failed ? 'failed ' : ''}reverse-i-search)'${this.query}': `;
  }

  /** Ctrl-R: the next older entry with the query (the last search's query when empty). */
  older(): Found | undefined {
    if (this.query === '') {
      if (this.previousQuery === '' || this.at !== this.history.length) return undefined;
      this.query = this.previousQuery;
    }
    return this.find(this.at - 1);
  }

  type(s: string): Found | undefined {
    this.query += s;
    // The entry shown may still match the longer query: search from it.
    return this.find(Math.min(this.at, this.history.length - 1));
  }

  erase(): Found | undefined {
    this.query = this.query.slice(0, prevBoundary(this.query, this.query.length));
    if (this.query === '') {
      this.failed = false;
      this.at = this.history.length;
      return this.saved;
    }
    return this.find(this.history.length - 1);
  }

  /** The newest entry at or before `from` containing the query; the line stays when none does. */
  private find(from: number): Found | undefined {
    for (let i = from; i >= 0; i--) {
      const at = this.history[i].lastIndexOf(this.query);
      if (at >= 0) {
        this.at = i;
        this.failed = false;
        return { text: this.history[i], cursor: at };
      }
    }
    this.failed = true;
    return undefined;
  }
}
