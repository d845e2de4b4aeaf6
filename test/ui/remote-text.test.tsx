// Remote text on screen: room nicks drawn in their XEP-0392 colours (only there), and text from
// the network never reaching the terminal as control sequences.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
// Ink colours through chalk, which turns colours off when stdout is not a terminal (as under
// vitest): the colour tests switch it to 256 colours, as in xterm-256color.
import chalk from 'chalk';
import { nickColour } from '../../src/ui/nick-colour.js';
import { loadNickColours } from '../../src/ui/view-model.js';
import { msg, setup, tick } from './helpers.js';

afterEach(() => cleanup());

const ROOM = 'chess@conference.localhost';
const roomMsg = (nick: string, body: string) => msg(ROOM, body, { from: `${ROOM}/${nick}`, groupchat: true, nick });
/** The SGR sequence chalk emits for xterm 256-colour foreground N. */
const fg256 = (n: number) => `\u001b[38;5;${n}m`;
const escape = (s: string) => s.replace(/[[\]\\^$.|?*+(){}]/g, '\\$&');

describe('nick colours', () => {
  const level = chalk.level;
  beforeAll(async () => {
    chalk.level = 2;
    await loadNickColours(); // the App loads them after its first frame
  });
  afterAll(() => {
    chalk.level = level;
  });

  it('colours the nick of a received room message, only the nick, only on its row', async () => {
    const t = setup({ rows: 10, columns: 60 });
    t.core.emit(roomMsg('bob', 'e4 is a fine opening'));
    await tick();
    t.stdin.write('\u001b2');
    await tick();
    const raw = t.lastFrame() ?? '';
    const row = raw.split('\n').find((l) => l.includes('e4 is a fine opening'))!;
    // The colour starts right before "bob" and is reset right after it: the body is not coloured.
    expect(row).toMatch(new RegExp(`${escape(fg256(nickColour('bob')))}bob\\u001b\\[39m: e4 is a fine opening`));
    expect(raw.split(fg256(nickColour('bob'))).length - 1).toBe(1);
  });

  it('different nicks get their own colours; our own lines are not nick-coloured', async () => {
    const t = setup({ rows: 10, columns: 60 });
    t.core.emit(roomMsg('bob', 'e4'));
    t.core.emit(roomMsg('carol', 'e5'));
    await tick();
    t.stdin.write('\u001b2');
    await tick();
    t.stdin.write('Nf3\r');
    await tick(60);
    const raw = t.lastFrame() ?? '';
    expect(nickColour('bob')).not.toBe(nickColour('carol'));
    expect(raw).toContain(`${fg256(nickColour('bob'))}bob`);
    expect(raw).toContain(`${fg256(nickColour('carol'))}carol`);
    expect(raw).not.toContain(`${fg256(nickColour('me'))}me`);
  });

  it('a 1:1 chat window has no nick colours', async () => {
    const t = setup({ rows: 10, columns: 60 });
    t.core.emit(msg('bob@localhost', 'hello there'));
    await tick();
    t.stdin.write('\u001b2');
    await tick();
    const raw = t.lastFrame() ?? '';
    expect(t.frame()).toContain('bob@localhost: hello there');
    expect(raw).not.toContain('\u001b[38;5;');
  });
});

describe('remote text cannot drive the terminal', () => {
  const level = chalk.level;
  beforeAll(() => {
    chalk.level = 2;
  });
  afterAll(() => {
    chalk.level = level;
  });
  const hostile = 'hi\u001b[2J\u001b]0;pwned\u0007there';

  it('a message with escape sequences is shown with visible stand-ins, no raw ESC or BEL', async () => {
    const t = setup({ rows: 10, columns: 80 });
    t.core.emit(msg('bob@localhost', hostile));
    await tick();
    t.stdin.write('\u001b2');
    await tick();
    const raw = t.lastFrame() ?? '';
    expect(t.frame()).toContain('hi^[[2J^[]0;pwned^Gthere');
    // Only Ink's own SGR colour sequences remain: no ESC that starts anything else, no BEL.
    expect(raw.replace(/\u001b\[[0-9;]*m/g, '')).not.toMatch(/[\u001b\u0007]/);
  });

  it('nicks, JIDs, presence and room names in title and status bar are made printable too', async () => {
    const t = setup({ rows: 10, columns: 120 });
    t.core.emit(msg(ROOM, 'x', { from: `${ROOM}/ev\u001b[31mil`, groupchat: true, nick: 'ev\u001b[31mil' }));
    t.core.emit({ event: 'presence', jid: `${ROOM}/ev`, show: 'away', status: 'gone\u001b]0;pwned\u0007' });
    await tick();
    t.stdin.write('\u001b2');
    await tick();
    const raw = t.lastFrame() ?? '';
    expect(t.frame()).toContain('ev^[[31mil: x');
    expect(raw.replace(/\u001b\[[0-9;]*m/g, '')).not.toMatch(/[\u001b\u0007]/);
  });
});
