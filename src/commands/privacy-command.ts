// /privacy: one screen that says what protects the account's traffic and where it goes — the
// proxy (or a direct connection), TLS and the certificate check, how the login was proved, and the
// message encryption settings. Users of Tor ask exactly this before they trust a client.
import type { PrivacyReport } from '../core/api.js';
import type { CommandDef } from './command-def.js';
import { UsageError } from './parser.js';
import { LOGGING_TEXT, PRIVACY_LOGGING } from './history-commands.js';

export function describePrivacy(r: PrivacyReport): string[] {
  if (!r.account) return ['no account yet: /connect JID first (then /privacy says how it is protected)'];
  const route = r.proxy
    ? `through the proxy ${r.proxy}: XMPP, uploads and downloads all go through it, it resolves every host name (no DNS leak), and nothing falls back to a direct connection`
    : 'a direct connection: no proxy (the server and the network see your IP address; /account set JID proxy socks5h://127.0.0.1:9050 for Tor)';
  const cert = r.pinnedCertificate ? `only the pinned certificate ${r.pinnedCertificate} is accepted` : 'the certificate is verified against the trusted CAs';
  const tls = r.online
    ? r.tls
      ? `${r.tls}; ${cert}`
      : 'NONE: this connection is not encrypted (tls disable/allow)'
    : `not connected (tls ${r.tlsPolicy ?? 'force'}${r.tlsPolicy === 'force' || r.tlsPolicy === undefined ? ': STARTTLS required' : ''}; ${cert})`;
  const login = !r.online
    ? 'not logged in'
    : r.mechanism
      ? `${r.mechanism}${r.channelBinding ? `, bound to this TLS channel (${r.channelBinding}): a man in the middle with another certificate cannot log in as you` : ', not bound to the TLS channel (the server offered no -PLUS mechanism)'}${r.cachedKeys ? '; salted keys from the profile (never the password)' : ''}`
      : 'unknown';
  return [
    `privacy of ${r.account} (${r.online ? 'online' : 'offline'}):`,
    `  route: ${r.server ?? '?'}, ${route}`,
    `  encryption in transit: ${tls}`,
    `  login: ${login}`,
    `  messages: OMEMO policy ${r.omemoPolicy}, trust mode ${r.trustMode}`,
  ];
}

export const PRIVACY_COMMAND: CommandDef = {
  name: '/privacy',
  synopsis: ['/privacy', '/privacy logging on|redact|off'],
  description:
    "Without arguments: what protects the account's traffic now — the proxy (Tor) or a direct connection, TLS and how the server's certificate is checked, the login mechanism and whether it is bound to the TLS channel, the OMEMO settings and what is stored here. logging redact: store who wrote when, but never the message text.",
  args: [],
  examples: ['/privacy', '/privacy logging redact'],
  async handler(ctx, args) {
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
    if (!ctx.core.privacy) throw new UsageError('this front end cannot report privacy');
    const lines = describePrivacy(await ctx.core.privacy());
    const logging = await ctx.core.historyLogging?.();
    if (logging && lines.length > 1) lines.push(`  stored here: ${LOGGING_TEXT[logging]} (/privacy logging on|redact|off)`);
    ctx.emit({ event: 'info', message: lines.join('\n') });
  },
  subcommands: [PRIVACY_LOGGING],
};
