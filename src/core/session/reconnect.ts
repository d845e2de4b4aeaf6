// When to try again after the connection was lost: exponential backoff with jitter, 1 s doubling
// to 60 s, as Profanity and Conversations do, so a restarted server is found within seconds and a
// long outage costs one attempt a minute.

export const RECONNECT_FIRST_MS = 1_000;
export const RECONNECT_MAX_MS = 60_000;

/** The delay before attempt `n` (0-based): 1 s · 2^n, at most 60 s, ±20 % so clients spread out. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** One pending retry at a time; cancel() stops it (a user's /disconnect, a new /connect). */
export class RetryTimer {
  private timer?: NodeJS.Timeout;
  attempt = 0;

  constructor(private readonly delay: (attempt: number) => number = (n) => backoffDelay(n)) {}

  /** Schedules `run` after the next delay; returns that delay in ms. */
  schedule(run: () => void): number {
    this.clearTimer();
    const ms = this.delay(this.attempt++);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      run();
    }, ms);
    this.timer.unref?.();
    return ms;
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Back to the first delay (after a successful connection). */
  reset(): void {
    this.clearTimer();
    this.attempt = 0;
  }

  cancel(): void {
    this.reset();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
