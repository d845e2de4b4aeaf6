// Adapts the XMPP floor (src/xmpp) to the XmppPort the account session uses.
import type { XmppPort, XmppPortEvents } from './ports.js';
import { XmppSession, xmlBundleToBundle, bundleToXmlBundle } from '../xmpp/index.js';

export function createXmppPort(): XmppPort {
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
  s.on('roster', (items) => fire('roster', items.map((i) => ({ jid: i.jid, name: i.name, subscription: i.subscription }))));
  s.on('devicelist', (d) => {
    if (d.dropped.length > 0) {
      fire('error', { message: `device list of ${d.jid} contains invalid device ids (ignored): ${d.dropped.join(', ')}`, from: d.jid });
    }
    fire('devicelist', { jid: d.jid, ids: d.ids });
  });

  return {
    async connect(opts) {
      await s.connect({ jid: opts.jid, password: opts.password, server: opts.server, port: opts.port, tls: opts.tls });
      return s.jid;
    },
    disconnect: () => s.disconnect(),
    on(event, listener) {
      (listeners[event] ??= [] as never[]).push(listener as never);
    },
    async sendPlain(to, body, id) {
      await s.messages.sendChat(to, body, { id });
    },
    async sendEncrypted(to, el, id, opts) {
      if (opts?.keyTransport) await s.messages.sendKeyTransport(to, el);
      else await s.messages.sendEncrypted(to, el, { id });
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
    publishBundle: (bundle) => s.pep.publishBundle(bundleToXmlBundle(bundle)),
    async subscription(action, jid) {
      if (action === 'request') await s.presence.subscribe(jid);
      else if (action === 'allow') await s.presence.allow(jid);
      else await s.presence.deny(jid);
    },
  };
}
