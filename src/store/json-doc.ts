// A lowdb document written through atomicWriteFile (lowdb's own TextFile adapter creates 0644
// files and does not fsync). Updates are serialized and copy-on-write: the in-memory data only
// changes once the new content is durable, so a failed write leaves memory and disk agreeing.
import { Low, type Adapter } from 'lowdb';
import { atomicWriteFile, readFileIfExists } from './profile.js';
import { settled } from '../lib/diagnostics.js';

export class AtomicJsonAdapter<T> implements Adapter<T> {
  constructor(readonly file: string) {}

  async read(): Promise<T | null> {
    const buf = await readFileIfExists(this.file);
    if (buf === undefined) return null;
    try {
      return JSON.parse(buf.toString('utf8')) as T;
    } catch (e) {
      // Atomic writes never leave half a file: a broken one was edited by hand or by another
      // tool. Refuse rather than silently starting over and losing keys.
      throw new Error(`${this.file} is not valid JSON (${(e as Error).message}); fix or move it away`);
    }
  }

  async write(data: T): Promise<void> {
    await atomicWriteFile(this.file, JSON.stringify(data));
  }
}

export class JsonDoc<T> {
  private readonly low: Low<T>;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(file: string, defaults: T) {
    this.low = new Low<T>(new AtomicJsonAdapter<T>(file), defaults);
  }

  static async open<T>(file: string, defaults: T): Promise<JsonDoc<T>> {
    const doc = new JsonDoc<T>(file, defaults);
    await doc.low.read();
    return doc;
  }

  /** Current durable data. Do not mutate: use update(). */
  get data(): T {
    return this.low.data;
  }

  /** Applies fn to a copy, writes it durably, then makes it current. Serialized per document. */
  update<R>(fn: (draft: T) => R): Promise<R> {
    const run = async (): Promise<R> => {
      const draft = structuredClone(this.low.data);
      const result = fn(draft);
      // Write the draft itself so readers never see content that is not durable yet.
      await this.low.adapter.write(draft);
      this.low.data = draft;
      return result;
    };
    const p = this.chain.then(run, run);
    this.chain = settled(p); // the caller gets the failure
    return p;
  }
}
