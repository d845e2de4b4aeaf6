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
