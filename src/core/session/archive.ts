// Reading our own archive (XEP-0313): everything since the last id we stored, and pages back
// through a window. catch-up.ts drives it.
// The session holds live messages while this runs, so everything is decrypted in archive order
// with the OMEMO manager in catch-up mode (prekeys replaced, empty replies sent, only at the end).
// Each page of our archive is one batch (PageBatch, implemented in catch-up.ts).
import type { XchatEvent } from '../api.js';
import type { ArchivePage, IncomingMessage, XmppPort } from '../ports.js';
import { logged, settled } from '../../lib/diagnostics.js';
import type { HistoryCore } from '../history.js';
import { bareJid as bareOf } from '../../lib/jid.js';

export const CATCH_UP_PAGE = 250;
export const OLDER_PAGE = 50;

/** One archive page as one batch: what it stores lands at once, or not at all (catch-up.ts). */
export interface PageBatch {
  begin(): void;
  /** Makes the page durable (its messages, OMEMO sessions, and `lastArchiveId` as the new position). */
  commit(lastArchiveId: string | undefined): Promise<void>;
  /** Forgets an unfinished page: it is read again by the next catch-up. */
  abort(): void;
}

export interface CatchUpDeps {
  xmpp: XmppPort;
  history: HistoryCore;
  account: string;
  /** Handles one message as if it had just arrived (dedupe, decrypt, store, emit). */
  process(m: IncomingMessage, archived: boolean): Promise<void>;
  /** The next live message held back while catching up. */
  nextHeld(): IncomingMessage | undefined;
  warn(message: string): void;
  page: PageBatch;
}

/** Reads everything archived since the last archive id we stored, then the held live messages. */
export async function catchUp(d: CatchUpDeps): Promise<void> {
  const store = d.history.port;
  if (store && d.xmpp.mamQuery) {
    try {
      const state = store.getSyncState(d.account);
      if (!state.initialized) {
        // A new profile: nothing in the archive was encrypted for this device; start from now.
        const page = await d.xmpp.mamQuery({ before: '', max: 1 });
        store.setSyncState(d.account, page.last ? { lastArchiveId: page.last } : {});
      } else {
        await readPages(d, d.xmpp.mamQuery.bind(d.xmpp), state.lastArchiveId);
      }
    } catch (e) {
      d.warn(`could not read the message archive (messages sent while you were away may be missing): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (let m = d.nextHeld(); m; m = d.nextHeld()) await d.process(m, false);
}

/**
 * The pages after `start`, each handled as one batch. The next page is asked for before this one
 * is decrypted (the server's answer and our decryption overlap), but it is only acted on once this
 * one is durable.
 */
async function readPages(d: CatchUpDeps, query: NonNullable<XmppPort['mamQuery']>, start: string | undefined): Promise<void> {
  const ask = (after: string | undefined) => {
    const p = query({ ...(after ? { after } : {}), max: CATCH_UP_PAGE });
    void settled(p); // its failure goes to the loop that awaits it (or to the log, below)
    return p;
  };
  let after = start;
  let next: Promise<ArchivePage> | undefined = ask(after);
  try {
    while (next) {
      const asked = next;
      next = undefined;
      const page: ArchivePage = await asked;
      // A server that stops moving forward must not loop us.
      const moved = page.last !== undefined && page.last !== after;
      next = moved && !page.complete && page.count > 0 ? ask(page.last) : undefined;
      d.page.begin();
      try {
        // Our own messages from another device are ours to that contact, as their carbons are.
        for (const m of page.messages) await d.process(bareOf(m.from) === d.account && !m.carbon ? { ...m, carbon: 'sent' } : m, true);
        await d.page.commit(moved ? page.last : undefined);
      } catch (e) {
        d.page.abort();
        throw e;
      }
      after = page.last;
    }
  } finally {
    // Left early (a failed page): the page asked ahead is not read, and its failure is no news.
    void next?.catch(logged('catch-up: the archive page asked ahead'));
  }
}

export function awaySummary(counts: Map<string, number>): XchatEvent[] {
  return [...counts].map(([jid, n]) => ({ event: 'info', message: `${n} message${n === 1 ? '' : 's'} from ${jid} while you were away` }));
}

