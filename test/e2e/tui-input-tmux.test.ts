// Screen test (tmux, live), issue 10: the input line of the built `xchat` (the bundle bin/xchat
// runs), at 160×50 and at 60×15, against Prosody and the python-omemo peer. The real terminal
// cursor sits at the caret (after Left×3 the next character lands under it); Backspace after 👍
// removes the whole emoji and bob receives valid text; a bracketed paste of three lines with a
// /command line is one encrypted message and runs nothing; a long paste waits for Enter; a
// 4,000-character line wraps in the input without moving the bars and arrives whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer, type PeerEvent } from '../helpers/peer.js';
import { haveTmux, startTmux, type Tmux } from '../helpers/tmux.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody') && haveTmux();
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody, python3-omemo and tmux (scripts/install-test-deps)');

const rowsOf = (s: string) => s.split('\n');
const title = (s: string) => rowsOf(s)[0];
/** The screen without any whitespace: long lines wrap anywhere at the terminal's width. */
const squash = (s: string) => s.replace(/\s+/g, '');
const messages = (p: Peer, since = 0) => p.events.slice(since).filter((e) => e.event === 'message');
/** SGR reverse video (7) anywhere in a captured row. */
const REVERSE = /\u001b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m/;

/** The cursor once `ok` holds of it (a frame may still be on its way), or the last one seen. */
async function cursorWhen(tty: Tmux, ok: (c: { x: number; y: number; visible: boolean }) => boolean): Promise<{ x: number; y: number; visible: boolean }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await tty.cursor();
    if (ok(c) || Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The bundle, built fresh into node_modules/.cache (never over a dist/ in use), and a launcher like bin/xchat. */
function buildXchat(): { launcher: string; dir: string } {
  const cache = join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'xchat-input-tmux-'));
  const b = spawnSync(process.execPath, ['scripts/build.mjs', '--outdir', dir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  const launcher = join(dir, 'xchat.mjs');
  writeFileSync(launcher, "import { runCli } from './cli.js';\nprocess.exit(await runCli(process.argv.slice(2)));\n");
  return { launcher, dir };
}

describe.skipIf(!canRun)('the input line of the built xchat (tmux, live)', () => {
  let lab: Lab;
  let dir: string;
  let built: { launcher: string; dir: string };
  const ttys: Tmux[] = [];
  const peers: Peer[] = [];

  beforeAll(async () => {
    built = buildXchat();
    lab = await startProsody({ name: 'tui-input' });
    for (const u of ['alice1', 'bob1', 'alice2', 'bob2']) await lab.register(u, `${u}-pw`);
    dir = await mkdtemp(join(tmpdir(), 'xchat-tui-input-'));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(ttys.map((t) => t.kill().catch(() => undefined)));
    await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (built) rmSync(built.dir, { recursive: true, force: true });
  });

  for (const [n, width, height] of [[1, 160, 50], [2, 60, 15]] as const) {
    it(`${width}×${height}: cursor at the caret, whole emoji deleted, paste is one message, a 4,000-character line`, async () => {
      const alice = `alice${n}@localhost`;
      const bobJid = `bob${n}@localhost`;
      const bob = await startPeer({ jid: bobJid, password: `bob${n}-pw`, lab, stateDir: join(dir, `bob${n}`), autoSubscribe: true });
      peers.push(bob);
      const tty = await startTmux([process.execPath, built.launcher, '--profile', join(dir, `alice${n}`)], {
        socket: `xchat-input-${process.pid}-${n}`,
        width,
        height,
        cwd: ROOT,
        env: { XCHAT_PASSWORD: `alice${n}-pw`, NODE_EXTRA_CA_CERTS: lab.caFile, TERM: 'xterm-256color' },
      });
      ttys.push(tty);
      const last = height - 1;
      const inputRow = async () => rowsOf(await tty.capture())[last] ?? '';
      await tty.waitFor(/\[1:console\]/, 30_000, 'first paint');
      await tty.line(`/connect ${alice} server ${lab.host} port ${lab.c2sPort} tls force`);
      await tty.waitFor((s) => / online/.test(title(s)), 60_000, 'online');

      // The caret: after Left×3 the terminal's own cursor is on the "d", shown, and the next
      // character typed lands exactly there. No reverse-video cell under it (a block cursor
      // over reverse video shows as plain text in many terminals).
      await tty.type('abcdef');
      await tty.keys('Left', 'Left', 'Left');
      await tty.waitFor((s) => rowsOf(s)[last] === '> abcdef', 10_000, 'abcdef');
      expect(await cursorWhen(tty, (c) => c.x === 5)).toEqual({ x: 5, y: last, visible: true });
      expect(rowsOf(await tty.captureAttributes())[last]).not.toMatch(REVERSE);
      await tty.type('X');
      await tty.waitFor((s) => rowsOf(s)[last] === '> abcXdef', 10_000, 'X where the cursor was');
      expect((await cursorWhen(tty, (c) => c.x === 6)).x).toBe(6);
      // Ctrl-U kills what is left of the caret (readline): the screen shows what Enter would run.
      await tty.keys('C-u');
      await tty.type('/quit');
      await tty.waitFor((s) => rowsOf(s)[last] === '> /quitdef', 10_000, 'the line as it would run');
      expect(await cursorWhen(tty, (c) => c.x === 7)).toEqual({ x: 7, y: last, visible: true });
      await tty.keys('C-e', 'C-u');
      await tty.waitFor((s) => rowsOf(s)[last] === '>', 10_000, 'an empty line');
      // Wide and combined characters: the cursor is on the cell of the character it is before,
      // as the terminal itself counts columns (tmux 3.3 draws 👍🏽 per code point: 4 columns).
      await tty.type('x👍🏽漢e\u0301❤️y');
      await tty.keys('Left');
      const wide = await cursorWhen(tty, (c) => c.x === 9);
      expect(wide).toEqual({ x: 9, y: last, visible: true }); // "> x" 3, 👍 2, 漢 2, é 1, ❤ 1
      expect(await tty.cursorCharacter()).toBe('y');
      await tty.keys('C-e', 'C-u');
      await tty.waitFor((s) => rowsOf(s)[last] === '>', 10_000, 'an empty line');

      await tty.line(`/msg ${bobJid}`);
      await tty.waitFor((s) => title(s).includes(bobJid), 20_000, "bob's window");

      // Backspace after 👍: the whole emoji goes; bob gets "ok👍", no U+FFFD.
      await tty.type('ok👍👍');
      await tty.waitFor((s) => rowsOf(s)[last] === '> ok👍👍', 10_000, 'two emoji typed');
      await tty.keys('BSpace');
      const afterBackspace = rowsOf(await tty.waitFor((s) => rowsOf(s)[last] !== '> ok👍👍', 10_000, 'the Backspace'))[last];
      const caret = await cursorWhen(tty, (c) => c.x === 6);
      await tty.keys('Enter');
      const emoji = await bob.waitFor((e) => e.event === 'message', 30_000);
      expect(emoji.body).toBe('ok👍');
      expect(emoji.encrypted).toBe(true);
      expect(afterBackspace).toBe('> ok👍');
      expect(caret).toEqual({ x: 6, y: last, visible: true });
      await tty.waitFor((s) => s.includes('me: ok👍'), 20_000, 'the sent line');
      await tty.waitFor((s) => title(s).includes('[OMEMO]'), 20_000, '[OMEMO] in the title');

      // A bracketed paste (tmux paste-buffer -p) of three lines with a /command: one message, encrypted; /omemo end does not run.
      const before = bob.events.length;
      await tty.paste('line1\n/omemo end\nline3');
      const pasted = await bob.waitFor((e) => e.event === 'message', 30_000, before);
      expect(pasted.body).toBe('line1\n/omemo end\nline3');
      expect(pasted.encrypted).toBe(true);
      // The same as raw bytes (send-keys -l with the markers), as the brief's terminal sends it.
      await tty.type('\u001b[200~line4\n/omemo end\nline6\u001b[201~');
      const raw = await bob.waitFor((e: PeerEvent) => e.event === 'message' && e.body !== pasted.body, 30_000, before);
      expect(raw.body).toBe('line4\n/omemo end\nline6');
      expect(raw.encrypted).toBe(true);
      const shown = await tty.waitFor((s) => s.includes('/omemo end') && s.includes('line6'), 20_000, 'the pasted messages in the window');
      expect(title(shown)).toContain('[OMEMO]');
      expect(shown).not.toMatch(/NOT encrypted/);

      // Seven lines: shown with the keys to press, sent as one message on Enter.
      const seven = ['p1', 'p2', 'p3', '/quit', 'p5', 'p6', 'p7'].join('\n');
      await tty.paste(seven);
      await tty.waitFor((s) => s.includes('Enter sends the 7 pasted lines as one message, Esc cancels'), 20_000, 'the confirmation');
      expect(messages(bob, before)).toHaveLength(2);
      await tty.keys('Enter');
      const long = await bob.waitFor((e) => e.event === 'message' && e.body === seven, 30_000, before);
      expect(long.encrypted).toBe(true);
      await tty.waitFor((s) => !s.includes('pasted lines'), 20_000, 'the confirmation gone');

      // 4,000 characters: the title and status bar stay; the input takes its rows above the bottom.
      const text = Array.from({ length: 4000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      await tty.type(text);
      const inputRows = Math.min(10, Math.floor(height / 4));
      const inputOf = (s: string) => rowsOf(s).slice(last - inputRows + 1);
      const wrapped = await tty.waitFor((s) => inputOf(s).join('').endsWith(text.slice(-100)), 30_000, 'the long line');
      expect(title(wrapped)).toContain(bobJid);
      expect(rowsOf(wrapped)[last - inputRows]).toMatch(/^\[\d\d:\d\d\] \[1:console\] \[2:bob/);
      expect(inputOf(wrapped).every((r) => /^[a-z]+$/.test(r) && r.length <= width)).toBe(true);
      // The caret after the last character: "> " and 4,000 characters fill rows of `width`.
      expect(await cursorWhen(tty, (c) => c.x === 4002 % width)).toEqual({ x: 4002 % width, y: last, visible: true });
      console.log(`input line of a 4,000-character line at ${width}×${height}:\n${wrapped}`);
      await tty.keys('Enter');
      const big = await bob.waitFor((e) => e.event === 'message' && e.body === text, 30_000, before);
      expect(big.encrypted).toBe(true);
      await tty.waitFor((s) => rowsOf(s)[last] === '>', 20_000, 'the input line empty again');
      expect(messages(bob, before)).toHaveLength(4);
      const final = await tty.capture();
      console.log(`screen at ${width}×${height}:\n${final}`);
      expect(squash(final)).not.toContain('{"event"');

      await tty.line('/quit');
      const deadline = Date.now() + 20_000;
      while (!(await tty.dead()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await tty.dead()).toBe(true);
    }, 180_000);
  }
});
