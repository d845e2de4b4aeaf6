// MAM catch-up, end to end (issue 4): bob sends N OMEMO messages while alice's xchat is offline;
// we time alice's reconnect until every one was fetched from the archive, decrypted and stored.
// The sender is built in-process on our own OmemoManager + XmppSession (the python peer does a
// few dozen messages/s, which would make N = 10 000 take minutes just to set up).
// Run alone: node --import tsx bench/mam.ts [N]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { xml } from '@xmpp/client';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab } from '../test/lab/prosody.js';
import { startXchat, type XchatProc } from '../test/helpers/xchat.js';
import { OmemoManager } from '../src/omemo/manager.js';
import { MemoryOmemoStore } from '../src/omemo/memory-store.js';
import { XmppSession, buildEncryptedMessage, bundleToXmlBundle, xmlBundleToBundle } from '../src/xmpp/index.js';

export interface MamResult {
  messages: number;
  seconds: number;
  msgsPerSec: number;
}

export async function mamCatchUp(opts: { messages: number; log?: (s: string) => void }): Promise<MamResult> {
  const n = opts.messages;
  const log = opts.log ?? (() => undefined);
  let lab: Lab | undefined;
  let dir: string | undefined;
  let alice: XchatProc | undefined;
  const bob = new XmppSession();
  let bobOnline = false;
  try {
    lab = await startProsody({ name: 'bench-mam' });
    const aliceJid = await lab.register('alice', 'alice-pw');
    const bobJid = await lab.register('bob', 'bob-pw');
    dir = await mkdtemp(path.join(tmpdir(), 'xchat-bench-mam-'));
    const profile = path.join(dir, 'alice');
    const l = lab;
    const startAlice = (): XchatProc => startXchat({ profile, password: 'alice-pw', caFile: l.caFile });
    const connectLine = `/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`;

    // A fresh profile publishes its identity and bundle, and marks the archive position as "now".
    alice = startAlice();
    alice.send(connectLine);
    await alice.waitFor((e) => e.event === 'status' && e.status === 'online', 60_000, 'alice online');
    if ((await alice.end()) !== 0) throw new Error('alice did not exit cleanly after the first connect');
    alice = undefined;

    // Bob: a real device of his own (published, so alice can answer the new session at the end).
    await bob.connect({ jid: `${bobJid}/bench`, password: 'bob-pw', server: lab.host, port: lab.c2sPort, ca: await readFile(lab.caFile) });
    bobOnline = true;
    const mgr = new OmemoManager(new MemoryOmemoStore(), { ownJid: bobJid, trustMode: 'blind' });
    const { deviceId } = await mgr.ensureIdentity([]);
    await bob.pep.publishBundle(bundleToXmlBundle(await mgr.ownBundle()));
    await bob.pep.publishDeviceList([deviceId]);
    const aliceDevices = (await bob.pep.fetchDeviceList(aliceJid)).ids;
    if (aliceDevices.length !== 1) throw new Error(`expected one device for alice, got ${JSON.stringify(aliceDevices)}`);
    await mgr.processDeviceList(aliceJid, aliceDevices);
    const fetchBundle = async (jid: string, id: number) => xmlBundleToBundle(await bob.pep.fetchBundle(jid, id));

    log(`mam: bob sends ${n} OMEMO messages to offline alice`);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = await mgr.encrypt(`catch-${i}`, [aliceJid], fetchBundle);
      if (!r.element.keys.some((k) => aliceDevices.includes(k.rid))) throw new Error(`message ${i} has no key for alice`);
      await bob.send(buildEncryptedMessage(aliceJid, r.element));
    }
    // Stanzas are handled in order: once the server answers this ping, every message is archived.
    // Long timeout: Prosody's storage of 10 000 messages runs well behind our sending.
    await bob.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), undefined, 900_000);
    log(`mam: sent in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await bob.disconnect();
    bobOnline = false;

    // The measured part: connect, page through the archive, decrypt, store, emit.
    alice = startAlice();
    const a = alice;
    const away = new RegExp(`^(\\d+) messages? from ${bobJid.replace(/[.]/g, '\\.')} while you were away`);
    // The clock starts when the session starts connecting (node + tsx startup is not catch-up).
    a.send(connectLine);
    await a.waitFor((e) => e.event === 'status' && e.status === 'connecting', 60_000, 'alice connecting');
    const start = performance.now();
    const summary = await a.waitFor((e) => e.event === 'info' && away.test(String(e.message)), 600_000, 'away summary');
    const seconds = (performance.now() - start) / 1000;
    const got = a.events.filter((e) => e.event === 'message' && e.archived === true && /^catch-\d+$/.test(String(e.body)));
    const reported = Number(away.exec(String(summary.message))![1]);
    if (got.length !== n || reported !== n) {
      const errors = a.events.filter((e) => e.event === 'error').slice(0, 3);
      throw new Error(`caught up ${got.length} (summary: ${reported}) of ${n} messages; errors: ${JSON.stringify(errors)}`);
    }
    log(`mam: ${n} messages caught up in ${seconds.toFixed(2)} s`);
    return { messages: n, seconds, msgsPerSec: n / seconds };
  } finally {
    if (alice) await alice.end(10_000).catch(() => alice?.kill9());
    if (bobOnline) await bob.disconnect().catch(() => undefined);
    await lab?.stop().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const n = Number(process.argv[2] ?? 1000) || 1000;
  mamCatchUp({ messages: n, log: (s) => process.stderr.write(`[bench] ${s}\n`) }).then(
    (r) => console.log(JSON.stringify(r)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
