// disco#info responder and XEP-0115 entity capabilities. @xmpp/client answers no disco#info by
// itself, and Prosody's PEP only sends +notify events to clients whose caps it has resolved.
import { xml, type Element } from '@xmpp/client';
import type { XmppStream } from './stream.js';
import { NS_AXOLOTL, NS_CAPS, NS_CARBONS, NS_DISCO_INFO, NS_EME, NS_PING, NS_STANZAS } from './ns.js';

export const CAPS_NODE = 'https://xchat.invalid/caps';

export interface Identity {
  category: string;
  type: string;
  name: string;
}

// SHA-1 lives in src/omemo/primitives.ts, which also carries the OMEMO crypto libraries; it is
// loaded on first use so that a connection attempt never waits for them (XmppStream.connect
// loads it while logging in, before anything needs a caps hash).
let sha1: ((d: Uint8Array) => Uint8Array) | undefined;

export async function loadCapsHash(): Promise<void> {
  sha1 ??= (await import('../omemo/primitives.js')).sha1;
}

/**
 * XEP-0115 §5.1 verification string hash (one identity, no lang, no extended forms). Needs
 * `loadCapsHash()` first.
 */
export function capsVer(identity: Identity, features: readonly string[]): string {
  if (!sha1) throw new Error('capsVer: loadCapsHash() has not completed');
  let s = `${identity.category}/${identity.type}//${identity.name}<`;
  for (const f of [...features].sort()) s += `${f}<`;
  return Buffer.from(sha1(new TextEncoder().encode(s))).toString('base64');
}

export class Disco {
  identity: Identity = { category: 'client', type: 'console', name: 'xchat' };
  private readonly features = new Set<string>([
    NS_DISCO_INFO,
    NS_CAPS,
    NS_PING,
    NS_CARBONS,
    NS_EME,
    NS_AXOLOTL,
  ]);

  constructor(session: XmppStream) {
    session.handleIqGet(NS_DISCO_INFO, 'query', async ({ element }) => {
      await loadCapsHash(); // a query could in principle beat connect()'s own load
      return this.answer(element);
    });
  }

  addFeature(f: string): void {
    this.features.add(f);
  }

  featureList(): string[] {
    return [...this.features].sort();
  }

  ver(): string {
    return capsVer(this.identity, this.featureList());
  }

  capsElement(): Element {
    return xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver: this.ver() });
  }

  answer(query: Element): Element {
    const node = query.attrs.node;
    if (node !== undefined && node !== `${CAPS_NODE}#${this.ver()}`) {
      return xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS_STANZAS }));
    }
    return xml(
      'query',
      node ? { xmlns: NS_DISCO_INFO, node } : { xmlns: NS_DISCO_INFO },
      xml('identity', { ...this.identity }),
      ...this.featureList().map((f) => xml('feature', { var: f })),
    );
  }
}
