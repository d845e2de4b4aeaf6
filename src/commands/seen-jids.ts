// The JIDs a session has shown (messages, chats, devices, trust, subscriptions), for completion in
// both front ends.
import type { CoreApi, XchatEvent } from '../core/api.js';
import { bareJid } from '../lib/jid.js';

function jidOf(e: XchatEvent): string | undefined {
  switch (e.event) {
    case 'message':
      return e.carbon === 'sent' ? e.to : e.from;
    case 'chat':
    case 'device':
    case 'trust':
      return e.jid;
    case 'subscription':
      return e.from;
    default:
      return undefined;
  }
}

export function trackSeenJids(core: Pick<CoreApi, 'on'>): { jids(): string[]; stop(): void } {
  const seen = new Set<string>();
  const off = core.on((e) => {
    const jid = jidOf(e);
    if (jid) seen.add(bareJid(jid));
  });
  return { jids: () => [...seen], stop: () => void off() };
}
