// Messages typed while offline, kept in the profile (outbox.json, written durably) until they have
// gone out, so neither a lost connection nor a restart loses them. Each keeps the id it is sent
// with (also its origin-id), so a message sent again after a crash is recognised by receivers.
import { rename } from 'node:fs/promises';
import * as path from 'node:path';
import { JsonDoc } from './json-doc.js';
import { ensureDir } from './profile.js';

export const OUTBOX_FILE = 'outbox.json';

export interface OutboxEntry {
  id: string;
  /** Our bare JID: the account that sends it. */
  account: string;
  to: string;
  body: string;
  /** ISO time it was typed. */
  queuedAt: string;
}

interface OutboxDoc {
  version: 1;
  messages: OutboxEntry[];
}

/** What the session needs from the outbox (a memory one serves tests). */
export interface OutboxPort {
  list(account: string): OutboxEntry[];
  add(entry: OutboxEntry): Promise<void>;
  remove(id: string): Promise<void>;
}

export class OutboxStore implements OutboxPort {
  private constructor(private readonly doc: JsonDoc<OutboxDoc>) {}

  /**
   * Opens `<profile>/outbox.json`. A file that cannot be read is moved aside (never deleted) and
   * reported through `onCorrupt`; the outbox then starts empty.
   */
  static async open(profileDir: string, onCorrupt: (message: string) => void): Promise<OutboxStore> {
    await ensureDir(profileDir);
    const file = path.join(profileDir, OUTBOX_FILE);
    const defaults: OutboxDoc = { version: 1, messages: [] };
    try {
      const doc = await JsonDoc.open<OutboxDoc>(file, defaults);
      if (!Array.isArray(doc.data.messages)) throw new Error('no message list');
      return new OutboxStore(doc);
    } catch (e) {
      const aside = `${file}.unreadable-${Date.now()}`;
      await rename(file, aside);
      onCorrupt(`the outbox ${file} could not be read (${e instanceof Error ? e.message : String(e)}); it was moved to ${aside} and the messages in it were not sent`);
      return new OutboxStore(await JsonDoc.open<OutboxDoc>(file, defaults));
    }
  }

  list(account: string): OutboxEntry[] {
    return this.doc.data.messages.filter((m) => m.account === account);
  }

  add(entry: OutboxEntry): Promise<void> {
    return this.doc.update((d) => {
      d.messages.push(entry);
    });
  }

  remove(id: string): Promise<void> {
    return this.doc.update((d) => {
      d.messages = d.messages.filter((m) => m.id !== id);
    });
  }
}

/** An outbox in memory (tests, sessions without a profile). */
export class MemoryOutbox implements OutboxPort {
  private readonly messages: OutboxEntry[] = [];
  list(account: string): OutboxEntry[] {
    return this.messages.filter((m) => m.account === account);
  }
  async add(entry: OutboxEntry): Promise<void> {
    this.messages.push(entry);
  }
  async remove(id: string): Promise<void> {
    const i = this.messages.findIndex((m) => m.id === id);
    if (i >= 0) this.messages.splice(i, 1);
  }
}
