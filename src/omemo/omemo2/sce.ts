// The SCE envelope (XEP-0420, urn:xmpp:sce:1) as OMEMO 2's profile uses it (XEP-0384 0.8+):
// <envelope><content>…</content><rpad>…</rpad><time stamp/><from jid/>[<to jid/>]</envelope>.
// Sending: the body inside <content> as <body xmlns='jabber:client'>, random-length random
// padding, the time, our bare JID, and the room in groupchat. Receiving: strict XML, exactly one
// <content>, affixes at most once each; elements the server processes are dropped from the
// content (XEP-0420); <from> must be the sender and <to> the stanza's addressee (the room in
// groupchat, where it is mandatory). The XML of whole stanzas stays src/xmpp's business.
import { OmemoError } from '../errors.js';
import { randomBytes } from '../primitives.js';
import { bareJid, sameBareJid } from '../../lib/jid.js';
import { XML_NS, escapeAttr, escapeText, parseXml, serializeXml, textOnly, type XmlElement } from './xml.js';

export const NS_SCE = 'urn:xmpp:sce:1';
export const NS_CLIENT = 'jabber:client';
/** Padding is 1..RPAD_MAX characters long, so a ciphertext's length says little about the body. */
export const RPAD_MAX = 200;

/** Server-processed elements that mean nothing inside encrypted content (XEP-0420 §6). */
const SERVER_PROCESSED = new Set(['urn:xmpp:hints', 'urn:xmpp:sid:0', 'http://jabber.org/protocol/address', 'urn:xmpp:eme:0']);

export interface EnvelopeInput {
  /** The message body (absent: content without a body). */
  body?: string;
  /** Further content elements, each in its own namespace. */
  content?: XmlElement[];
  /** Our bare JID. */
  from: string;
  /** The stanza's addressee: mandatory for groupchat (the room). */
  to?: string;
  /** ms since epoch; defaults to now. */
  time?: number;
}

function rpad(): string {
  const b = randomBytes(RPAD_MAX);
  const len = 1 + (((b[0] << 8) | b[1]) % RPAD_MAX);
  // base64url: random content made only of characters that need no escaping.
  return Buffer.from(b).toString('base64url').slice(0, len);
}

/** The envelope as XML text (what gets encrypted, as UTF-8). */
export function buildEnvelope(i: EnvelopeInput): string {
  let content = '';
  if (i.body !== undefined) content += `<body xmlns='${NS_CLIENT}'>${escapeText(i.body)}</body>`;
  for (const el of i.content ?? []) content += serializeXml(el, NS_SCE);
  const stamp = new Date(i.time ?? Date.now()).toISOString();
  return (
    `<envelope xmlns='${NS_SCE}'><content>${content}</content><rpad>${rpad()}</rpad>` +
    `<time stamp='${stamp}'/><from jid='${escapeAttr(bareJid(i.from))}'/>` +
    (i.to !== undefined ? `<to jid='${escapeAttr(bareJid(i.to))}'/>` : '') +
    '</envelope>'
  );
}

export interface Envelope {
  /** The body text, null when the content has none. */
  body: string | null;
  /** The content's elements besides the body, server-processed ones dropped. */
  elements: XmlElement[];
  rpad?: string;
  /** <time stamp>, unchecked: the stanza's time is the caller's to compare. */
  time?: string;
  from?: string;
  to?: string;
}

const bad = (msg: string): never => {
  throw new OmemoError('bad-envelope', msg);
};

function onlyElements(el: XmlElement, what: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (typeof c !== 'string') out.push(c);
    else if (c.trim() !== '') bad(`text directly inside ${what}`);
  }
  return out;
}

function attr(el: XmlElement, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name && a.ns === '')?.value;
}

/** The body among the content's elements: the one without xml:lang first, else the first. */
function pickBody(elements: XmlElement[]): { body: string | null; rest: XmlElement[] } {
  // A body left in the envelope's namespace is a sender's missing xmlns, still clearly a body.
  const isBody = (e: XmlElement) => e.name === 'body' && (e.ns === NS_CLIENT || e.ns === NS_SCE);
  const bodies = elements.filter(isBody);
  const chosen = bodies.find((e) => !e.attrs.some((a) => a.name === 'lang' && a.ns === XML_NS)) ?? bodies[0];
  let body: string | null = null;
  if (chosen) body = textOnly(chosen) ?? bad('<body> must hold text only');
  return { body, rest: elements.filter((e) => !isBody(e)) };
}

type AffixName = 'rpad' | 'time' | 'from' | 'to';

/** Parses decrypted envelope XML. Throws OmemoError 'bad-envelope'. */
export function parseEnvelope(xml: string): Envelope {
  const root = parseXml(xml);
  if (root.name !== 'envelope' || root.ns !== NS_SCE) bad(`not an SCE envelope: <${root.name} xmlns='${root.ns}'>`);
  let content: XmlElement | undefined;
  const affix: Partial<Record<AffixName, XmlElement>> = {};
  for (const el of onlyElements(root, '<envelope>')) {
    if (el.ns !== NS_SCE) continue; // an affix of another specification: not ours to judge
    if (el.name === 'content') {
      if (content) bad('more than one <content>');
      content = el;
    } else if (el.name === 'rpad' || el.name === 'time' || el.name === 'from' || el.name === 'to') {
      if (affix[el.name]) bad(`more than one <${el.name}>`);
      affix[el.name] = el;
    }
  }
  if (!content) return bad('the envelope has no <content>');
  const { body, rest } = pickBody(onlyElements(content, '<content>'));
  const out: Envelope = { body, elements: rest.filter((e) => !SERVER_PROCESSED.has(e.ns)) };
  if (affix.rpad) out.rpad = textOnly(affix.rpad) ?? bad('<rpad> must hold text only');
  if (affix.time) out.time = attr(affix.time, 'stamp') ?? bad('<time> has no stamp');
  if (affix.from) out.from = attr(affix.from, 'jid') ?? bad('<from> has no jid');
  if (affix.to) out.to = attr(affix.to, 'jid') ?? bad('<to> has no jid');
  return out;
}

export interface EnvelopeExpectation {
  /** The sender's bare JID (in groupchat, the occupant's real JID). */
  from: string;
  /** The stanza's addressee, bare: the room in groupchat. */
  to?: string;
  groupchat?: boolean;
}

/**
 * Checks the affixes against the stanza. 'envelope-mismatch' when <from> names someone else than
 * the sender, when <to> names someone else than the addressee, or when a groupchat envelope has
 * no <to> (a server could otherwise turn a private message into a room message or back).
 */
export function checkEnvelope(env: Envelope, e: EnvelopeExpectation): void {
  const mismatch = (msg: string) => {
    throw new OmemoError('envelope-mismatch', msg);
  };
  if (env.from !== undefined && !sameBareJid(env.from, e.from)) {
    mismatch(`the encrypted envelope says it is from ${env.from}, but ${bareJid(e.from)} sent it`);
  }
  if (e.groupchat && env.to === undefined) mismatch('a groupchat envelope must name its room (<to>)');
  if (env.to !== undefined && e.to !== undefined && !sameBareJid(env.to, e.to)) {
    mismatch(`the encrypted envelope is addressed to ${env.to}, but the message was sent to ${bareJid(e.to)}`);
  }
}
