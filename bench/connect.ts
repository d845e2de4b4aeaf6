// Issue 9: logging in and coming back. Login: spawn → online for the built `xchat run --account`
// (npm run build first), against a
// bare slixmpp client logging into the same server (spawn → session_start). Reconnect: the server
// restarts; the time from its being back up to xchat online again.
// Run alone: node --import tsx bench/connect.ts
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab } from '../test/lab/prosody.js';
import { startXchat } from '../test/helpers/xchat.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface ConnectResult {
  xchatLoginS: number;
  slixmppLoginS: number | null;
  reconnectS: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function connectBench(opts: { runs: number; python?: string; log?: (s: string) => void }): Promise<ConnectResult> {
  const log = opts.log ?? (() => undefined);
  let lab: Lab | undefined;
  let dir: string | undefined;
  try {
    lab = await startProsody({ name: 'bench-connect' });
    const jid = await lab.register('alice', 'alice-pw');
    dir = await mkdtemp(path.join(tmpdir(), 'xchat-bench-connect-'));
    const profile = path.join(dir, 'alice');
    // The first connect creates the identity and saves the account (not timed).
    const first = startXchat({ profile, password: 'alice-pw', caFile: lab.caFile });
    first.send(`/connect ${jid} server ${lab.host} port ${lab.c2sPort}`);
    await first.waitFor((e) => e.event === 'status' && e.status === 'online', 60_000, 'first login');
    await first.end();

    const xchat: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const t = performance.now();
      const x = startXchat({ profile, password: 'alice-pw', caFile: lab.caFile, args: ['--account', jid], built: true });
      await x.waitFor((e) => e.event === 'status' && e.status === 'online', 60_000, 'login');
      xchat.push((performance.now() - t) / 1000);
      await x.end();
    }
    log(`xchat logins: ${xchat.map((s) => s.toFixed(2)).join(' ')} s`);

    let slixmpp: number | null = null;
    if (opts.python) {
      const py: number[] = [];
      for (let i = 0; i < opts.runs; i++) {
        const { stdout } = await promisify(execFile)(opts.python, [path.join(HERE, 'slixmpp_login.py'), `${jid}/bench`, 'alice-pw', lab.host, String(lab.c2sPort), lab.caFile]);
        py.push((JSON.parse(stdout.trim().split('\n').at(-1)!) as { seconds: number }).seconds);
      }
      log(`slixmpp logins: ${py.map((s) => s.toFixed(2)).join(' ')} s`);
      slixmpp = median(py);
    }

    // Reconnect: online, the server restarts, time from up again to online again.
    const x = startXchat({ profile, password: 'alice-pw', caFile: lab.caFile, args: ['--account', jid] });
    await x.waitFor((e) => e.event === 'status' && e.status === 'online', 60_000, 'online before the restart');
    const before = x.events.filter((e) => e.event === 'status' && e.status === 'online').length;
    await lab.restart(2000);
    const up = performance.now();
    while (x.events.filter((e) => e.event === 'status' && e.status === 'online').length <= before) {
      if (performance.now() - up > 120_000) throw new Error('not back online within 120 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const reconnectS = (performance.now() - up) / 1000;
    await x.end();
    return { xchatLoginS: median(xchat), slixmppLoginS: slixmpp, reconnectS };
  } finally {
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  void connectBench({ runs: 5, python: '/usr/bin/python3', log: (s) => process.stderr.write(`${s}\n`) }).then((r) => console.log(JSON.stringify(r)));
}
