// PLACEHOLDER written by the CLI engineer so src/cli.ts compiles; the lead replaces this file with
// the real factory (AccountSession wired to src/xmpp and src/store).
import type { CoreApi } from './api.js';

export interface CreateAccountSessionOptions {
  profileDir: string;
  json?: boolean;
  /** --account: the account used before /connect (offline fingerprint, trust). */
  account?: string;
}

export async function createAccountSession(_opts: CreateAccountSessionOptions): Promise<CoreApi & { close(): Promise<void> }> {
  throw new Error('core not built yet');
}
