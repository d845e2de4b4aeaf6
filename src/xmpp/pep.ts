// PEP (XEP-0163) for legacy OMEMO: publish device list and bundles with access_model=open
// (reconfiguring the node on precondition-not-met), fetch them, and turn +notify events into
// 'devicelist' events attributed to the publisher (the event's `from`), never to payload JIDs.
import { xml, type Element } from '@xmpp/client';
export type { DeviceListEvent } from './types.js';
import { XmppError } from './errors.js';
import { bareJid as bareOf } from '../lib/jid.js';
import type { XmppStream } from './stream.js';
import { NODE_DEVICELIST, bundleFromXml, bundleNode, bundleToXml, deviceListFromXml, deviceListToXml, listSome, type DeviceListParse, type XmlBundle } from './omemo-xml.js';
import { NS_AXOLOTL, NS_DATA, NS_PUBSUB, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER } from './ns.js';
import type { Disco } from './disco.js';



function dataForm(formType: string, fields: Record<string, string>): Element {
  return xml(
    'x',
    { xmlns: NS_DATA, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, formType)),
    ...Object.entries(fields).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))),
  );
}

export class Pep {
  constructor(
    private readonly session: XmppStream,
    disco: Disco,
  ) {
    disco.addFeature(`${NODE_DEVICELIST}+notify`);
  }

  /**
   * Publishes one item with publish-options. On <conflict/> + <precondition-not-met/> the node's
   * configuration is changed to the wanted options through pubsub#owner and the publish retried once.
   */
  async publish(node: string, itemId: string, payload: Element, options: Record<string, string> = { 'pubsub#access_model': 'open' }): Promise<void> {
    const build = () =>
      xml(
        'pubsub',
        { xmlns: NS_PUBSUB },
        xml('publish', { node }, xml('item', { id: itemId }, payload)),
        xml('publish-options', {}, dataForm(`${NS_PUBSUB}#publish-options`, options)),
      );
    try {
      await this.session.iq('set', build());
    } catch (e) {
      if (!(e instanceof XmppError) || e.condition !== 'conflict' || e.application !== 'precondition-not-met') throw e;
      await this.configure(node, options);
      await this.session.iq('set', build());
    }
  }

  async configure(node: string, options: Record<string, string>): Promise<void> {
    await this.session.iq(
      'set',
      xml('pubsub', { xmlns: NS_PUBSUB_OWNER }, xml('configure', { node }, dataForm(`${NS_PUBSUB}#node_config`, options))),
    );
  }

  async publishDeviceList(ids: readonly number[], accessModel = 'open'): Promise<void> {
    await this.publish(NODE_DEVICELIST, 'current', deviceListToXml(ids), { 'pubsub#access_model': accessModel });
  }

  async publishBundle(bundle: XmlBundle, accessModel = 'open'): Promise<void> {
    await this.publish(bundleNode(bundle.deviceId), 'current', bundleToXml(bundle), {
      'pubsub#access_model': accessModel,
      'pubsub#persist_items': 'true',
    });
  }

  /** Items of a node on `jid`'s PEP service (our own when jid is our bare JID). */
  async fetchItems(jid: string, node: string, maxItems?: number): Promise<Element[]> {
    const to = bareOf(jid);
    try {
      const res = await this.session.iq(
        'get',
        xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', maxItems ? { node, max_items: String(maxItems) } : { node })),
        to === this.session.bareJid ? undefined : to,
      );
      return res.getChild('pubsub', NS_PUBSUB)?.getChild('items')?.getChildren('item') ?? [];
    } catch (e) {
      if (e instanceof XmppError && e.condition === 'forbidden') {
        throw new XmppError(
          'forbidden',
          `${to} does not let us read ${node} (its access model is presence/roster, or it was never published): a mutual presence subscription is needed`,
          { from: e.from ?? to, application: e.application },
        );
      }
      throw e;
    }
  }

  /** A contact's device list; no list published (item-not-found) is an empty list. */
  async fetchDeviceList(jid: string): Promise<DeviceListParse> {
    let items: Element[];
    try {
      items = await this.fetchItems(jid, NODE_DEVICELIST);
    } catch (e) {
      if (e instanceof XmppError && e.condition === 'item-not-found') return { ids: [], dropped: [] };
      throw e;
    }
    const item = items.find((i) => i.attrs.id === 'current') ?? items[items.length - 1];
    const list = item?.getChild('list', NS_AXOLOTL);
    return list ? deviceListFromXml(list) : { ids: [], dropped: [] };
  }

  async fetchBundle(jid: string, deviceId: number): Promise<XmlBundle> {
    const items = await this.fetchItems(jid, bundleNode(deviceId), 1);
    const b = items[0]?.getChild('bundle', NS_AXOLOTL);
    if (!b) throw new XmppError('item-not-found', `${bareOf(jid)} has no bundle for device ${deviceId}`, { from: bareOf(jid) });
    return bundleFromXml(b, deviceId);
  }

  /** Consumes pubsub event messages; returns true when `el` was one. */
  handleMessage(el: Element): boolean {
    const ev = el.getChild('event', NS_PUBSUB_EVENT);
    if (!ev) return false;
    const items = ev.getChild('items');
    if (!items || items.attrs.node !== NODE_DEVICELIST) return true;
    // PEP events come from the publisher's bare JID (its PEP service); absent means our own
    // account. One from a full JID was written by a client, not the service: never a device list.
    if (el.attrs.from?.includes('/')) {
      this.session.emitError(`ignored a device list notification sent by the client ${el.attrs.from}, not by its PEP service`, {
        from: el.attrs.from,
        condition: 'forged-pep-event',
      });
      return true;
    }
    const jid = el.attrs.from ? bareOf(el.attrs.from) : this.session.bareJid;
    const item = items.getChildren('item').find((i) => i.attrs.id === 'current') ?? items.getChildren('item').pop();
    const list = item?.getChild('list', NS_AXOLOTL);
    if (!list) {
      if (items.getChildren('retract').length > 0) this.session.emit('devicelist', { jid, ids: [], dropped: [] });
      return true;
    }
    const parsed = deviceListFromXml(list);
    if (parsed.dropped.length > 0) {
      this.session.emitError(`device list of ${jid} had invalid ids: ${listSome(parsed.dropped)}`, { from: jid, condition: 'bad-device-id' });
    }
    this.session.emit('devicelist', { jid, ...parsed });
    return true;
  }
}
