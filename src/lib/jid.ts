// The one JID module. Case rules, stated once: the local part and the domain are compared
// case-insensitively (nodeprep/nameprep fold case for the ASCII range users type), so a bare JID is
// always kept lower-case; a resource is case-sensitive and kept as written.

export interface JidParts {
  local?: string;
  domain: string;
  resource?: string;
}

/** The bare JID (local@domain or domain), lower-case; a resource is dropped. */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return (slash === -1 ? jid : jid.slice(0, slash)).toLowerCase();
}

/** The bare part as the user or server wrote it (for display only; compare with bareJid). */
export function bareAsWritten(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid : jid.slice(0, slash);
}

/** The resource of a full JID, as written; undefined for a bare JID. */
export function resourceOf(jid: string): string | undefined {
  const slash = jid.indexOf('/');
  return slash === -1 ? undefined : jid.slice(slash + 1);
}

/** Splits a JID; null when it has no domain or an empty local part/resource where one is marked. */
export function parseJid(jid: string): JidParts | null {
  const resource = resourceOf(jid);
  if (resource === '') return null;
  const bare = bareJid(jid);
  const at = bare.indexOf('@');
  const local = at === -1 ? undefined : bare.slice(0, at);
  const domain = at === -1 ? bare : bare.slice(at + 1);
  if (local === '' || !domain || /[\s@/]/.test(domain)) return null;
  return { ...(local !== undefined ? { local } : {}), domain, ...(resource !== undefined ? { resource } : {}) };
}

/** Same bare JID (case-insensitive local part and domain). */
export function sameBareJid(a: string, b: string): boolean {
  return bareJid(a) === bareJid(b);
}

/** Same full JID: bare parts case-insensitive, resource exact. */
export function sameFullJid(a: string, b: string): boolean {
  return sameBareJid(a, b) && resourceOf(a) === resourceOf(b);
}

/** The local part of a JID, or undefined (a domain JID). */
export function localPart(jid: string): string | undefined {
  return parseJid(jid)?.local;
}
