// Screen test (tmux, live), issue 10, against the built `xchat` at 160×50 and 60×15, with Prosody
// and the python-omemo peer, reading what a user sees including attributes (capture-pane -e):
// - the default theme colours the title bar, the status bar and the trust label; with NO_COLOR=1
//   not one colour code is on screen (the bars are reverse video instead);
// - in a room with a python-omemo member: "-> bobby has joined the room", "<- bobby has left the
//   room", and after typing (not sending) for 10 s no "bounced" line anywhere, never `{"event"`;
// - /search lists the hit, numbered, the word marked;
// - after a restart PageUp brings the stored lines back from local history first, and at the top
//   says the start of the conversation is reached (never "no older messages in the archive" while
//   older ones are stored), offline too, where it says the archive waits for a connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody, type Lab } from '../lab/prosody.js';
import { startPeer, type Peer } from '../helpers/peer.js';
import { haveTmux, startTmux, type Tmux } from '../helpers/tmux.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const canRun = existsSync('/usr/bin/python3') && existsSync('/usr/bin/prosody') && haveTmux();
if (!canRun && process.env.CI === 'true') throw new Error('CI needs prosody, python3-omemo and tmux (scripts/install-test-deps)');

const rowsOf = (s: string) => s.split('\n');
const title = (s: string) => rowsOf(s)[0];
const squash = (s: string) => s.replace(/\s+/g, '');
const shows = (needle: string) => (screen: string) => squash(screen).includes(squash(needle));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One cell of the screen with the attributes the terminal has for it. */
interface Cell {
  ch: string;
  fg?: string;
  bg?: string;
  bold: boolean;
  inverse: boolean;
}

/** capture-pane -e output as rows of cells: SGR state followed across the whole screen. */
function cells(screen: string): Cell[][] {
  const rows: Cell[][] = [[]];
  let st: Omit<Cell, 'ch'> = { bold: false, inverse: false };
  for (let i = 0; i < screen.length; ) {
    const m = /^\u001b\[([0-9;:]*)m/.exec(screen.slice(i, i + 64));
    if (m) {
      const p = m[1] === '' ? [0] : m[1].split(/[;:]/).map(Number);
      for (let k = 0; k < p.length; k++) {
        const n = p[k];
        if (n === 0) st = { bold: false, inverse: false };
        else if (n === 1) st.bold = true;
        else if (n === 7) st.inverse = true;
        else if (n === 22) st.bold = false;
        else if (n === 27) st.inverse = false;
        else if ((n >= 30 && n <= 37) || (n >= 90 && n <= 97)) st.fg = String(n);
        else if (n === 39) delete st.fg;
        else if ((n >= 40 && n <= 47) || (n >= 100 && n <= 107)) st.bg = String(n);
        else if (n === 49) delete st.bg;
        else if (n === 38 || n === 48) {
          const v = p[k + 1] === 5 ? `${p[k + 2]}` : `${p[k + 2]},${p[k + 3]},${p[k + 4]}`;
          if (n === 38) st.fg = `x${v}`;
          else st.bg = `x${v}`;
          k += p[k + 1] === 5 ? 2 : 4;
        }
      }
      i += m[0].length;
      continue;
    }
    const ch = String.fromCodePoint(screen.codePointAt(i)!);
    i += ch.length;
    if (ch === '\n') rows.push([]);
    else rows[rows.length - 1].push({ ch, ...st });
  }
  return rows;
}

/** The attributes of the first cell of `needle` in row `r`, or undefined when it is not there. */
function styleAt(screen: string, r: number, needle: string): Cell | undefined {
  const row = cells(screen)[r] ?? [];
  const text = row.map((c) => c.ch).join('');
  const i = text.indexOf(needle);
  return i < 0 ? undefined : row[[...text.slice(0, i)].length];
}

const anyColour = (screen: string) => cells(screen).flat().filter((c) => c.fg !== undefined || c.bg !== undefined);

/** The bundle built fresh into the worktree's ignored .xchat-test/ (never over a dist/ in use), and a launcher like bin/xchat. */
function buildXchat(): { launcher: string; dir: string } {
  const base = join(ROOT, '.xchat-test');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'build-issue10-'));
  const b = spawnSync(process.execPath, ['scripts/build.mjs', '--outdir', dir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  const launcher = join(dir, 'xchat.mjs');
  writeFileSync(launcher, "import { runCli } from './cli.js';\nprocess.exit(await runCli(process.argv.slice(2)));\n");
  return { launcher, dir };
}

describe.skipIf(!canRun)('issue 10 on the screen of the built xchat (tmux, live)', () => {
  let lab: Lab;
  let dir: string;
  let built: { launcher: string; dir: string };
  const ttys: Tmux[] = [];
  const peers: Peer[] = [];

  beforeAll(async () => {
    built = buildXchat();
    lab = await startProsody({ name: 'tui-issue10' });
    for (const u of ['alice1', 'bob1', 'alice2', 'bob2']) await lab.register(u, `${u}-pw`);
    dir = await mkdtemp(join(tmpdir(), 'xchat-tui-issue10-'));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(ttys.map((t) => t.kill().catch(() => undefined)));
    await Promise.all(peers.map((p) => p.stop().catch(() => undefined)));
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    if (built) rmSync(built.dir, { recursive: true, force: true });
  });

  for (const [n, width, height] of [[1, 160, 50], [2, 60, 15]] as const) {
    const alice = `alice${n}@localhost`;
    const bobJid = `bob${n}@localhost`;
    const room = `lounge${n}@muc.localhost`;
    const status = (s: string) => rowsOf(s)[height - 2];

    const start = async (env: Record<string, string>, tag: string): Promise<Tmux> => {
      const tty = await startTmux([process.execPath, built.launcher, '--profile', join(dir, `alice${n}`)], {
        socket: `xchat-issue10-${process.pid}-${n}-${tag}`,
        width,
        height,
        cwd: ROOT,
        env: { XCHAT_PASSWORD: `alice${n}-pw`, NODE_EXTRA_CA_CERTS: lab.caFile, TERM: 'xterm-256color', ...env },
      });
      ttys.push(tty);
      await tty.waitFor(/\[1:console\]/, 30_000, 'first paint');
      return tty;
    };
    const quit = async (tty: Tmux) => {
      await tty.line('/quit');
      const deadline = Date.now() + 20_000;
      while (!(await tty.dead()) && Date.now() < deadline) await sleep(100);
      expect(await tty.dead()).toBe(true);
    };

    it(`${width}×${height}: colour in the bars and trust label, room lines without bounces, /search, PageUp's truth, NO_COLOR`, async () => {
      const bob = await startPeer({ jid: bobJid, password: `bob${n}-pw`, lab, stateDir: join(dir, `bob${n}`), autoSubscribe: true, echo: true });
      peers.push(bob);
      const tty = await start({}, 'colour');
      await tty.line(`/connect ${alice} server ${lab.host} port ${lab.c2sPort} tls force`);
      await tty.waitFor((s) => / online/.test(title(s)), 60_000, 'online');

      // The default theme: a coloured title bar and status bar.
      const consoleAttrs = await tty.captureAttributes();
      expect(styleAt(consoleAttrs, 0, 'xchat console')?.bg, 'title bar background').toBeDefined();
      expect(styleAt(consoleAttrs, height - 2, '[1:console]')?.bg, 'status bar background').toBeDefined();

      // An OMEMO chat: the trust label in colour, in the title and in the status bar.
      await tty.line(`/msg ${bobJid} hello pizza`);
      await tty.waitFor(shows(`${bobJid}: echo: hello pizza`), 30_000, "bob's echo");
      const chat = await tty.waitFor((s) => title(s).includes('[trusted]') && status(s).includes('[trusted]'), 20_000, '[trusted] in both bars');
      const chatAttrs = await tty.captureAttributes();
      const label = styleAt(chatAttrs, 0, '[trusted]');
      expect(label?.fg, 'trust label colour in the title').toBeDefined();
      expect(label?.fg).not.toBe(styleAt(chatAttrs, 0, bobJid)?.fg);
      expect(styleAt(chatAttrs, height - 2, '[trusted]')?.fg, 'trust label colour in the status bar').toBeDefined();
      console.log(`chat window at ${width}×${height} (capture-pane -e):\n${chatAttrs}`);
      expect(squash(chat)).not.toContain('{"event"');

      // A room with a python-omemo member: Profanity's join and leave lines.
      await tty.line(`/join ${room}`);
      await tty.waitFor((s) => title(s).includes(room), 30_000, 'room window');
      await bob.request({ cmd: 'muc_join', room, nick: 'bobby' }, 30_000);
      await tty.waitFor(shows('-> bobby has joined the room'), 30_000, 'join line');
      await bob.request({ cmd: 'muc_send', room, body: `hi alice${n}, pizza later?`, encrypted: false }, 30_000);
      await tty.waitFor(shows(`bobby: hi alice${n}, pizza later?`), 30_000, "bobby's message");
      await bob.request({ cmd: 'muc_leave', room });
      await tty.waitFor(shows('<- bobby has left the room'), 30_000, 'leave line');
      // Typing (not sending) in the room for 10 s: no chat state goes to the room, so nothing bounces.
      await tty.type('typing in the room, not sent');
      await sleep(10_000);
      const roomScreen = await tty.capture();
      await tty.keys('C-e', 'C-u');
      await tty.keys('M-1');
      const consoleScreen = await tty.waitFor((s) => /^ xchat console/.test(title(s)), 10_000, 'console');
      for (const s of [roomScreen, consoleScreen]) {
        expect(s).not.toMatch(/bounced/);
        expect(squash(s)).not.toContain('{"event"');
      }
      console.log(`room window at ${width}×${height}:\n${roomScreen}`);

      // /search: the hit listed, numbered, the word marked.
      await tty.line('/search all pizza');
      const found = await tty.waitFor(shows(`1. ${bobJid}`), 20_000, 'the search hits');
      expect(squash(found)).toContain(squash(`stored messages with "pizza" in all chats`));
      const foundAttrs = await tty.captureAttributes();
      const first = rowsOf(found).findIndex((r) => r.includes('1. '));
      const hitRow = rowsOf(found).findIndex((r, i) => i >= first && r.includes('pizza'));
      const mark = styleAt(foundAttrs, hitRow, 'pizza');
      expect(mark && (mark.bg !== undefined || mark.inverse), 'the word marked').toBe(true);
      console.log(`/search at ${width}×${height}:\n${found}`);
      await quit(tty);

      // NO_COLOR=1, after a restart (the saved account connects by itself): not one colour code.
      const mono = await start({ NO_COLOR: '1' }, 'mono');
      await mono.waitFor((s) => / online/.test(title(s)), 60_000, 'online again');
      await mono.line(`/msg ${bobJid}`);
      await mono.waitFor((s) => title(s).includes(bobJid) && /\[(trusted|verified|untrusted|undecided)\]/.test(title(s)), 20_000, "bob's window with its trust label");
      const monoAttrs = await mono.captureAttributes();
      expect(anyColour(monoAttrs)).toEqual([]);
      expect(styleAt(monoAttrs, 0, bobJid)?.inverse, 'title bar in reverse video').toBe(true);
      console.log(`NO_COLOR=1 at ${width}×${height} (capture-pane -e):\n${monoAttrs}`);

      // PageUp: the stored lines come back from local history first, then the truth at the top.
      expect(await mono.capture()).not.toContain('hello pizza');
      await mono.keys('PageUp');
      await mono.waitFor(shows(`me: hello pizza`), 20_000, 'stored lines from local history');
      let top = '';
      for (let i = 0; i < 6 && !shows('start of the conversation')(top); i++) {
        await mono.keys('PageUp');
        top = await mono.waitFor((s) => s.includes('hello pizza') || s.includes('start of'), 10_000, 'after PageUp');
        await sleep(500);
        top = await mono.capture();
      }
      expect(squash(top)).toContain(squash(`-- start of the conversation with ${bobJid}: nothing older in local history or in the server archive --`));
      expect(top).not.toMatch(/no older messages with .* in the archive/);
      console.log(`top of bob's window at ${width}×${height}:\n${top}`);

      // Offline: PageUp pages local history and says the archive waits for a connection.
      await mono.line('/disconnect');
      await mono.keys('M-1');
      await mono.waitFor((s) => / offline$/.test(title(s)), 20_000, 'offline');
      await mono.keys('M-2');
      await mono.waitFor((s) => title(s).includes(bobJid), 10_000, "bob's window again");
      await mono.line('/clear');
      await mono.keys('PageUp');
      await mono.waitFor(shows('me: hello pizza'), 20_000, 'local history offline');
      await mono.keys('PageUp');
      await sleep(300);
      await mono.keys('PageUp');
      const offline = await mono.waitFor(shows('in local history; offline: the server archive is asked once you are online'), 20_000, 'the offline top line');
      expect(offline).not.toMatch(/start of the conversation/);
      await quit(mono);
    }, 240_000);
  }
});
