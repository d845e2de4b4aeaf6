import { settled } from '../lib/diagnostics.js';
// OMEMO session state is read-modify-write: two decryptions (or a send and a decryption) running
// interleaved would both start from the same ratchet state and one would overwrite the other.
// Everything that touches sessions goes through one queue, in arrival order.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = settled(result); // the caller gets the failure
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
