// What a hostile or broken server sends never reaches @xmpp's parser as an exception: illegal
// character references, undefined entities, absurd nesting and giant stanzas end the stream with
// one clear error (then the session reconnects); valid streams pass untouched. A short fuzz run
// here; `npm run bench` runs the long one.
import { describe, expect, it } from 'vitest';
import Parser from '@xmpp/xml/lib/Parser.js';
import { decodeUtf8AcrossReads, MAX_STANZA_CHARS } from '../../src/xmpp/xmpp-client-private.js';
import { fuzzStream } from './stream-fuzz.js';

function fakeClient() {
  const parser = new Parser();
  const stanzas: string[] = [];
  parser.on('element', (el: { toString(): string }) => stanzas.push(el.toString()));
  parser.on('error', () => undefined); // mismatched tags are the parser's own error events
  const c = { parser, _attachSocket: () => undefined, _onData: (_d: Buffer | string) => undefined };
  const broken: string[] = [];
  decodeUtf8AcrossReads(c as never, (e) => broken.push(e.message));
  return { feed: (s: string | Buffer) => c._onData(typeof s === 'string' ? Buffer.from(s) : s), stanzas, broken };
}

const HEAD = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

describe('the incoming stream guard', () => {
  it('passes valid stanzas, also with a character split between two reads', () => {
    const c = fakeClient();
    const msg = Buffer.from("<message><body>€ ok</body></message>");
    c.feed(HEAD);
    c.feed(msg.subarray(0, 17));
    c.feed(msg.subarray(17));
    expect(c.stanzas).toEqual(['<message><body>€ ok</body></message>']);
    expect(c.broken).toEqual([]);
  });

  for (const [what, bad, why] of [
    ['a NUL character reference', '<message><body>&#0;</body></message>', /malformed XML \(Illegal XML character 0x0\)/],
    ['a lone surrogate', '<message><body>&#xD800;</body></message>', /malformed XML/],
    ['an undefined entity', '<message><body>&nbsp;</body></message>', /malformed XML \(Illegal XML entity &nbsp;\)/],
    ['10,000 levels of nesting', '<a>'.repeat(10_000), /nested deeper than 128 levels/],
    ['a 10 MB stanza', `<message><body>${'x'.repeat(10 * 1024 * 1024)}</body></message>`, /larger than 4 MiB/],
  ] as const) {
    it(`${what}: no exception, one clear error, nothing more parsed`, () => {
      const c = fakeClient();
      c.feed(HEAD);
      expect(() => c.feed(bad)).not.toThrow();
      c.feed('<message><body>after</body></message>');
      expect(c.broken).toHaveLength(1);
      expect(c.broken[0]).toMatch(why);
      expect(c.stanzas).toEqual([]);
    });
  }

  it('a stanza just under the size limit passes', () => {
    const c = fakeClient();
    c.feed(HEAD);
    c.feed(`<message><body>${'y'.repeat(MAX_STANZA_CHARS - 100)}</body></message>`);
    expect(c.broken).toEqual([]);
    expect(c.stanzas).toHaveLength(1);
  });

  it('fuzz: 3,000 mutated streams, never an exception', () => {
    const r = fuzzStream(3000, 42);
    expect(r.inputs).toBe(3000);
    expect(r.uncaught).toEqual([]);
    // The mutations do hit the guard (the test cannot pass vacuously) and often leave valid XML.
    expect(r.broken).toBeGreaterThan(100);
    expect(r.clean).toBeGreaterThan(100);
  });
});
