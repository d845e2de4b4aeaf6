import { bareJid as bare, resourceOf } from '../lib/jid.js';
// The roster and contacts' presence as the session sees them: fed by the XMPP port's roster and
// presence events, read by /roster, /presence and JID completion.
export type Show = 'online' | 'chat' | 'away' | 'xa' | 'dnd';
export const STATUS_SHOWS = ['online', 'away', 'dnd', 'xa'] as const;
export type StatusShow = (typeof STATUS_SHOWS)[number];

export interface ResourcePresence {
  resource: string;
  show: Show;
  status?: string;
}

export interface ContactView {
  jid: string;
  name?: string;
  /** none|to|from|both; absent for JIDs not in the roster (presence from elsewhere). */
  subscription?: string;
  /** Our subscription request is pending. */
  pending?: boolean;
  /** Available resources; empty = offline. */
  presence: ResourcePresence[];
}

export class RosterState {
  private items = new Map<string, { jid: string; name?: string; subscription: string; ask?: string }>();
  private readonly presence = new Map<string, Map<string, ResourcePresence>>();

  setItems(items: readonly { jid: string; name?: string; subscription: string; ask?: string }[]): void {
    this.items = new Map(items.map((i) => [bare(i.jid), { ...i, jid: bare(i.jid) }]));
  }

  /** Returns the bare JID whose presence changed. */
  onPresence(p: { from: string; type: 'available' | 'unavailable'; show?: string; status?: string }): string {
    const b = bare(p.from);
    const resource = resourceOf(p.from) ?? '';
    const res = this.presence.get(b) ?? new Map<string, ResourcePresence>();
    if (p.type === 'unavailable') res.delete(resource);
    else {
      const show: Show = p.show === 'away' || p.show === 'xa' || p.show === 'dnd' || p.show === 'chat' ? p.show : 'online';
      res.set(resource, { resource, show, ...(p.status ? { status: p.status } : {}) });
    }
    if (res.size) this.presence.set(b, res);
    else this.presence.delete(b);
    return b;
  }

  clearPresence(): void {
    this.presence.clear();
  }

  /** The presence known now, for putting back when a lost stream is resumed (the server kept it). */
  presenceSnapshot(): [string, ResourcePresence[]][] {
    return [...this.presence].map(([jid, res]) => [jid, [...res.values()]]);
  }

  restorePresence(snapshot: readonly [string, ResourcePresence[]][]): void {
    for (const [jid, list] of snapshot) this.presence.set(jid, new Map(list.map((r) => [r.resource, r])));
  }

  contact(jid: string): ContactView {
    const b = bare(jid);
    const it = this.items.get(b);
    return {
      jid: b,
      ...(it?.name ? { name: it.name } : {}),
      ...(it ? { subscription: it.subscription } : {}),
      ...(it?.ask === 'subscribe' ? { pending: true } : {}),
      presence: [...(this.presence.get(b)?.values() ?? [])],
    };
  }

  /** Roster contacts, sorted by JID. */
  list(): ContactView[] {
    return [...this.items.keys()].sort().map((j) => this.contact(j));
  }

  /** Roster contacts plus anyone else whose presence we see (not ourselves). */
  withPresence(ownJid?: string): ContactView[] {
    const all = new Set([...this.items.keys(), ...this.presence.keys()]);
    if (ownJid) all.delete(bare(ownJid));
    return [...all].sort().map((j) => this.contact(j));
  }

  jids(): string[] {
    return [...new Set([...this.items.keys(), ...this.presence.keys()])];
  }
}

/** "online", "away (lunch)", "offline"; the best resource first. */
export function describePresence(c: ContactView): string {
  if (c.presence.length === 0) return 'offline';
  const rank: Record<Show, number> = { chat: 0, online: 1, away: 2, xa: 3, dnd: 4 };
  return [...c.presence]
    .sort((a, b) => rank[a.show] - rank[b.show])
    .map((p) => `${p.show}${p.status ? ` (${p.status})` : ''}${p.resource ? ` [${p.resource}]` : ''}`)
    .join(', ');
}
