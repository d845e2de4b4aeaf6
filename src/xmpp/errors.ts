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

/** What we saw of a server certificate: enough for the user to decide whether to trust it. */
export interface CertificateInfo {
  /** SHA-256, colon hex as OpenSSL prints it. */
  fingerprint?: string;
  subject?: string;
  validTo?: string;
  /** The fingerprint pinned for this account, when the certificate is not that one. */
  pinned?: string;
}

/** The server's certificate is not trusted (or not the pinned one); `fingerprint` is its SHA-256. */
export class CertificateError extends XmppError {
  readonly fingerprint?: string;
  readonly reason: string;
  readonly info: CertificateInfo;
  constructor(reason: string, fingerprint: string | undefined, host: string, info: Omit<CertificateInfo, 'fingerprint'> = {}) {
    const about = [info.subject ? `subject ${info.subject}` : '', info.validTo ? `valid until ${info.validTo}` : ''].filter(Boolean).join(', ');
    super(
      'certificate',
      info.pinned
        ? `the TLS certificate of ${host} CHANGED: the pinned one is ${info.pinned}, the server now shows ${fingerprint ?? 'one that could not be read'}${about ? ` (${about})` : ''}; refused`
        : `untrusted TLS certificate for ${host} (${reason})` + (fingerprint ? `; SHA-256 fingerprint ${fingerprint}` : '; fingerprint could not be read') + (about ? `; ${about}` : ''),
    );
    this.name = 'CertificateError';
    this.reason = reason;
    this.fingerprint = fingerprint;
    this.info = { ...info, ...(fingerprint ? { fingerprint } : {}) };
  }
}

/** Two certificate fingerprints the same, whatever their separators and case. */
export function sameCertFingerprint(a: string, b: string): boolean {
  const n = (s: string) => s.replace(/[^0-9a-f]/gi, '').toLowerCase();
  return n(a) !== '' && n(a) === n(b);
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
