// Adapts the XMPP floor (src/xmpp) to the XmppPort the account session uses.
import type { XmppPort, XmppPortEvents } from './ports.js';
import { XmppSession, xmlBundleToBundle, bundleToXmlBundle } from '../xmpp/index.js';
import { Upload } from '../xmpp/upload.js';
import { mucPortOf } from './muc.js';

/** `ca`: extra trusted CA (PEM), for in-process live tests against a private server. */
export function createXmppPort(defaults: { ca?: string } = {}): XmppPort {
  const s = new XmppSession();
  const listeners: { [K in keyof XmppPortEvents]?: XmppPortEvents[K][] } = {};
  const fire = <K extends keyof XmppPortEvents>(k: K, ...args: Parameters<XmppPortEvents[K]>) => {
    for (const l of listeners[k] ?? []) (l as (...a: Parameters<XmppPortEvents[K]>) => void)(...args);
  };
  s.on('online', ({ jid }) => fire('online', jid));
  s.on('offline', ({ reason }) => fire('offline', reason));
  s.on('error', (e) => fire('error', { message: e.message, ...(e.from ? { from: e.from } : {}) }));
  s.on('message', (m) => fire('message', m));
  s.on('subscription-request', (r) => fire('subscription', { from: r.from, type: 'subscribe' }));
  s.on('subscription', (u) => fire('subscription', { from: u.from, type: u.type }));
  s.on('roster', (items) => fire('roster', items.map((i) => ({ jid: i.jid, name: i.name, subscription: i.subscription, ...(i.ask ? { ask: i.ask } : {}) }))));
  s.on('presence', (p) => fire('presence', p));
  s.on('devicelist', (d) => {
    if (d.dropped.length > 0) {
      fire('error', { message: `device list of ${d.jid} contains invalid device ids (ignored): ${d.dropped.join(', ')}`, from: d.jid });
    }
    fire('devicelist', { jid: d.jid, ids: d.ids });
  });

  return {
    muc: mucPortOf(s),
    async connect(opts) {
      await s.connect({ jid: opts.jid, password: opts.password, server: opts.server, port: opts.port, tls: opts.tls, ...(defaults.ca ? { ca: defaults.ca } : {}) });
      return s.jid;
    },
    disconnect: () => s.disconnect(),
    on(event, listener) {
      (listeners[event] ??= [] as never[]).push(listener as never);
    },
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
        fire('error', { message: `device list of ${jid} contains invalid device ids (ignored): ${r.dropped.join(', ')}`, from: jid });
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
    rosterAdd: (jid, name) => s.roster.add(jid, name),
    rosterRemove: (jid) => s.roster.remove(jid),
    setPresence: (show, status) => s.presence.setStatus(show, status),
  };
}
