// Mutated XMPP streams for the stream guard: valid stanzas with illegal references, entities,
// truncations, random bytes and deep nesting spliced in. Shared by the test and the benchmark.
import Parser from '@xmpp/xml/lib/Parser.js';
import { decodeUtf8AcrossReads } from '../../src/xmpp/xmpp-client-private.js';

const HEAD = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
const STANZAS = [
  "<message from='a@b/c' type='chat' id='1'><body>hello &amp; bye</body></message>",
  "<presence from='r@m/n'><x xmlns='http://jabber.org/protocol/muc#user'><item jid='a@b' role='participant'/></x></presence>",
  "<iq type='result' id='x1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n'><item id='current'><list/></item></items></pubsub></iq>",
];
const JUNK = ['&#0;', '&#xD800;', '&#x110000;', '&foo;', '&#;', '<', '>', "'", '"', '</a>', '<![CDATA[', ']]>', '<?x?>', '<!--', '\u0000', '\uFFFE', '&#x1F600;', '<a b=c>'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function mutate(text: string, r: () => number): string {
  let t = text;
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (t.length + 1));
    const op = r();
    if (op < 0.5) t = t.slice(0, at) + JUNK[Math.floor(r() * JUNK.length)] + t.slice(at);
    else if (op < 0.7) t = t.slice(0, at);
    else if (op < 0.85) t = t.slice(0, at) + String.fromCharCode(Math.floor(r() * 0xffff)) + t.slice(at);
    else t = t.slice(0, at) + '<d>'.repeat(Math.floor(r() * 400)) + t.slice(at);
  }
  return t;
}

export function fuzzStream(count: number, seed: number): { inputs: number; broken: number; clean: number; uncaught: string[] } {
  const r = rng(seed);
  let broken = 0;
  let clean = 0;
  const uncaught: string[] = [];
  for (let i = 0; i < count; i++) {
    const parser = new Parser();
    parser.on('error', () => undefined);
    parser.on('element', () => undefined);
    const c = { parser, _attachSocket: () => undefined, _onData: (_d: Buffer | string) => undefined };
    let wasBroken = false;
    decodeUtf8AcrossReads(c as never, () => void (wasBroken = true));
    const input = HEAD + mutate(STANZAS[i % STANZAS.length], r);
    try {
      // Split at a random point, as reads arrive.
      const bytes = Buffer.from(input);
      const cut = Math.floor(r() * bytes.length);
      c._onData(bytes.subarray(0, cut));
      c._onData(bytes.subarray(cut));
    } catch (e) {
      if (uncaught.length < 5) uncaught.push(`${e instanceof Error ? e.message : String(e)} on ${JSON.stringify(input.slice(0, 120))}`);
    }
    if (wasBroken) broken++;
    else clean++;
  }
  return { inputs: count, broken, clean, uncaught };
}
