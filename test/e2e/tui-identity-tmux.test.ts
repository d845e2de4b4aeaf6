// Screen test (tmux, live): when bob's device comes back with a new identity key, the user SEES
// it — the warning, both fingerprints' short forms and the command to decide — at 160×50 and at
// 60×15, and a line typed in that window is refused on screen instead of going out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { haveTmux, startTmux, type Tmux } from '../helpers/tmux.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody') && haveTmux();
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody, python3-omemo and tmux (scripts/install-test-deps)');

/** The screen without any whitespace: lines wrap anywhere at the terminal's width. */
const squash = (s: string) => s.replace(/\s+/g, '');
const shows = (needle: string) => (screen: string) => squash(screen).includes(squash(needle));

describe.skipIf(!canRun)('a changed identity key on screen (tmux, live)', () => {
  let lab: Lab;
  let dir: string;
  const peers: Peer[] = [];
  const ttys: Tmux[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'tui-identity' });
    for (const u of ['alice1', 'bob1', 'alice2', 'bob2']) await lab.register(u, `${u}-pw`);
    dir = await mkdtemp(join(tmpdir(), 'xchat-tui-identity-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(ttys.map((t) => t.kill().catch(() => undefined)));
    await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [n, width, height] of [[1, 160, 50], [2, 60, 15]] as const) {
    it(`${width}×${height}: the warning, the fingerprints and the command are on screen; nothing goes to the new key`, async () => {
      const alice = `alice${n}@localhost`;
      const bobJid = `bob${n}@localhost`;
      const peer = (state: string, forceDeviceId?: number) =>
        startPeer({ jid: bobJid, password: `bob${n}-pw`, lab, stateDir: join(dir, state), autoSubscribe: true, ...(forceDeviceId ? { forceDeviceId } : {}) });
      const bobOld = await peer(`bob${n}-old`);
      peers.push(bobOld);
      const tty = await startTmux([process.execPath, '--import', 'tsx', join(ROOT, 'src/cli.ts'), '--profile', join(dir, `alice${n}`)], {
        socket: `xchat-identity-${process.pid}-${n}`,
        width,
        height,
        cwd: ROOT,
        env: { XCHAT_PASSWORD: `alice${n}-pw`, NODE_EXTRA_CA_CERTS: lab.caFile, TERM: 'xterm-256color' },
      });
      ttys.push(tty);
      await tty.waitFor(/\[1:console\]/, 30_000, 'first paint');
      await tty.line(`/connect ${alice} server ${lab.host} port ${lab.c2sPort} tls force`);
      await tty.waitFor((s) => / online/.test(s.split('\n')[0]!), 60_000, 'online');
      await tty.line(`/msg ${bobJid} before-the-change`);
      await bobOld.waitFor((e) => e.event === 'message' && e.body === 'before-the-change', 30_000);
      await bobOld.stop();

      const bobNew = await peer(`bob${n}-new`, bobOld.ready.device_id);
      peers.push(bobNew);
      await bobNew.request({ cmd: 'send', to: alice, body: 'trust-my-new-key' });
      const id = bobOld.ready.device_id;
      const warned = await tty.waitFor(shows(`device ${id} of ${bobJid} has a NEW identity key`), 30_000, 'the warning');
      expect(squash(warned)).toContain(squash(`/omemo trust ${bobJid} ${bobNew.ready.fingerprint}`));
      expect(squash(warned)).not.toContain('{"event"'); // rendered, never raw JSON
      console.log(`screen at ${width}×${height} after the identity change:\n${warned}`);

      // On the small screen the warning may push the message off; clear, then the refusal must show.
      await tty.line('/clear');
      await tty.line('not-for-an-undecided-key');
      const refused = await tty.waitFor(shows('NOT sent'), 30_000, 'the refusal');
      expect(squash(refused)).toContain(bobNew.ready.fingerprint.slice(0, 8));
      await tty.line(`/omemo trust ${bobJid} ${bobNew.ready.fingerprint}`);
      await tty.line('after-deciding');
      await bobNew.waitFor((e) => e.event === 'message' && e.body === 'after-deciding', 30_000);
      expect(bobNew.events.some((e) => e.event === 'message' && e.body === 'not-for-an-undecided-key')).toBe(false);
      await tty.line('/quit');
      const deadline = Date.now() + 20_000;
      while (!(await tty.dead()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await tty.dead()).toBe(true);
    }, 180_000);
  }
});
