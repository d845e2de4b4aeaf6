// XEP-0363 HTTP File Upload: find the upload service (disco), ask it for a slot; and the plain
// (unencrypted) file message with an XEP-0066 OOB element. The HTTP transfer itself is in core.
import { xml, type Element } from '@xmpp/client';
import type { XmppStream } from './stream.js';
import { XmppError } from './errors.js';
import { NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_OOB, NS_UPLOAD } from './ns.js';


export interface UploadService {
  jid: string;
  /** Bytes; undefined when the service states no limit. */
  maxFileSize?: number;
}

export interface UploadSlot {
  putUrl: string;
  /** Only the headers XEP-0363 allows (Authorization, Cookie, Expires), newlines removed. */
  putHeaders: Record<string, string>;
  getUrl: string;
}

/** From a disco#info <query/>: the upload service it describes, if any. */
export function parseUploadInfo(jid: string, query: Element | undefined): UploadService | undefined {
  if (!query) return undefined;
  const features = query.getChildren('feature').map((f) => f.attrs.var);
  if (!features.includes(NS_UPLOAD)) return undefined;
  const svc: UploadService = { jid };
  for (const form of query.getChildren('x', NS_DATA)) {
    const fields = form.getChildren('field');
    const type = fields.find((f) => f.attrs.var === 'FORM_TYPE')?.getChildText('value');
    if (type !== NS_UPLOAD) continue;
    const max = fields.find((f) => f.attrs.var === 'max-file-size')?.getChildText('value')?.trim();
    if (max && /^\d+$/.test(max)) svc.maxFileSize = Number(max);
  }
  return svc;
}

const ALLOWED_HEADERS = ['authorization', 'cookie', 'expires'];

/** From a slot result <iq/>. Throws XmppError 'bad-slot' unless both URLs are https. */
export function parseSlot(iq: Element): UploadSlot {
  const slot = iq.getChild('slot', NS_UPLOAD);
  const put = slot?.getChild('put');
  const get = slot?.getChild('get');
  const putUrl = put?.attrs.url;
  const getUrl = get?.attrs.url;
  if (!putUrl || !getUrl) throw new XmppError('bad-slot', 'upload service answered without put/get URLs');
  for (const u of [putUrl, getUrl]) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new XmppError('bad-slot', `upload service gave an invalid URL: ${String(u).slice(0, 200)}`);
    }
    // Never send a file (even an encrypted one) or its link over plain HTTP.
    if (parsed.protocol !== 'https:') throw new XmppError('bad-slot', `upload service gave a non-https URL: ${u}`);
  }
  const putHeaders: Record<string, string> = {};
  for (const h of put.getChildren('header')) {
    const name = String(h.attrs.name ?? '');
    if (!ALLOWED_HEADERS.includes(name.toLowerCase())) continue; // XEP-0363 §5: others MUST be dropped
    putHeaders[name] = h.text().replace(/[\r\n]/g, '');
  }
  return { putUrl, putHeaders, getUrl };
}

export function buildSlotRequest(filename: string, size: number, contentType: string): Element {
  return xml('request', { xmlns: NS_UPLOAD, filename, size: String(size), 'content-type': contentType });
}

export function buildOobMessage(to: string, url: string, id: string): Element {
  return xml(
    'message',
    { to, type: 'chat', id },
    xml('body', {}, url),
    xml('x', { xmlns: NS_OOB }, xml('url', {}, url)),
  );
}

export class Upload {
  private cached?: { domain: string; svc: UploadService | undefined };

  constructor(private readonly session: XmppStream) {}

  /** The server's upload service: the domain itself or one of its disco#items. Cached per domain. */
  async discover(): Promise<UploadService | undefined> {
    const s = this.session;
    if (this.cached && this.cached.domain === s.domain && this.cached.svc) return this.cached.svc;
    const info = async (jid: string) => {
      try {
        const r = await s.iq('get', xml('query', { xmlns: NS_DISCO_INFO }), jid);
        return parseUploadInfo(jid, r.getChild('query', NS_DISCO_INFO));
      } catch {
        return undefined; // an item that does not answer is simply not our upload service
      }
    };
    let svc = await info(s.domain);
    if (!svc) {
      const r = await s.iq('get', xml('query', { xmlns: NS_DISCO_ITEMS }), s.domain);
      const items = r.getChild('query', NS_DISCO_ITEMS)?.getChildren('item').map((i) => i.attrs.jid).filter((j): j is string => typeof j === 'string' && j !== '') ?? [];
      for (const jid of items) {
        svc = await info(jid);
        if (svc) break;
      }
    }
    this.cached = { domain: s.domain, svc };
    return svc;
  }

  async requestSlot(service: string, filename: string, size: number, contentType: string): Promise<UploadSlot> {
    const r = await this.session.iq('get', buildSlotRequest(filename, size, contentType), service);
    return parseSlot(r);
  }

  async sendOob(to: string, url: string, id: string): Promise<void> {
    await this.session.send(buildOobMessage(to, url, id));
  }
}
