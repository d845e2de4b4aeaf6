// Adapts the XMPP floor (src/xmpp) to the XmppPort the account session uses.
import type { XmppConnectParams, XmppPort, XmppPortEvents } from './ports.js';
import type { EarlySocket } from '../xmpp/early-socket.js';
import { XmppSession, xmlBundleToBundle, bundleToXmlBundle, listSome } from '../xmpp/index.js';
import { Upload } from '../xmpp/upload.js';
import type { KeepaliveOptions } from '../xmpp/keepalive.js';
import type { MucPort } from './muc/ports.js';

/**
 * `ca`: extra trusted CA (PEM), for in-process live tests against a private server. `hold`: keep
 * every event until `release()` (a connection started before anyone listens), then deliver them
 * in order.
 */
export function createXmppPort(defaults: { ca?: string; hold?: boolean; keepalive?: KeepaliveOptions } = {}): XmppPort & { release(): void } {
  const s = new XmppSession();
  const events = new HeldEvents(defaults.hold === true);
  forwardEvents(s, events);
  const fire = events.fire.bind(events);
  return {
    release: () => events.release(),
    muc: mucPortOf(s),
    async connect(opts: XmppConnectParams & { earlySocket?: EarlySocket }) {
      await s.connect({
        jid: opts.jid,
        password: opts.password,
        server: opts.server,
        port: opts.port,
        tls: opts.tls,
        ...(opts.tlsPin ? { tlsPin: opts.tlsPin } : {}),
        ...(opts.proxy ? { proxy: opts.proxy } : {}),
        ...(opts.scramKeys ? { scramKeys: opts.scramKeys } : {}),
        ...(opts.resume ? { resume: opts.resume as ReturnType<XmppSession['takeResumption']> } : {}),
        ...(defaults.ca ? { ca: defaults.ca } : {}),
        ...(defaults.keepalive ? { keepalive: defaults.keepalive } : {}),
        ...(opts.earlySocket ? { earlySocket: opts.earlySocket } : {}),
      });
      return s.jid;
    },
    disconnect: () => s.disconnect(),
    on: (event, listener) => events.on(event, listener),
    async sendPlain(to, body, id, extras) {
      await s.messages.sendChat(to, body, { id, ...(extras ? { extras } : {}) });
    },
    async sendEncrypted(to, el, id, opts) {
      if (opts?.keyTransport) await s.messages.sendKeyTransport(to, el);
      else await s.messages.sendEncrypted(to, el, { id, ...(opts?.extras ? { extras: opts.extras } : {}) });
    },
    async sendSignal(to, extras) {
      await s.messages.sendSignal(to, extras);
    },
    async fetchDeviceList(jid) {
      const r = await s.pep.fetchDeviceList(jid);
      if (r.dropped.length > 0) {
        fire('error', { message: `device list of ${jid} contains invalid device ids (ignored): ${listSome(r.dropped)}`, from: jid });
      }
      return r.ids;
    },
    async fetchBundle(jid, deviceId) {
      return xmlBundleToBundle(await s.pep.fetchBundle(jid, deviceId));
    },
    publishDeviceList: (ids) => s.pep.publishDeviceList(ids),
    upload: new Upload(s),
    mamQuery: (q) => s.mam.query(q),
    publishBundle: (bundle) => s.pep.publishBundle(bundleToXmlBundle(bundle)),
    async subscription(action, jid) {
      if (action === 'request') await s.presence.subscribe(jid);
      else if (action === 'allow') await s.presence.allow(jid);
      else await s.presence.deny(jid);
    },
    takeUnacked: () => s.takeUnacked(),
    security: () => s.security,
    takeResumption: () => s.takeResumption(),
    resumed: () => s.resumed,
    // Opaque to core: exactly what takeUnacked() handed out.
    resend: (stanzas) => s.resend(stanzas as Parameters<XmppSession['resend']>[0]),
    rosterAdd: (jid, name) => s.roster.add(jid, name),
    rosterRemove: (jid) => s.roster.remove(jid),
    setPresence: (show, status) => s.presence.setStatus(show, status),
  };
}

type AnyListener = (...args: never[]) => void;

/** The port's listeners; with `hold`, every event waits for release() and then comes in order. */
class HeldEvents {
  private readonly listeners = new Map<keyof XmppPortEvents, AnyListener[]>();
  private held: (() => void)[] | undefined;

  constructor(hold: boolean) {
    this.held = hold ? [] : undefined;
  }

  on<K extends keyof XmppPortEvents>(event: K, listener: XmppPortEvents[K]): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }

  fire<K extends keyof XmppPortEvents>(k: K, ...args: Parameters<XmppPortEvents[K]>): void {
    const deliver = () => {
      for (const l of this.listeners.get(k) ?? []) (l as unknown as (...a: Parameters<XmppPortEvents[K]>) => void)(...args);
    };
    if (this.held) this.held.push(deliver);
    else deliver();
  }

  release(): void {
    const backlog = this.held ?? [];
    this.held = undefined;
    for (const deliver of backlog) deliver();
  }
}

/** The XMPP floor's events, as the port's. */
function forwardEvents(s: XmppSession, events: HeldEvents): void {
  const fire = events.fire.bind(events);
  s.on('online', ({ jid }) => fire('online', jid));
  s.on('offline', ({ reason }) => fire('offline', reason));
  s.on('error', (e) => fire('error', { message: e.message, ...(e.from ? { from: e.from } : {}) }));
  s.on('warning', (w) => fire('warning', w.message));
  s.on('message', (m) => fire('message', m));
  s.on('subscription-request', (r) => fire('subscription', { from: r.from, type: 'subscribe' }));
  s.on('subscription', (u) => fire('subscription', { from: u.from, type: u.type }));
  s.on('roster', (items) => fire('roster', items.map((i) => ({ jid: i.jid, name: i.name, subscription: i.subscription, ...(i.ask ? { ask: i.ask } : {}) }))));
  s.on('presence', (p) => fire('presence', p));
  s.on('devicelist', (d) => {
    if (d.dropped.length > 0) {
      fire('error', { message: `device list of ${d.jid} contains invalid device ids (ignored): ${listSome(d.dropped)}`, from: d.jid });
    }
    fire('devicelist', { jid: d.jid, ids: d.ids });
  });
}

/** Group chat over the session's MUC and bookmarks features. */
function mucPortOf(s: XmppSession): MucPort {
  return {
    onPresence: (l) => void s.muc.on('presence', l),
    onMessage: (l) => void s.muc.on('message', l),
    onInvite: (l) => void s.muc.on('invite', l),
    domain: () => s.domain,
    join: (room, nick, opts) => s.muc.join(room, nick, opts),
    leave: (room, nick) => s.muc.leave(room, nick),
    changeNick: (room, nick) => s.muc.changeNick(room, nick),
    setSubject: (room, subject) => s.muc.setSubject(room, subject),
    invite: (room, jid, reason) => s.muc.invite(room, jid, reason),
    send: (room, opts) => s.muc.send(room, opts),
    info: (jid) => s.muc.info(jid),
    findService: () => s.muc.findService(),
    configure: (room, changes) => s.muc.configure(room, changes),
    instantRoom: (room) => s.muc.instantRoom(room),
    affiliations: (room, aff) => s.muc.affiliations(room, aff),
    setAffiliation: (room, jid, aff, reason) => s.muc.setAffiliation(room, jid, aff, reason),
    mamQuery: (room, q) => s.mam.queryRoom(room, q),
    bookmarks: s.bookmarks,
  };
}
