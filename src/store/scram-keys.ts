// The salted SCRAM keys of each account (ClientKey, ServerKey; never the password), kept in the
// profile (scram-keys.json, 0600) so a login skips PBKDF2 while the server's salt and iteration
// count stay the same. They are password-equivalent for logging in: the file is as private as
// the OMEMO keys beside it. Only the newest entry of an account is kept.
import { rename } from 'node:fs/promises';
import * as path from 'node:path';
import { JsonDoc } from './json-doc.js';
import { ensureDir } from './profile.js';
import { logged } from '../lib/diagnostics.js';

export const SCRAM_KEYS_FILE = 'scram-keys.json';

interface Entry {
  clientKey: string;
  serverKey: string;
}

interface ScramKeysDoc {
  version: 1;
  /** By entry id: "user@domain hash iterations salt". */
  keys: Record<string, Entry>;
}

export interface SaltedKeys {
  clientKey: Buffer;
  serverKey: Buffer;
}

/** The account an entry id belongs to: its first word. */
const accountOf = (id: string) => id.split(' ')[0];

export class ScramKeyStore {
  private constructor(private readonly doc: JsonDoc<ScramKeysDoc>) {}

  /** Opens `<profile>/scram-keys.json`; an unreadable one is moved aside (it is only a cache). */
  static async open(profileDir: string, onCorrupt: (message: string) => void): Promise<ScramKeyStore> {
    await ensureDir(profileDir);
    const file = path.join(profileDir, SCRAM_KEYS_FILE);
    const defaults: ScramKeysDoc = { version: 1, keys: {} };
    try {
      const doc = await JsonDoc.open<ScramKeysDoc>(file, defaults);
      if (typeof doc.data.keys !== 'object' || doc.data.keys === null) throw new Error('no key table');
      return new ScramKeyStore(doc);
    } catch (e) {
      const aside = `${file}.unreadable-${Date.now()}`;
      await rename(file, aside);
      onCorrupt(`${file} could not be read (${(e as Error).message}); moved to ${aside}: the next login computes its keys again`);
      return new ScramKeyStore(await JsonDoc.open<ScramKeysDoc>(file, defaults));
    }
  }

  get(id: string): SaltedKeys | undefined {
    const e = this.doc.data.keys[id];
    if (!e || typeof e.clientKey !== 'string' || typeof e.serverKey !== 'string') return undefined;
    return { clientKey: Buffer.from(e.clientKey, 'base64'), serverKey: Buffer.from(e.serverKey, 'base64') };
  }

  /** Replaces the account's entry. Written in the background: a failed write only costs a PBKDF2 run. */
  set(id: string, keys: SaltedKeys): Promise<void> {
    return this.doc
      .update((d) => {
        for (const other of Object.keys(d.keys)) if (accountOf(other) === accountOf(id)) delete d.keys[other];
        d.keys[id] = { clientKey: keys.clientKey.toString('base64'), serverKey: keys.serverKey.toString('base64') };
      })
      .catch(logged('scram-keys: store the salted keys'));
  }

  delete(id: string): Promise<void> {
    if (!(id in this.doc.data.keys)) return Promise.resolve();
    return this.doc
      .update((d) => {
        delete d.keys[id];
      })
      .catch(logged('scram-keys: forget refused keys'));
  }

  /** Every entry of an account goes (its password was changed, or the account removed). */
  async forget(account: string): Promise<void> {
    await this.doc.update((d) => {
      for (const id of Object.keys(d.keys)) if (accountOf(id) === account) delete d.keys[id];
    });
  }
}
