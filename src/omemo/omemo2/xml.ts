// A small strict XML parser and serializer for the decrypted SCE envelope (src/omemo may not use
// the XMPP library). XMPP's restricted XML (RFC 6120 §11.1) is what it accepts: elements,
// attributes, namespaces (default and prefixed, xml:), text, CDATA, the five predefined entities
// and character references. Comments, processing instructions (but a leading XML declaration),
// DTDs, unbound prefixes, duplicate attributes and characters XML forbids are refused, as is
// anything after the root element: every refusal is OmemoError 'bad-envelope'.
import { OmemoError } from '../errors.js';

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export interface XmlAttr {
  /** Local name. */
  name: string;
  /** '' for an unprefixed attribute. */
  ns: string;
  value: string;
}

export interface XmlElement {
  /** Local name. */
  name: string;
  ns: string;
  attrs: XmlAttr[];
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

/** Bounds the work hostile input can cause. */
export const MAX_XML_LENGTH = 1024 * 1024;
export const MAX_XML_DEPTH = 64;

const NCNAME = /[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*/y;
const FORBIDDEN_CHARS = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const XML_DECL = /^<\?xml(?:\s+[A-Za-z]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*\?>/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

type Scope = Map<string, string>; // prefix ('' = default) → namespace

interface RawAttr {
  qname: string;
  value: string;
}

class Parser {
  private pos = 0;
  constructor(private readonly s: string) {}

  fail(msg: string): never {
    throw new OmemoError('bad-envelope', `malformed XML at offset ${this.pos}: ${msg}`);
  }

  document(): XmlElement {
    const decl = XML_DECL.exec(this.s);
    if (decl) this.pos = decl[0].length;
    this.skipSpace();
    if (this.s[this.pos] !== '<') this.fail('expected the root element');
    const root = this.element(new Map([['xml', XML_NS]]), 1);
    this.skipSpace();
    if (this.pos !== this.s.length) this.fail('content after the root element');
    return root;
  }

  private skipSpace(): void {
    while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos])) this.pos++;
  }

  private qname(): string {
    const first = this.ncname();
    if (this.s[this.pos] !== ':') return first;
    this.pos++;
    return `${first}:${this.ncname()}`;
  }

  private ncname(): string {
    NCNAME.lastIndex = this.pos;
    const m = NCNAME.exec(this.s);
    if (!m) this.fail('expected a name');
    this.pos += m[0].length;
    return m[0];
  }

  private element(parent: Scope, depth: number): XmlElement {
    if (depth > MAX_XML_DEPTH) this.fail(`nested deeper than ${MAX_XML_DEPTH}`);
    this.pos++; // '<'
    const qname = this.qname();
    const raw = this.attributes();
    const scope = declare(parent, raw, (m) => this.fail(m));
    const el: XmlElement = { ...resolve(qname, scope, true, (m) => this.fail(m)), attrs: [], children: [] };
    const expanded = new Set<string>();
    for (const a of raw) {
      if (a.qname === 'xmlns' || a.qname.startsWith('xmlns:')) continue;
      const { name, ns } = resolve(a.qname, scope, false, (m) => this.fail(m));
      const key = `${ns}\u0000${name}`;
      if (expanded.has(key)) this.fail(`duplicate attribute ${a.qname}`);
      expanded.add(key);
      el.attrs.push({ name, ns, value: a.value });
    }
    if (this.s.startsWith('/>', this.pos)) {
      this.pos += 2;
      return el;
    }
    if (this.s[this.pos] !== '>') this.fail(`unterminated start tag <${qname}>`);
    this.pos++;
    this.content(el, scope, depth);
    this.pos += 2; // '</'
    if (this.qname() !== qname) this.fail(`end tag does not match <${qname}>`);
    this.skipSpace();
    if (this.s[this.pos] !== '>') this.fail('unterminated end tag');
    this.pos++;
    return el;
  }

  private attributes(): RawAttr[] {
    const out: RawAttr[] = [];
    // A set, not a scan: a megabyte of attributes must not cost quadratic time.
    const seen = new Set<string>();
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const c = this.s[this.pos];
      if (c === '>' || c === '/' || c === undefined) return out;
      if (this.pos === before) this.fail('attributes must be separated by white space');
      const qname = this.qname();
      if (seen.has(qname)) this.fail(`duplicate attribute ${qname}`);
      seen.add(qname);
      this.skipSpace();
      if (this.s[this.pos] !== '=') this.fail(`attribute ${qname} has no value`);
      this.pos++;
      this.skipSpace();
      const quote = this.s[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`attribute ${qname} is not quoted`);
      const end = this.s.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`attribute ${qname} is not terminated`);
      const rawValue = this.s.slice(this.pos + 1, end);
      if (rawValue.includes('<')) this.fail(`'<' in attribute ${qname}`);
      // Attribute-value normalization: literal white space characters become spaces.
      out.push({ qname, value: this.decode(rawValue.replace(/[\t\n]/g, ' ')) });
      this.pos = end + 1;
    }
  }

  private content(el: XmlElement, scope: Scope, depth: number): void {
    let text = '';
    const flush = () => {
      if (text) el.children.push(text);
      text = '';
    };
    for (;;) {
      const lt = this.s.indexOf('<', this.pos);
      if (lt < 0) this.fail(`<${el.name}> is not closed`);
      const chunk = this.s.slice(this.pos, lt);
      if (chunk.includes(']]>')) this.fail("']]>' in text");
      text += this.decode(chunk);
      this.pos = lt;
      if (this.s.startsWith('</', lt)) {
        flush();
        return;
      }
      if (this.s.startsWith('<![CDATA[', lt)) {
        const end = this.s.indexOf(']]>', lt + 9);
        if (end < 0) this.fail('unterminated CDATA section');
        text += this.s.slice(lt + 9, end);
        this.pos = end + 3;
        continue;
      }
      if (this.s.startsWith('<!', lt) || this.s.startsWith('<?', lt)) this.fail('comments, DTDs and processing instructions are not allowed');
      flush();
      el.children.push(this.element(scope, depth + 1));
    }
  }

  /** Entity and character references → text; anything else after '&' is refused. */
  private decode(raw: string): string {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;&]*);?/g, (whole: string, ref: string) => {
      if (!whole.endsWith(';')) this.fail(`unterminated reference &${ref}`);
      if (ENTITIES[ref] !== undefined) return ENTITIES[ref];
      const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
      if (!m) this.fail(`unknown entity &${ref};`);
      const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
      const ch = cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\u0000';
      if (FORBIDDEN_CHARS.test(ch)) this.fail(`character reference &${ref}; is not an XML character`);
      return ch;
    });
  }
}

function declare(parent: Scope, raw: RawAttr[], fail: (m: string) => never): Scope {
  let scope = parent;
  for (const a of raw) {
    if (a.qname !== 'xmlns' && !a.qname.startsWith('xmlns:')) continue;
    const prefix = a.qname === 'xmlns' ? '' : a.qname.slice(6);
    if (prefix === 'xmlns' || (prefix === 'xml') !== (a.value === XML_NS)) fail(`reserved namespace binding ${a.qname}`);
    if (prefix !== '' && a.value === '') fail(`prefix ${prefix} cannot be unbound`);
    if (scope === parent) scope = new Map(parent);
    scope.set(prefix, a.value);
  }
  return scope;
}

function resolve(qname: string, scope: Scope, element: boolean, fail: (m: string) => never): { name: string; ns: string } {
  const colon = qname.indexOf(':');
  if (colon < 0) return { name: qname, ns: element ? (scope.get('') ?? '') : '' };
  const prefix = qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (ns === undefined) fail(`unbound prefix ${prefix}`);
  return { name: qname.slice(colon + 1), ns };
}

/** Parses one XML document (a root element). Throws OmemoError 'bad-envelope'. */
export function parseXml(text: string): XmlElement {
  if (typeof text !== 'string') throw new OmemoError('bad-envelope', 'XML input is not text');
  if (text.length > MAX_XML_LENGTH) throw new OmemoError('bad-envelope', `XML longer than ${MAX_XML_LENGTH} characters`);
  if (FORBIDDEN_CHARS.test(text)) throw new OmemoError('bad-envelope', 'XML contains characters XML does not allow');
  // End-of-line handling comes before parsing (XML 1.0 §2.11).
  return new Parser(text.replace(/\r\n?/g, '\n')).document();
}

/** Characters XML cannot carry at all become U+FFFD, so what we write always parses. */
function xmlChars(s: string): string {
  return s.replace(FORBIDDEN_CHARS_ALL, '\uFFFD');
}
const FORBIDDEN_CHARS_ALL = new RegExp(FORBIDDEN_CHARS.source, 'g');

export function escapeText(s: string): string {
  return xmlChars(s).replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

export function escapeAttr(s: string): string {
  return xmlChars(s).replace(/[&<>'"\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** XML text of an element; a namespace is declared wherever it differs from the parent's. */
export function serializeXml(el: XmlElement, parentNs = ''): string {
  let out = `<${el.name}`;
  if (el.ns !== parentNs) out += ` xmlns='${escapeAttr(el.ns)}'`;
  let n = 0;
  for (const a of el.attrs) {
    if (a.ns === '') out += ` ${a.name}='${escapeAttr(a.value)}'`;
    else if (a.ns === XML_NS) out += ` xml:${a.name}='${escapeAttr(a.value)}'`;
    else {
      const p = `a${n++}`;
      out += ` xmlns:${p}='${escapeAttr(a.ns)}' ${p}:${a.name}='${escapeAttr(a.value)}'`;
    }
  }
  if (el.children.length === 0) return `${out}/>`;
  out += '>';
  for (const c of el.children) out += typeof c === 'string' ? escapeText(c) : serializeXml(c, el.ns);
  return `${out}</${el.name}>`;
}

/** The element's character data; an element child makes it no text-only element (null). */
export function textOnly(el: XmlElement): string | null {
  let out = '';
  for (const c of el.children) {
    if (typeof c !== 'string') return null;
    out += c;
  }
  return out;
}
