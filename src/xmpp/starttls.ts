// Our own STARTTLS step, with tls modes as in Profanity (force, allow, disable), an optional extra
// CA, and certificate errors that name the server certificate's SHA-256 fingerprint.
import tls from 'node:tls';
import { xml, type Client, type Element } from '@xmpp/client';
import { CertificateError, XmppError, sameCertFingerprint } from './errors.js';
import { NS_SASL, NS_STREAM, NS_TLS } from './ns.js';
import { beforeFeatureHandlers, rawSocket, sendReceive, upgradeToTls, withholdFeatures } from './xmpp-client-private.js';

export type TlsMode = 'force' | 'allow' | 'disable';

export interface TlsTarget {
  host: string;
  port: number;
  domain: string;
  mode: TlsMode;
  /** Extra trusted CA certificates, added to Node's roots. */
  ca?: (string | Buffer)[];
  /** The SHA-256 of the one certificate this account accepts (`/tls trust`), instead of a CA. */
  pin?: string;
  timeoutMs: number;
  /** Said before logging in without TLS. */
  warn(message: string): void;
  /** The login cannot go on (no TLS where it is required, a failed handshake). */
  fail(e: Error): void;
  /** The verified TLS socket the login goes on over (for SCRAM's channel binding). */
  secured?(s: tls.TLSSocket): void;
}

/**
 * Runs before @xmpp/client's own feature handlers: TLS policy is decided here, and when we
 * upgrade ourselves the features element is emptied so the built-in STARTTLS never runs.
 * Only the features before authentication decide on TLS: those after it (bind, sm) carry no
 * mechanisms, and judging them again once logged in would fail a login that succeeded.
 */
export function enforceTlsPolicy(c: Client, t: TlsTarget): void {
  let authenticated = false;
  beforeFeatureHandlers(c, (el: Element) => {
    if (el.is('success', NS_SASL)) authenticated = true;
    if (!el.is('features', NS_STREAM) || c.isSecure() || authenticated) return;
    const st = el.getChild('starttls', NS_TLS);
    if (t.mode === 'disable') {
      if (st) withholdFeatures(el, st);
      loginInClear(el, t);
      return;
    }
    if (!st) {
      if (t.mode === 'force') {
        withholdFeatures(el);
        t.fail(new XmppError('tls-unavailable', `${t.host} does not offer STARTTLS (tls mode 'force')`));
      } else {
        loginInClear(el, t);
      }
      return;
    }
    withholdFeatures(el);
    startTls(c, t).catch((e: Error) => t.fail(e));
  });
}

function loginInClear(features: Element, t: TlsTarget): void {
  if (features.getChild('mechanisms', NS_SASL)) {
    // Said before the first SASL byte: the SCRAM exchange can be cracked offline by anyone on the path.
    t.warn(`logging in to ${t.host} WITHOUT TLS (tls mode '${t.mode}'): anyone on the network can read the session and try to crack the password from the login exchange`);
    return;
  }
  withholdFeatures(features);
  t.fail(new XmppError('auth', `${t.host} offers no way to log in without TLS${t.mode === 'disable' ? " (tls mode 'disable'; the server requires encryption)" : ''}`));
}

async function startTls(c: Client, t: TlsTarget): Promise<void> {
  const reply = await sendReceive(c, xml('starttls', { xmlns: NS_TLS }), t.timeoutMs);
  if (!reply.is('proceed', NS_TLS)) throw new XmppError('tls-failed', `STARTTLS refused by ${t.host}`);
  // Verification is ours after the handshake: a pinned certificate replaces the CA check, and an
  // untrusted one is described from the handshake itself. Nothing is sent before it is decided.
  const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({
      socket: rawSocket(c),
      servername: t.domain,
      host: t.domain,
      rejectUnauthorized: false,
      ...(t.ca ? { secureContext: contextWithExtraCas(t.ca) } : {}),
    });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  }).catch((e: NodeJS.ErrnoException) => {
    throw new XmppError('tls-failed', `TLS handshake with ${t.host} failed: ${e.message}`);
  });
  const refusal = certificateRefusal(secure, t);
  if (refusal) {
    secure.destroy();
    throw refusal;
  }
  t.secured?.(secure);
  await upgradeToTls(c, secure);
}

const contexts = new Map<string, tls.SecureContext>();

/**
 * Node's roots plus extra CAs, built once per set: parsing the ~140 roots for every connection
 * cost a login some 30 ms.
 */
function contextWithExtraCas(ca: (string | Buffer)[]): tls.SecureContext {
  const key = ca.map((c) => c.toString()).join('\n');
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx = tls.createSecureContext({ ca: [...tls.rootCertificates, ...ca] });
    contexts.set(key, ctx);
  }
  return ctx;
}

/** Why the server's certificate is not accepted, or undefined when it is. */
function certificateRefusal(s: tls.TLSSocket, t: TlsTarget): CertificateError | undefined {
  const cert = s.getPeerCertificate();
  const fingerprint = cert?.fingerprint256 || undefined;
  const info = { ...(cert?.subject?.CN ? { subject: `CN=${String(cert.subject.CN)}` } : {}), ...(cert?.valid_to ? { validTo: cert.valid_to } : {}) };
  if (t.pin) {
    if (fingerprint && sameCertFingerprint(fingerprint, t.pin)) return undefined;
    return new CertificateError('pin-mismatch', fingerprint, t.domain, { ...info, pinned: t.pin });
  }
  if (s.authorized) return undefined;
  const why = s.authorizationError;
  return new CertificateError(why instanceof Error ? why.message : String(why ?? 'not trusted'), fingerprint, t.domain, info);
}

