// Our own STARTTLS step, with tls modes as in Profanity (force, allow, disable), an optional extra
// CA, and certificate errors that name the server certificate's SHA-256 fingerprint.
import net from 'node:net';
import tls from 'node:tls';
import { xml, type Client, type Element } from '@xmpp/client';
import { CertificateError, XmppError } from './errors.js';
import { NS_CLIENT, NS_SASL, NS_STREAM, NS_TLS } from './ns.js';
import { beforeFeatureHandlers, rawSocket, sendReceive, upgradeToTls, withholdFeatures } from './xmpp-client-private.js';
import { logged } from '../lib/diagnostics.js';

export type TlsMode = 'force' | 'allow' | 'disable';

export interface TlsTarget {
  host: string;
  port: number;
  domain: string;
  mode: TlsMode;
  /** Extra trusted CA certificates, added to Node's roots. */
  ca?: (string | Buffer)[];
  timeoutMs: number;
  /** Said before logging in without TLS. */
  warn(message: string): void;
  /** The login cannot go on (no TLS where it is required, a failed handshake). */
  fail(e: Error): void;
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
  const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({
      socket: rawSocket(c),
      servername: t.domain,
      host: t.domain,
      ...(t.ca ? { ca: [...tls.rootCertificates, ...t.ca] } : {}),
    });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  }).catch(async (e: NodeJS.ErrnoException) => {
    if (!isCertError(e)) throw new XmppError('tls-failed', `TLS handshake with ${t.host} failed: ${e.message}`);
    // Only to READ the fingerprint for the message: a separate probe connection that is closed
    // right after the handshake; nothing is ever sent over an unverified channel.
    const fp = await probeFingerprint(t.host, t.port, t.domain).catch(logged(`tls: read the certificate of ${t.host}`));
    throw new CertificateError(e.code ?? e.message, fp, t.domain);
  });
  await upgradeToTls(c, secure);
}

function isCertError(e: NodeJS.ErrnoException): boolean {
  const code = e.code ?? '';
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME/.test(code);
}

/**
 * Opens a second connection, negotiates STARTTLS without verification, reads the server
 * certificate's SHA-256 fingerprint and closes. Used only to word the certificate error.
 */
export function probeFingerprint(host: string, port: number, domain: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host, port });
    let buf = '';
    let upgraded = false;
    const timer = setTimeout(() => done(new Error('probe timed out')), timeoutMs);
    const done = (err?: Error, fp?: string) => {
      clearTimeout(timer);
      raw.destroy();
      if (err || !fp) reject(err ?? new Error('no fingerprint'));
      else resolve(fp);
    };
    raw.on('error', (e) => done(e));
    raw.on('connect', () => {
      raw.write(`<?xml version='1.0'?><stream:stream to='${escapeAttr(domain)}' version='1.0' xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAM}'>`);
    });
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      if (!upgraded && buf.includes('</stream:features>')) {
        buf = buf.slice(buf.indexOf('</stream:features>') + 18);
        raw.write(`<starttls xmlns='${NS_TLS}'/>`);
        upgraded = true;
      } else if (upgraded && /<proceed\b/.test(buf)) {
        raw.removeListener('data', onData);
        const s = tls.connect({ socket: raw, servername: domain, rejectUnauthorized: false });
        s.once('secureConnect', () => {
          const fp = s.getPeerCertificate()?.fingerprint256;
          s.destroy();
          done(undefined, fp);
        });
        s.once('error', (e: Error) => done(e));
      }
    };
    raw.on('data', onData);
  });
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
