// The SCE envelope of OMEMO 2 and the strict XML reader under it: what we send parses back, what
// other clients write (prefixes, entities, CDATA, xml:lang) is read, <from>/<to> are checked
// against the stanza, and malformed or hostile XML is one typed error.
import { describe, expect, it } from 'vitest';
import { isOmemoError } from '../../src/omemo/errors.js';
import { buildEnvelope, checkEnvelope, parseEnvelope, RPAD_MAX, type Envelope } from '../../src/omemo/omemo2/sce.js';
import { parseXml, serializeXml } from '../../src/omemo/omemo2/xml.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isOmemoError(e)) return e.code;
    throw e;
  }
  return 'ok';
}

const env = (inner: string) => `<envelope xmlns='urn:xmpp:sce:1'>${inner}</envelope>`;
const withBody = (body: string, affixes = "<rpad>x</rpad><from jid='alice@x'/>") => env(`<content><body xmlns='jabber:client'>${body}</body></content>${affixes}`);

describe('SCE envelope', () => {
  it('what we build parses back: body, from, to, time and padding of random length', () => {
    const lengths = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const xml = buildEnvelope({ body: `hi <there> & 'you' "all" ]]> ✓\n`, from: 'Alice@X/phone', to: 'room@muc.x', time: Date.UTC(2025, 0, 2, 3, 4, 5) });
      const e = parseEnvelope(xml);
      expect(e).toMatchObject({ body: `hi <there> & 'you' "all" ]]> ✓\n`, from: 'alice@x', to: 'room@muc.x', time: '2025-01-02T03:04:05.000Z', elements: [] });
      expect(e.rpad!.length).toBeGreaterThan(0);
      expect(e.rpad!.length).toBeLessThanOrEqual(RPAD_MAX);
      lengths.add(e.rpad!.length);
    }
    expect(lengths.size).toBeGreaterThan(5);
  });

  it('a body with characters XML cannot carry still makes an envelope that parses; line ends survive', () => {
    const e = parseEnvelope(buildEnvelope({ body: 'a\u0001b\uFFFEc\r\nd\re', from: 'alice@x' }));
    expect(e.body).toBe('a\uFFFDb\uFFFDc\r\nd\re');
  });

  it('reads what other clients write: prefixes, entities, character references, CDATA, xml:lang bodies, other content', () => {
    const xml =
      `<?xml version='1.0' encoding='UTF-8'?>\n<s:envelope xmlns:s="urn:xmpp:sce:1">\r\n  <s:content>` +
      `<body xml:lang='de' xmlns='jabber:client'>Hallo</body><body xmlns='jabber:client'>a &lt;b&gt; &amp;&#x1F600;&#233;<![CDATA[<raw & text>]]></body>` +
      `<reply xmlns='urn:xmpp:reply:0' id='m1' to='bob@x/r'/><store xmlns='urn:xmpp:hints'/><stanza-id xmlns='urn:xmpp:sid:0' id='s'/>` +
      `</s:content>\n  <s:rpad>abc</s:rpad><s:from jid='alice@x'/><x:unknown xmlns:x='urn:example:affix'/></s:envelope>`;
    const e = parseEnvelope(xml);
    expect(e.body).toBe('a <b> &😀é<raw & text>');
    expect(e.from).toBe('alice@x');
    // The reply stays for the XMPP floor; hints and stanza ids inside the content are dropped.
    expect(e.elements.map((x) => serializeXml(x))).toEqual([`<reply xmlns='urn:xmpp:reply:0' id='m1' to='bob@x/r'/>`]);
  });

  it('a <from> naming someone else than the sender is refused; so is a wrong or missing <to> in groupchat', () => {
    const e = parseEnvelope(withBody('hi'));
    expect(code(() => checkEnvelope(e, { from: 'alice@x' }))).toBe('ok');
    expect(code(() => checkEnvelope(e, { from: 'ALICE@x/laptop' }))).toBe('ok');
    expect(code(() => checkEnvelope(e, { from: 'mallory@x' }))).toBe('envelope-mismatch');
    expect(code(() => checkEnvelope(e, { from: 'alice@x', to: 'room@muc.x', groupchat: true }))).toBe('envelope-mismatch');
    const inRoom: Envelope = { ...e, to: 'room@muc.x' };
    expect(code(() => checkEnvelope(inRoom, { from: 'alice@x', to: 'room@muc.x', groupchat: true }))).toBe('ok');
    expect(code(() => checkEnvelope(inRoom, { from: 'alice@x', to: 'other@muc.x', groupchat: true }))).toBe('envelope-mismatch');
    // A room message turned into a private one: the envelope still names the room.
    expect(code(() => checkEnvelope(inRoom, { from: 'alice@x', to: 'bob@x' }))).toBe('envelope-mismatch');
  });

  it('anything but one envelope with one content is bad-envelope', () => {
    for (const xml of [
      'just a body',
      '',
      `<body xmlns='jabber:client'>hi</body>`,
      `<envelope xmlns='urn:xmpp:sce:0'><content/></envelope>`,
      `<envelope xmlns='urn:xmpp:sce:0'><content xmlns='urn:xmpp:sce:1'><body xmlns='jabber:client'>hi</body></content></envelope>`,
      `<message xmlns='jabber:client'><content xmlns='urn:xmpp:sce:1'><body>hi</body></content></message>`,
      env('<rpad>x</rpad>'),
      env('<content/><content/>'),
      env("<content/><from jid='a@x'/><from jid='b@x'/>"),
      env('<content/><from/>'),
      env('<content/>stray text'),
      env("<content><body xmlns='jabber:client'>a<b/>c</body></content>"),
    ]) {
      expect(code(() => parseEnvelope(xml)), xml).toBe('bad-envelope');
    }
  });
});

describe('strict XML reader', () => {
  it('refuses what restricted XML forbids and what is malformed', () => {
    const bad = [
      `<!DOCTYPE e [<!ENTITY a "aaaa">]><e>&a;</e>`,
      `<e><!-- comment --></e>`,
      `<e><?pi x?></e>`,
      `<e>&unknown;</e>`,
      `<e>&amp</e>`,
      `<e>&#0;</e>`,
      `<e>&#xD800;</e>`,
      `<e>\u0001</e>`,
      `<e>]]></e>`,
      `<e a='1' a='2'/>`,
      `<e xmlns:p='u' xmlns:q='u' p:a='1' q:a='2'/>`,
      `<p:e/>`,
      `<e xmlns:p=''/>`,
      `<e xmlns:xml='urn:other'/>`,
      `<e a=1/>`,
      `<e a='<'/>`,
      `<e a='1'b='2'/>`,
      `<e></f>`,
      `<e>`,
      `<e/><f/>`,
      `<e/>trailing`,
      `<a>${'<a>'.repeat(70)}${'</a>'.repeat(70)}</a>`,
    ];
    for (const xml of bad) expect(code(() => parseXml(xml)), xml).toBe('bad-envelope');
    // Refused for what they are, not by accident of what follows.
    for (const xml of [`<e><!-- c --></e>`, `<e><!DOCTYPE e></e>`, `<e><?pi?></e>`]) {
      expect(() => parseXml(xml)).toThrow(/comments, DTDs and processing instructions are not allowed/);
    }
  });

  it('resolves namespaces, normalizes attribute white space and end of lines, and serializes back', () => {
    const el = parseXml(`<a xmlns='urn:a' xmlns:b='urn:b' b:x='1&#10;2' y="t\tu\r\nv"><b:c/><d xmlns=''>x\r\ny</d></a>`);
    expect(el).toMatchObject({ name: 'a', ns: 'urn:a' });
    expect(el.attrs).toEqual([
      { name: 'x', ns: 'urn:b', value: '1\n2' },
      { name: 'y', ns: '', value: 't u v' },
    ]);
    expect(el.children).toMatchObject([{ name: 'c', ns: 'urn:b' }, { name: 'd', ns: '', children: ['x\ny'] }]);
    const again = parseXml(serializeXml(el));
    expect(again).toEqual(el);
  });
});
