// Issue 7: parsing what contacts write must stay linear. Times the inputs named in the issue:
// a maximum-size body with 2,417 aesgcm:// links, a device list of 9,000 ids, a verification URI
// with 5,000 pairs. Median of several runs, in ms.
import { performance } from 'node:perf_hooks';
import { findAesgcmUrls } from '../src/omemo/media.js';
import { deviceListFromXml, parseXml } from '../src/xmpp/omemo-xml.js';
import { parseOmemoUri } from '../src/omemo/uri.js';

function medianMs(fn: () => void, runs = 15): number {
  fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

export function parsingRows(): { id: string; scenario: string; ms: number }[] {
  const links = Array.from({ length: 2417 }, (_, i) => `aesgcm://up.example/${i}/f.bin#${'ab'.repeat(44)}`).join(' ');
  const list = parseXml(`<list xmlns='eu.siacs.conversations.axolotl'>${Array.from({ length: 9000 }, (_, i) => `<device id='${i + 1}'/>`).join('')}</list>`);
  const uri = `xmpp:bob@example.org?${Array.from({ length: 5000 }, (_, i) => `omemo-sid-${i + 1}=${'ab'.repeat(32)}`).join(';')}`;
  return [
    { id: 'parse.links', scenario: 'aesgcm link scan, maximum-size body with 2,417 links', ms: medianMs(() => findAesgcmUrls(links)) },
    { id: 'parse.devicelist', scenario: 'device list parse, 9,000 ids', ms: medianMs(() => deviceListFromXml(list)) },
    { id: 'parse.uri', scenario: 'verification URI parse, 5,000 pairs', ms: medianMs(() => parseOmemoUri(uri)) },
  ];
}
