// Builds an account session on a profile directory: stores, lock, and the XMPP floor.
import type { CoreApi } from './api.js';
import { AccountSession } from './account-session.js';
import { createXmppPort } from './xmpp-port.js';
import { acquireLock, ensureDir } from '../store/profile.js';
import { AccountStore } from '../store/account-store.js';
import { FileOmemoStore, omemoDirFor } from '../store/omemo-file-store.js';
import { HistoryStore } from '../store/history.js';

export { AccountSession } from './account-session.js';
export type * from './api.js';

export interface CreateAccountSessionOptions {
  profileDir: string;
  json?: boolean;
  /** --account: the account used before /connect (offline fingerprint, trust). */
  account?: string;
}

export async function createAccountSession(
  opts: CreateAccountSessionOptions,
): Promise<CoreApi & { close(): Promise<void> }> {
  await ensureDir(opts.profileDir);
  // Two writers on one profile would corrupt ratchet state: one running instance per profile.
  const lock = await acquireLock(opts.profileDir);
  try {
    const accounts = await AccountStore.open(opts.profileDir);
    const configured = await accounts.list();
    const defaultJid = opts.account ?? (configured.length > 0 ? configured[0].jid : undefined);
    const history = HistoryStore.open(opts.profileDir);
    const session = new AccountSession({
      accounts,
      openOmemoStore: (jid) => FileOmemoStore.open(omemoDirFor(opts.profileDir, jid)),
      createXmpp: createXmppPort,
      defaultJid,
      history,
    });
    return Object.assign(session, {
      async close() {
        try {
          if (session.isConnected()) await session.disconnect();
          else await session.drain();
        } finally {
          history.close();
          await lock.release();
        }
      },
    });
  } catch (e) {
    await lock.release();
    throw e;
  }
}
