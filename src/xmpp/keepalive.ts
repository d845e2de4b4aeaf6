// A silent link is noticed and given up: when nothing has arrived for `idleMs`, the server is
// pinged (XEP-0199); no answer within `timeoutMs` means the link is dead, and the session closes
// it so the account session reconnects. Defaults notice a dead link within 90 s (Profanity's
// ping interval is similar), without pinging a link that carries traffic.
import { xml } from '@xmpp/client';
import { NS_PING } from './ns.js';

export interface KeepaliveOptions {
  /** Quiet time before a ping (default 50 s). */
  idleMs?: number;
  /** How long a ping may go unanswered (default 20 s). */
  timeoutMs?: number;
}

export const KEEPALIVE_IDLE_MS = 50_000;
export const KEEPALIVE_TIMEOUT_MS = 20_000;

export interface KeepaliveLink {
  /** An IQ to the server, rejecting after `timeoutMs`. */
  iq(type: 'get', child: ReturnType<typeof xml>, to: string | undefined, timeoutMs: number): Promise<unknown>;
  /** Called once when the link is found dead. */
  dead(reason: string): void;
}

export class Keepalive {
  private last = Date.now();
  private timer?: NodeJS.Timeout;
  private pinging = false;
  private readonly idleMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly link: KeepaliveLink,
    opts: KeepaliveOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? KEEPALIVE_IDLE_MS;
    this.timeoutMs = opts.timeoutMs ?? KEEPALIVE_TIMEOUT_MS;
  }

  /** Something arrived: the link is alive. */
  heard(): void {
    this.last = Date.now();
  }

  start(): void {
    this.stop();
    this.last = Date.now();
    // Checked a few times per idle period, so a dead link is found within idle + timeout + a bit.
    this.timer = setInterval(() => this.check(), Math.max(50, Math.floor(this.idleMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    if (this.pinging || Date.now() - this.last < this.idleMs) return;
    this.pinging = true;
    const sentAt = Date.now();
    this.link.iq('get', xml('ping', { xmlns: NS_PING }), undefined, this.timeoutMs).then(
      () => {
        this.pinging = false;
        this.heard();
      },
      (e: unknown) => {
        this.pinging = false;
        // An error reply is still an answer: the server is there. Only silence is death.
        if ((e as { condition?: string } | null)?.condition !== 'timeout') {
          this.heard();
          return;
        }
        if (this.last > sentAt) return; // something else arrived meanwhile
        this.stop();
        this.link.dead(`no answer from the server for ${Math.round((Date.now() - this.last) / 1000)} s`);
      },
    );
  }
}
