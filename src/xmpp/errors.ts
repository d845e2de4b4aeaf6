import type { Element } from '@xmpp/client';
import { NS_STANZAS } from './ns.js';

// Errors of the XMPP layer. `condition` is the XMPP stanza error condition (e.g. 'forbidden',
// 'item-not-found') or one of our own ('certificate', 'tls-unavailable', 'auth', 'timeout', ...).
export class XmppError extends Error {
  readonly condition: string;
  /** The entity that answered (or sent the offending stanza), when known. */
  readonly from?: string;
  readonly text?: string;
  /** Application-specific condition element name, e.g. 'precondition-not-met'. */
  readonly application?: string;
  constructor(condition: string, message: string, opts: { from?: string; text?: string; application?: string } = {}) {
    super(message);
    this.name = 'XmppError';
    this.condition = condition;
    this.from = opts.from;
    this.text = opts.text;
    this.application = opts.application;
  }
}

/** The server's certificate is not trusted; `fingerprint` is its SHA-256, colon hex (if read). */
export class CertificateError extends XmppError {
  readonly fingerprint?: string;
  readonly reason: string;
  constructor(reason: string, fingerprint: string | undefined, host: string) {
    super(
      'certificate',
      `untrusted TLS certificate for ${host} (${reason})` +
        (fingerprint ? `; SHA-256 fingerprint ${fingerprint}` : '; fingerprint could not be read'),
    );
    this.name = 'CertificateError';
    this.reason = reason;
    this.fingerprint = fingerprint;
  }
}

export function isXmppError(e: unknown, condition?: string): e is XmppError {
  return e instanceof XmppError && (condition === undefined || e.condition === condition);
}

/** The XmppError an error stanza carries (condition, text, application condition). */
export function stanzaError(el: Element): XmppError {
  const err = el.getChild('error');
  const cond = err?.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text');
  const text = err?.getChildText('text', NS_STANZAS) ?? undefined;
  const app = err?.getChildElements().find((c) => c.attrs.xmlns !== NS_STANZAS);
  const condition = cond?.name ?? 'undefined-condition';
  return new XmppError(
    condition,
    `${el.attrs.from ?? 'server'} answered with error ${condition}${app ? ` (${app.name})` : ''}${text ? `: ${text}` : ''}`,
    { from: el.attrs.from, text, application: app?.name },
  );
}

/** Whatever a login attempt failed with, as an XmppError. */
export function toXmppError(e: Error): XmppError {
  if (e instanceof XmppError) return e;
  const cond = (e as { condition?: string }).condition;
  if (e?.name === 'SASLError') return new XmppError('auth', `authentication failed: ${cond ?? e.message}`);
  if (e?.name === 'StreamError') return new XmppError(cond ?? 'stream-error', `stream error: ${e.message}`);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code) return new XmppError('network', `connection failed: ${e.message}`);
  return new XmppError(cond ?? 'connect-failed', `connection failed: ${e?.message ?? String(e)}`);
}
