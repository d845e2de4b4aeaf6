// IQ requests in flight: ids, timeouts, and the rule that a reply counts only when it comes from
// whom we asked (our own account when the request had no `to`).
import { xml, type Element } from '@xmpp/client';
import { XmppError, stanzaError } from './errors.js';

interface PendingIq {
  to?: string;
  resolve: (el: Element) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Who we are, as IQ replies from our own account may name us. */
export interface OwnAddress {
  jid: string;
  bareJid: string;
  domain: string;
}

export class IqTracker {
  private readonly pending = new Map<string, PendingIq>();
  private counter = 0;

  constructor(private readonly send: (el: Element) => Promise<void>) {}

  /** Sends an IQ and resolves with the result stanza; a type='error' reply rejects with its condition. */
  request(type: 'get' | 'set', child: Element, to: string | undefined, timeoutMs: number): Promise<Element> {
    const id = `x${Date.now().toString(36)}${(++this.counter).toString(36)}`;
    const stanza = xml('iq', to ? { type, to, id } : { type, id }, child);
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new XmppError('timeout', `no answer to IQ ${child.name} ${child.attrs.xmlns ?? ''}${to ? ` from ${to}` : ''}`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { to, resolve, reject, timer });
      this.send(stanza).catch((e: Error) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(e);
      });
    });
  }

  /**
   * A result or error IQ: settles its request. Returns the sender when the reply came from someone
   * other than whom we asked (it is then ignored), undefined otherwise.
   */
  settle(el: Element, own: OwnAddress): { spoofedBy?: string; expected?: string } | undefined {
    const { type, id, from } = el.attrs;
    if ((type !== 'result' && type !== 'error') || !id) return undefined;
    const p = this.pending.get(id);
    if (!p) return undefined;
    if (!replyFromOk(p, from, own)) return { spoofedBy: from ?? 'our server', expected: p.to ?? 'our account' };
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (type === 'result') p.resolve(el);
    else p.reject(stanzaError(el));
    return undefined;
  }

  /** The connection closed: every request in flight fails. */
  failAll(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new XmppError('offline', 'connection closed'));
      this.pending.delete(id);
    }
  }
}

function replyFromOk(p: PendingIq, from: string | undefined, own: OwnAddress): boolean {
  if (!p.to || p.to === own.bareJid) {
    return !from || from === own.bareJid || from === own.jid || from === own.domain;
  }
  return !!from && from.toLowerCase() === p.to.toLowerCase();
}
