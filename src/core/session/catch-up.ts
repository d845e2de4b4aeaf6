// Live messages and archive catch-up in one order: while the archive is read after connecting,
// live messages are held, then everything is handled in order with the OMEMO manager in catch-up
// mode; at the end used prekeys are replaced and each new session is completed once.
//
// Each archive page is one batch, in this order (pageBatch):
//   1. the page is decrypted and stored inside one history transaction; the OMEMO sessions it
//      advances are held in memory (omemo/session-hold.ts), its messages are not shown yet;
//   2. one commit makes the messages, the changed session records (as a journal) and the new
//      archive position durable together; then the messages are shown;
//   3. the session records are written to the OMEMO store, and the journal is cleared.
// So the OMEMO state that decrypted a page is committed together with the messages it decrypted
// (as before, when each session write came before its message was stored): never after them
// (a replay would be decrypted again with keys used once already), and never alone (the page,
// read again, would no longer decrypt: its message keys are gone). A crash before 2 leaves
// nothing of the page: it is read again from the old state. A crash between 2 and 3 is repaired
// from the journal before the sessions are used again (replayJournal, also at identity load).
import type { IncomingMessage } from '../ports.js';
import type { HistoryCore } from '../history.js';
import { errText, type Online, type SessionContext } from './context.js';
import type { XchatEvent } from '../api.js';
import type { OmemoManager } from '../../omemo/manager.js';
import { logged, reportCaught } from '../../lib/diagnostics.js';
import type { Incoming } from './incoming.js';
import type { OmemoIo } from './omemo-io.js';
import { awaySummary, catchUp, type PageBatch } from './archive.js';

/** What a page shows: held until the page is stored, dropped when it is not. */
const PAGE_EVENTS = new Set<XchatEvent['event']>(['message', 'correction', 'retraction', 'receipt']);

/** Applies a committed page journal whose sessions were not all written (a crash, a disk error). */
export async function replayJournal(hist: Pick<HistoryCore, 'sessionJournal' | 'clearSessionJournal'>, omemo: OmemoManager): Promise<void> {
  const journal = hist.sessionJournal();
  if (journal.length === 0) return;
  await omemo.replaySessionJournal(journal);
  hist.clearSessionJournal();
}

export class CatchUp {
  /** Live messages held back while the archive is read. */
  private holding?: IncomingMessage[];

  constructor(
    private readonly ctx: SessionContext,
    private readonly hist: HistoryCore,
    private readonly incoming: Incoming,
    private readonly io: OmemoIo,
  ) {}

  /** A new connection: hold live messages until run() has read the archive. */
  hold(): void {
    this.holding = [];
  }

  /** A live message: handled now, or held while the archive is read. */
  receive(m: IncomingMessage): void {
    if (this.holding) {
      this.holding.push(m);
      return;
    }
    this.ctx.background(`message from ${m.from} could not be handled`, () => this.process(m, false), m.from);
  }

  /** Hands held messages to the normal path (when catch-up cannot run). */
  releaseHeld(): void {
    const held = this.holding ?? [];
    this.holding = undefined;
    for (const m of held) this.receive(m);
  }

  private process(m: IncomingMessage, archived: boolean): Promise<void> {
    return this.hist.receive(m, archived, () => this.incoming.onMessage(m));
  }

  /** Everything archived since the last archive id we stored, then the live messages held meanwhile. */
  async run(): Promise<void> {
    const link = this.ctx.online();
    const process = (msg: IncomingMessage, archived: boolean) =>
      this.process(msg, archived).catch((e) => this.ctx.error(`message from ${msg.from} could not be handled: ${errText(e)}`, msg.from));
    await replayJournal(this.hist, link.omemo).catch(logged('catch-up: replay the OMEMO session journal'));
    this.incoming.catchingUp = true;
    this.hist.startCounting();
    try {
      await catchUp({
        page: this.pageBatch(link),
        xmpp: link.xmpp,
        history: this.hist,
        account: link.jid,
        process,
        nextHeld: () => this.holding?.shift(),
        // A catch-up cut short by a lost connection is redone by the next one: no alarm then.
        warn: (message) => (this.ctx.connected ? this.ctx.warn(message) : reportCaught('catch-up on a connection that was lost', message, 'info')),
      });
    } finally {
      this.incoming.catchingUp = false;
      const rest = this.holding ?? [];
      this.holding = undefined;
      for (const msg of rest) await process(msg, false);
    }
    const fin = await link.omemo.finishCatchUp();
    if (fin.bundleChanged && this.ctx.connected) await link.xmpp.publishBundle(await link.omemo.ownBundle());
    await this.io.completeSessions(fin.emptyReplies);
    for (const e of awaySummary(this.hist.stopCounting())) this.ctx.emit(e);
  }

  /** One archive page as one batch, in the order the comment at the top explains. */
  private pageBatch(link: Online): PageBatch {
    return {
      begin: () => {
        this.hist.beginPage();
        link.omemo.beginPage();
        this.ctx.holdEvents((e) => this.hist.handlingArchived && PAGE_EVENTS.has(e.event));
      },
      commit: async (lastArchiveId) => {
        this.hist.commitPage(link.omemo.pageJournal(), lastArchiveId);
        this.ctx.releaseEvents(true);
        await link.omemo.commitPage();
        this.hist.clearSessionJournal();
      },
      abort: () => {
        this.hist.rollbackPage();
        link.omemo.dropPage();
        this.ctx.releaseEvents(false);
      },
    };
  }
}
