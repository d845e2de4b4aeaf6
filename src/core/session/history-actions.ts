// /history and /search over local history, and its logging mode: they work offline, on the
// default account's history.
import type { MessageEvent } from '../api.js';
import type { HistoryCore, LoggingMode } from '../history.js';
import type { SessionContext } from './context.js';
import type { Identity } from './identity.js';

export class HistoryActions {
  constructor(
    private readonly ctx: SessionContext,
    private readonly hist: HistoryCore,
    private readonly identity: Identity,
  ) {}

  async recent(n: number, jid?: string): Promise<void> {
    await this.identity.require();
    const w = this.ctx.chatFor(jid, '/history');
    let shown = 0;
    // Page by page: /history 100000 must not hold every row and event at once.
    for (const page of this.hist.recentPages(w, n)) {
      for (const e of page) this.ctx.emit(e);
      shown += page.length;
    }
    if (shown === 0) this.ctx.info(`no stored messages with ${w}`);
  }
  async search(text: string, opts: { all?: boolean; jid?: string }): Promise<void> {
    await this.identity.require();
    const w = opts.all ? undefined : this.ctx.chatFor(opts.jid, '/search (or /search all TEXT)');
    const hits = this.hist.search(text, w).filter((e): e is MessageEvent => e.event === 'message');
    this.ctx.emit({ event: 'search', text, ...(w ? { chat: w } : {}), hits });
  }
  /** A few stored messages before and after `stamp` in a window: where a search hit sits. */
  async around(jid: string, stamp: string, n = 10): Promise<void> {
    await this.identity.require();
    const chat = this.ctx.chatFor(jid, '/search open');
    for (const e of [...this.hist.around(chat, { before: stamp }, n), ...this.hist.around(chat, { after: stamp }, n)]) this.ctx.emit(e);
  }
  async logging(mode?: LoggingMode): Promise<LoggingMode> {
    await this.identity.require();
    return this.hist.logging(mode);
  }
}
