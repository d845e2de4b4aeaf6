// MAM catch-up, end to end: bob sends N OMEMO messages while alice's xchat is offline; we time
// alice's catch-up until every one was fetched from the archive, decrypted, stored and shown.
// Two clocks:
// - issue 4 ('connecting'): from the session starting to connect (xchat through tsx) to the summary;
// - issue 9, item 8 ('spawn', with `bare`): from spawning the built bin/xchat to the last message
//   shown, beside a bare slixmpp client (bench/slixmpp_mam.py) paging the same archive with the
//   same page size from its own spawn, decrypting and storing nothing.
// The sender is built in-process on our own OmemoManager + XmppSession (the python peer does a
// few dozen messages/s, which would make N = 10 000 take minutes just to set up).
// Run alone: node --import tsx bench/mam.ts [N] [--sql]
//   --sql: the issue 9 comparison: Prosody keeps its archive in SQLite (LuaDBI), as a production
//   server would; the built binary timed from spawn, against slixmpp. Without: the issue 4 row.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { xml } from '@xmpp/client';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab, type LabStorage } from '../test/lab/prosody.js';
import { startXchat, type XchatProc } from '../test/helpers/xchat.js';
import { OmemoManager } from '../src/omemo/manager.js';
import { MemoryOmemoStore } from '../src/omemo/memory-store.js';
import { XmppSession, buildEncryptedMessage, bundleToXmlBundle, xmlBundleToBundle } from '../src/xmpp/index.js';
import { CATCH_UP_PAGE } from '../src/core/session/archive.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface MamResult {
  messages: number;
  seconds: number;
  msgsPerSec: number;
  storage: LabStorage;
  clock: 'connecting' | 'spawn';
  /** The bare slixmpp client paging the same archive (spawn → last page); null when not run. */
  bare: { seconds: number; loginSeconds: number; msgsPerSec: number; results: number; pages: number } | null;
  /** Start of the clock → online (the login part of `seconds`). */
  onlineSeconds: number;
}

export interface MamOptions {
  messages: number;
  storage?: LabStorage;
  /** 'spawn': the built binary, timed from spawn to the last message shown. */
  clock?: 'connecting' | 'spawn';
  /** /usr/bin/python3: also time the bare slixmpp client (spawn → last page). */
  python?: string;
  log?: (s: string) => void;
}

/** Bob, a real device of his own (published, so alice can answer the new session), sends n messages. */
async function sendAsBob(lab: Lab, aliceJid: string, bobJid: string, n: number, log: (s: string) => void): Promise<void> {
  const bob = new XmppSession();
  await bob.connect({ jid: `${bobJid}/bench`, password: 'bob-pw', server: lab.host, port: lab.c2sPort, ca: await readFile(lab.caFile) });
  try {
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
  } finally {
    await bob.disconnect().catch(() => undefined);
  }
}

/** The bare client: spawn → last page of alice's whole archive, pages of CATCH_UP_PAGE. */
async function barePager(python: string, lab: Lab, aliceJid: string): Promise<{ seconds: number; loginSeconds: number; results: number; pages: number }> {
  const args = [path.join(HERE, 'slixmpp_mam.py'), `${aliceJid}/bare`, 'alice-pw', lab.host, String(lab.c2sPort), lab.caFile, String(CATCH_UP_PAGE)];
  const { stdout } = await promisify(execFile)(python, args, { timeout: 600_000, maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number | null; login_seconds: number | null; results: number; pages: number; error: string | null };
  if (r.seconds === null || r.login_seconds === null) throw new Error(`slixmpp MAM pager failed: ${r.error ?? 'no result'}`);
  return { seconds: r.seconds, loginSeconds: r.login_seconds, results: r.results, pages: r.pages };
}

export async function mamCatchUp(opts: MamOptions): Promise<MamResult> {
  const n = opts.messages;
  const storage = opts.storage ?? 'internal';
  const clock = opts.clock ?? 'connecting';
  const log = opts.log ?? (() => undefined);
  let lab: Lab | undefined;
  let dir: string | undefined;
  let alice: XchatProc | undefined;
  try {
    if (clock === 'spawn') await promisify(execFile)(process.execPath, [path.join(HERE, '..', 'scripts', 'build.mjs')]);
    lab = await startProsody({ name: 'bench-mam', storage });
    const aliceJid = await lab.register('alice', 'alice-pw');
    const bobJid = await lab.register('bob', 'bob-pw');
    dir = await mkdtemp(path.join(tmpdir(), 'xchat-bench-mam-'));
    const profile = path.join(dir, 'alice');
    const l = lab;
    const connectLine = `/connect ${aliceJid} server ${lab.host} port ${lab.c2sPort} tls force`;

    // A fresh profile publishes its identity and bundle, marks the archive position as "now", and
    // saves the account (the spawn clock starts xchat with --account).
    alice = startXchat({ profile, password: 'alice-pw', caFile: l.caFile });
    alice.send(connectLine);
    await alice.waitFor((e) => e.event === 'status' && e.status === 'online', 60_000, 'alice online');
    if ((await alice.end()) !== 0) throw new Error('alice did not exit cleanly after the first connect');
    alice = undefined;

    await sendAsBob(lab, aliceJid, bobJid, n, log);

    // The baseline first: it sends no presence, so it changes nothing xchat will find.
    let bare: MamResult['bare'] = null;
    if (opts.python) {
      const b = await barePager(opts.python, lab, aliceJid);
      if (b.results < n) throw new Error(`the bare client paged ${b.results} of ${n} messages`);
      bare = { ...b, msgsPerSec: n / b.seconds };
      log(`mam: bare slixmpp client logged in at ${b.loginSeconds.toFixed(2)} s, paged ${b.results} results in ${b.pages} pages, last at ${b.seconds.toFixed(2)} s from spawn`);
    }

    // The measured part: connect, page through the archive, decrypt, store, emit.
    const last = `catch-${n - 1}`;
    let start = performance.now();
    if (clock === 'spawn') {
      alice = startXchat({ profile, password: 'alice-pw', caFile: l.caFile, args: ['--account', aliceJid], built: true });
    } else {
      alice = startXchat({ profile, password: 'alice-pw', caFile: l.caFile });
      alice.send(connectLine);
      // The clock starts when the session starts connecting (node + tsx startup is not catch-up).
      await alice.waitFor((e) => e.event === 'status' && e.status === 'connecting', 60_000, 'alice connecting');
      start = performance.now();
    }
    const a = alice;
    const away = new RegExp(`^(\\d+) messages? from ${bobJid.replace(/[.]/g, '\\.')} while you were away`);
    // Where the time goes: start → online → first message shown → last shown.
    const at = (what: string, pred: (e: { event: string; [k: string]: unknown }) => boolean) =>
      a.waitFor(pred, 600_000, what).then(() => (performance.now() - start) / 1000);
    const marks = Promise.all([at('online', (e) => e.event === 'status' && e.status === 'online'), at('first message', (e) => e.event === 'message' && e.body === 'catch-0')]);
    await a.waitFor((e) => e.event === 'message' && e.body === last, 600_000, 'last message');
    const lastAt = performance.now();
    const [onlineAt, firstAt] = await marks;
    log(`mam: online at ${onlineAt.toFixed(2)} s, first message shown at ${firstAt.toFixed(2)} s, last at ${((lastAt - start) / 1000).toFixed(2)} s`);
    const summary = await a.waitFor((e) => e.event === 'info' && away.test(String(e.message)), 600_000, 'away summary');
    const seconds = ((clock === 'spawn' ? lastAt : performance.now()) - start) / 1000;
    const got = a.events.filter((e) => e.event === 'message' && e.archived === true && /^catch-\d+$/.test(String(e.body)));
    const reported = Number(away.exec(String(summary.message))![1]);
    if (got.length !== n || reported !== n) {
      const errors = a.events.filter((e) => e.event === 'error').slice(0, 3);
      throw new Error(`caught up ${got.length} (summary: ${reported}) of ${n} messages; errors: ${JSON.stringify(errors)}`);
    }
    log(`mam: ${n} messages caught up in ${seconds.toFixed(2)} s (${storage} storage, from ${clock})`);
    return { messages: n, seconds, msgsPerSec: n / seconds, storage, clock, bare, onlineSeconds: onlineAt };
  } finally {
    if (alice) await alice.end(10_000).catch(() => alice?.kill9());
    await lab?.stop().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000) || 1000;
  const spawnClock = args.includes('--sql');
  mamCatchUp({
    messages: n,
    storage: spawnClock ? 'sql' : 'internal',
    clock: spawnClock ? 'spawn' : 'connecting',
    ...(spawnClock ? { python: '/usr/bin/python3' } : {}),
    log: (s) => process.stderr.write(`[bench] ${s}\n`),
  }).then(
    (r) => {
      const ratio = r.bare ? ` ratio ${(r.msgsPerSec / r.bare.msgsPerSec).toFixed(2)}×` : '';
      process.stderr.write(`[bench] xchat ${r.msgsPerSec.toFixed(0)} msgs/s${r.bare ? `, bare slixmpp ${r.bare.msgsPerSec.toFixed(0)} msgs/s` : ''}${ratio}\n`);
      console.log(JSON.stringify(r));
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
