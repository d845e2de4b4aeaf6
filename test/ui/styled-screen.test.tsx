// What the screen's attributes are (the SGR codes Ink writes): with the default theme the title
// bar, the status bar and the trust marks are coloured; without colour (NO_COLOR) or with the
// monochrome theme no colour code is written at all, and the bars still stand out in reverse video.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
// Ink colours through chalk, which sees no terminal under vitest: set the level a 256-colour
// terminal gets (the TUI sets it from colour-support.ts).
import chalk from 'chalk';
import { ThemeManager } from '../../src/ui/themes.js';
import { colourSupport } from '../../src/ui/colour-support.js';
import { msg, setup, tick } from './helpers.js';

afterEach(() => cleanup());

/** SGR parameter lists in a row: "\u001b[1;44m" → ['1', '44']. */
const sgr = (row: string) => [...row.matchAll(/\u001b\[([0-9;]*)m/g)].flatMap((m) => m[1].split(';'));
/** Foreground or background colour codes (16, 256 and truecolor forms). */
const COLOUR = /^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$/;
const colours = (row: string) => sgr(row).filter((p) => COLOUR.test(p));

async function scene(support: ReturnType<typeof colourSupport>, theme?: string) {
  const themes = new ThemeManager({ support });
  if (theme) await themes.load(theme);
  const t = setup({ rows: 12, columns: 90, themes });
  t.core.trustOf = { 'carol@localhost': 'untrusted' };
  t.core.emit({ event: 'status', status: 'online', jid: 'alice@localhost' });
  t.core.emit(msg('carol@localhost', 'psst', { trust: 'undecided' }));
  t.core.emit(msg('dave@localhost', 'plain', { encryption: 'none', trust: undefined }));
  await tick();
  t.stdin.write('\u001b2'); // carol's window
  await tick(60);
  const rows = (t.lastFrame() ?? '').split('\n');
  return { t, rows, title: rows[0], status: rows[10], body: rows.slice(1, 10).join('\n') };
}

describe('colour and attributes on screen', () => {
  const level = chalk.level;
  beforeAll(() => {
    chalk.level = 2;
  });
  afterAll(() => {
    chalk.level = level;
  });

  it('default theme: coloured title and status bars, trust label and marks in colour', async () => {
    const { title, status, body } = await scene(colourSupport({ TERM: 'xterm-256color' }));
    expect(title).toContain('carol@localhost');
    expect(colours(title)).toContain('44'); // blue bar
    expect(colours(status)).toContain('44');
    // [untrusted] in the title and status bar: bright red; the message's [undecided] mark: bright yellow.
    expect(title).toMatch(/\u001b\[91m\[untrusted\]/);
    expect(status).toMatch(/\u001b\[91m\[untrusted\]/);
    expect(body).toMatch(/\u001b\[93m\[undecided\] /);
    expect(body).toMatch(/\u001b\[32mcarol@localhost\u001b\[39m: psst/); // the contact's name: green
  });

  it('NO_COLOR: not one colour code, the bars in reverse video, marks still bold', async () => {
    const { title, status, body, rows } = await scene(colourSupport({ TERM: 'xterm-256color', NO_COLOR: '1' }));
    expect(rows.flatMap(colours)).toEqual([]);
    expect(sgr(title)).toContain('7');
    expect(sgr(status)).toContain('7');
    expect(title).toContain('[untrusted]');
    expect(body).toMatch(/\u001b\[1m\[undecided\] \u001b\[22mcarol@localhost: psst/);
  });

  it('the monochrome theme on a colour terminal: no colour either', async () => {
    const { rows, title } = await scene(colourSupport({ TERM: 'xterm-256color' }), 'monochrome');
    expect(rows.flatMap(colours)).toEqual([]);
    expect(sgr(title)).toContain('7');
  });
});
