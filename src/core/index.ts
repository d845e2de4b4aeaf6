// Builds an account session on a profile directory: stores, lock, and the XMPP floor.
// Only the profile, its lock and accounts.json are loaded up front; the XMPP code, the session
// (OMEMO, protobufjs, the crypto libraries) and the history database come by dynamic import. With
// `connectEarly` the TCP connection is opened first, and all of that loads during the handshake.
import type { CoreApi } from './api.js';
import type { EarlyConnection, XmppConnectParams } from './ports.js';
import { join } from 'node:path';
import { acquireLock } from '../store/profile.js';
import { AccountStore } from '../store/account-store.js';
import { ScramKeyStore } from '../store/scram-keys.js';
import { openEarlySocket } from '../xmpp/early-socket.js';
import { bareJid } from '../lib/jid.js';
import { openDiagnosticsLog, streamSink } from '../store/diagnostics-log.js';
import { addDiagnosticSink, logged, settled } from '../lib/diagnostics.js';

export type * from './api.js';

export interface CreateAccountSessionOptions {
  profileDir: string;
  json?: boolean;
  /** --debug: diagnostics go to stderr too, not only to the profile's xchat.log. */
  debug?: boolean;
  /** --account: the account used before /connect (offline fingerprint, trust). */
  account?: string;
  /** --proxy socks5h://HOST:PORT: every connection and transfer goes through it. */
  proxy?: string;
  /**
   * Start connecting the default account (`account`, else the first configured one) right away,
   * with the password this returns (undefined: no early start). A later connect() with the same
   * parameters takes that connection over instead of opening another.
   */
  connectEarly?: { password(jid: string): Promise<string | undefined> };
}

export async function createAccountSession(
  opts: CreateAccountSessionOptions,
): Promise<CoreApi & { close(): Promise<void> }> {
  // Without an early start the XMPP code is read while the profile is opened; with one, only
  // after the socket is open (its evaluation would hold the connection attempt back).
  const xmppPort = opts.connectEarly ? undefined : import('./xmpp-port.js');
  if (xmppPort) void settled(xmppPort); // awaited below, unless the profile cannot be opened
  // Two writers on one profile would corrupt ratchet state: one running instance per profile.
  // (acquireLock creates the directory.)
  const lock = await acquireLock(opts.profileDir);
  // Caught-and-survived errors go to the profile's log from here on (earlier ones are replayed).
  const sinks = [addDiagnosticSink(openDiagnosticsLog(opts.profileDir), { replay: true })];
  if (opts.debug) sinks.push(addDiagnosticSink(streamSink(process.stderr)));
  const removeSinks = () => sinks.forEach((remove) => remove());
  let early: EarlyConnection | undefined;
  try {
    const accounts = await AccountStore.open(opts.profileDir);
    const notices: string[] = [];
    const scramKeys = await ScramKeyStore.open(opts.profileDir, (message) => notices.push(message));
    const configured = await accounts.list();
    const defaultJid = opts.account ?? (configured.length > 0 ? configured[0].jid : undefined);
    // Through a proxy nothing connects early: that socket would go around the proxy.
    const proxied = opts.proxy !== undefined || (defaultJid !== undefined && (await accounts.get(bareJid(defaultJid)))?.proxy !== undefined);
    if (opts.connectEarly && defaultJid && !proxied) early = await startEarly(accounts, scramKeys, defaultJid, opts.connectEarly);
    const [{ createXmppPort }, { AccountSession }, { FileOmemoStore, omemoDirFor }, { HistoryStore }, { OutboxStore }] = await Promise.all([
      xmppPort ?? import('./xmpp-port.js'),
      import('./account-session.js'),
      import('../store/omemo-file-store.js'),
      import('../store/history.js'),
      import('../store/outbox.js'),
    ]);
    const history = HistoryStore.open(opts.profileDir);
    const outbox = await OutboxStore.open(opts.profileDir, (message) => notices.push(message));
    const session = new AccountSession({
      accounts,
      openOmemoStore: (jid) => FileOmemoStore.open(omemoDirFor(opts.profileDir, jid)),
      createXmpp: createXmppPort,
      takeEarlyConnection: (params) => {
        const e = early;
        early = undefined;
        if (e && sameParams(e.params, params)) return e;
        if (e) void e.xmpp.disconnect().catch(logged('session: drop an early connection not taken over'));
        return undefined;
      },
      defaultJid,
      history,
      outbox,
      scramKeys,
      ...(opts.proxy ? { proxy: opts.proxy } : {}),
      partialsJournal: join(opts.profileDir, 'partial-downloads.json'),
    });
    for (const n of notices) session.report(n);
    // A killed xchat leaves unverified partial downloads behind: gone before anything else runs.
    await session.removeLeftoverDownloads();
    return Object.assign(session, {
      async close() {
        try {
          if (early) await early.xmpp.disconnect().catch(logged('session: drop an early connection never taken over'));
          if (session.isConnected()) await session.disconnect();
          else await session.drain();
        } finally {
          history.close();
          removeSinks();
          lock.release();
        }
      },
    });
  } catch (e) {
    if (early) await early.xmpp.disconnect().catch(logged('session: drop an early connection after a failed start'));
    removeSinks();
    lock.release();
    throw e;
  }
}

/** Opens the connection AccountSession.connect would open for `jid`, events held for it. */
async function startEarly(
  accounts: AccountStore,
  scramKeys: ScramKeyStore,
  jid: string,
  source: NonNullable<CreateAccountSessionOptions['connectEarly']>,
): Promise<EarlyConnection | undefined> {
  // A password that cannot be had now is reported by connect() itself, as without an early start.
  const password = await source.password(jid).catch(logged('session: password for an early connection'));
  if (!password) return undefined;
  const bare = bareJid(jid);
  const account = await accounts.get(bare);
  const params: XmppConnectParams = {
    jid: bare,
    password,
    server: account?.server,
    port: account?.port,
    tls: account?.tls ?? 'force',
    ...(account?.tls_pin ? { tlsPin: account.tls_pin } : {}),
    scramKeys,
  };
  // XmppSession.connect's defaults; it uses the socket only if host and port agree.
  const host = params.server ?? bare.slice(bare.indexOf('@') + 1);
  const earlySocket = host.includes(':') ? undefined : openEarlySocket(host, params.port ?? 5222);
  const { createXmppPort } = await import('./xmpp-port.js').catch((e: unknown) => {
    earlySocket?.socket.destroy();
    throw e;
  });
  const xmpp = createXmppPort({ hold: true });
  const connected = xmpp.connect({ ...params, ...(earlySocket ? { earlySocket } : {}) });
  void settled(connected); // connect() reports it; until then it must not be "unhandled"
  return { params, xmpp, connected, release: () => xmpp.release() };
}

function sameParams(a: XmppConnectParams, b: XmppConnectParams): boolean {
  return a.jid === b.jid && a.password === b.password && a.server === b.server && a.port === b.port && a.tls === b.tls && a.tlsPin === b.tlsPin;
}
