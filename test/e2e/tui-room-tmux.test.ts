// Screen test (tmux, live): room events read as Profanity's words in the room's window, never raw
// JSON — joining a new room, a nick change, a subject — at 160×50 and at 60×15.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab } from '../lab/prosody.js';
import { haveTmux, startTmux, type Tmux } from '../helpers/tmux.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const canRun = existsSync('/usr/bin/prosody') && haveTmux();
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody and tmux (scripts/install-test-deps)');

/** The screen without any whitespace: lines wrap anywhere at the terminal's width. */
const squash = (s: string) => s.replace(/\s+/g, '');
const shows = (needle: string) => (screen: string) => squash(screen).includes(squash(needle));

describe.skipIf(!canRun)('room events on screen (tmux, live)', () => {
  let lab: Lab;
  let dir: string;
  const ttys: Tmux[] = [];

  beforeAll(async () => {
    lab = await startProsody({ name: 'tui-room' });
    for (const u of ['alice1', 'alice2']) await lab.register(u, `${u}-pw`);
    dir = await mkdtemp(join(tmpdir(), 'xchat-tui-room-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(ttys.map((t) => t.kill().catch(() => undefined)));
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [n, width, height] of [[1, 160, 50], [2, 60, 15]] as const) {
    it(`${width}×${height}: joining, a nick change and the subject read as words`, async () => {
      const alice = `alice${n}@localhost`;
      const room = `lounge${n}@muc.localhost`;
      const tty = await startTmux([process.execPath, '--import', 'tsx', join(ROOT, 'src/cli.ts'), '--profile', join(dir, `alice${n}`)], {
        socket: `xchat-room-${process.pid}-${n}`,
        width,
        height,
        cwd: ROOT,
        env: { XCHAT_PASSWORD: `alice${n}-pw`, NODE_EXTRA_CA_CERTS: lab.caFile, TERM: 'xterm-256color' },
      });
      ttys.push(tty);
      await tty.waitFor(/\[1:console\]/, 30_000, 'first paint');
      await tty.line(`/connect ${alice} server ${lab.host} port ${lab.c2sPort} tls force`);
      await tty.waitFor((s) => / online/.test(s.split('\n')[0]!), 60_000, 'online');
      await tty.line(`/join ${room} nick al${n}`);
      // The room window opens with the join, told there in Profanity's words.
      await tty.waitFor((s) => s.split('\n')[0]!.includes(room), 30_000, 'room window');
      const joinScreen = await tty.waitFor(shows(`-> You have joined the room as al${n} (a new room: you are its owner)`), 30_000, 'join line');
      expect(squash(joinScreen)).not.toContain('{"event"');
      // Prosody destroys a non-persistent room whose only occupant changes nick: keep this one.
      await tty.line('/room config persistent on');
      await tty.keys('M-1'); // the confirmation is told in the console
      await tty.waitFor(shows(`${room}: persistent on`), 30_000, 'persistent room');
      await tty.keys('M-2');
      await tty.waitFor((s) => s.split('\n')[0]!.includes(room), 10_000, 'room window again');
      await tty.line('/subject plans for today');
      const subjectScreen = await tty.waitFor(shows(`** al${n} has set the room subject: plans for today`), 30_000, 'subject line');
      await tty.line(`/nick alice${n}x`);
      const nickScreen = await tty.waitFor(shows(`** al${n} is now known as alice${n}x`), 30_000, 'nick line');
      await tty.line('after the nick change');
      await tty.waitFor(shows('me: after the nick change'), 30_000, 'a message after the nick change');
      await new Promise((r) => setTimeout(r, 1500)); // a bounce would come back by now
      const after = await tty.capture();
      for (const s of [nickScreen, subjectScreen, after]) {
        expect(squash(s)).not.toContain('{"event"');
        expect(s).not.toMatch(/bounced/);
      }
      console.log(`room window at ${width}×${height}:\n${after}`);
      await tty.line('/quit');
      const deadline = Date.now() + 20_000;
      while (!(await tty.dead()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await tty.dead()).toBe(true);
    }, 120_000);
  }
});
