// Live messages and archive catch-up in one order: while the archive is read after connecting,
// live messages are held, then everything is handled in order with the OMEMO manager in catch-up
// mode; at the end used prekeys are replaced and each new session is completed once.
import type { IncomingMessage } from '../ports.js';
import type { HistoryCore } from '../history.js';
import { errText, type SessionContext } from './context.js';
import { reportCaught } from '../../lib/diagnostics.js';
import type { Incoming } from './incoming.js';
import type { OmemoIo } from './omemo-io.js';
import { awaySummary, catchUp, fetchOlder } from './archive.js';

export class CatchUp {
  /** Live messages held back while the archive is read. */
  private holding?: IncomingMessage[];
  /** Per window: the archive id where the next /history older page ends. */
  private readonly olderCursor = new Map<string, string>();

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
    this.incoming.catchingUp = true;
    this.hist.startCounting();
    try {
      await catchUp({
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

  /** PageUp at the top of a window: the next older page from the server archive. */
  async older(chat: string): Promise<void> {
    const link = this.ctx.online();
    const r = await fetchOlder(link.xmpp, this.hist, link.jid, chat, this.olderCursor.get(chat));
    if (r.first) this.olderCursor.set(chat, r.first);
    for (const e of r.events) this.ctx.emit(e);
    if (r.unreadable > 0) {
      this.ctx.info(`${r.unreadable} older encrypted message${r.unreadable === 1 ? '' : 's'} with ${chat} cannot be shown: not in local history, and OMEMO keys are not kept for old messages`);
    }
    if (r.complete) this.ctx.info(`no older messages with ${chat} in the archive`);
  }
}
