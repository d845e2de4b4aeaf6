// Themes: the built-in ones, theme files over a base (mistakes named), the colourless form, the
// colour depth from the environment, and /theme list|load with the choice remembered in tui.json.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_THEMES, DEFAULT_THEME, STYLE_NAMES, parseTheme, textProps, withoutColour } from '../../src/ui/theme.js';
import { colourSupport } from '../../src/ui/colour-support.js';
import { ThemeManager } from '../../src/ui/themes.js';
import { CommandEngine } from '../../src/commands/engine.js';
import type { CoreApi, XchatEvent } from '../../src/core/api.js';
import { FakeCore } from '../commands/fake-core.js';

const COLOUR_KEYS = ['color', 'backgroundColor'];

describe('built-in themes', () => {
  it('default colours the bars, names and every trust mark; monochrome has no colour at all', () => {
    const d = DEFAULT_THEME.styles;
    expect(d.titlebar.bg).toBeDefined();
    expect(d.statusbar.bg).toBeDefined();
    for (const k of ['me', 'them', 'trust.verified', 'trust.trusted', 'trust.untrusted', 'trust.undecided', 'unencrypted'] as const) expect(d[k].fg, k).toBeDefined();
    expect(new Set([d['trust.untrusted'].fg, d['trust.trusted'].fg, d['trust.undecided'].fg]).size).toBe(3);
    const m = BUILT_IN_THEMES.monochrome;
    for (const k of STYLE_NAMES) expect(Object.keys(textProps(m.styles[k])).filter((p) => COLOUR_KEYS.includes(p)), k).toEqual([]);
    expect(m.nickColours).toBe(false);
    expect(m.styles.titlebar.inverse).toBe(true);
  });

  it('without colour: colours go, attributes stay, a style with a background turns to reverse video', () => {
    const t = withoutColour(DEFAULT_THEME);
    for (const k of STYLE_NAMES) expect(t.styles[k].fg ?? t.styles[k].bg, k).toBeUndefined();
    expect(t.styles.titlebar).toEqual({ bold: true, inverse: true });
    expect(t.styles.statusbar).toEqual({ inverse: true });
    expect(t.styles['trust.untrusted']).toEqual({ bold: true });
    expect(t.nickColours).toBe(false);
  });
});

describe('theme files', () => {
  it('list only what they change over their base; 16 names, palette indices and #rrggbb', () => {
    const t = parseTheme('green', { base: 'monochrome', 'nick-colours': true, styles: { me: { fg: 'greenBright', bold: true }, them: { fg: '#00af5f' }, 'trust.untrusted': { fg: 196 } } });
    expect(t.styles.me).toEqual({ fg: 'greenBright', bold: true });
    expect(t.styles.titlebar).toEqual(BUILT_IN_THEMES.monochrome.styles.titlebar);
    expect(t.nickColours).toBe(true);
    expect(textProps(t.styles['trust.untrusted'])).toEqual({ color: 'ansi256(196)' });
    expect(textProps(t.styles.them)).toEqual({ color: '#00af5f' });
  });

  it('name the mistake: unknown style, bad colour, bad attribute, unknown base', () => {
    expect(() => parseTheme('x', { styles: { titelbar: {} } })).toThrow(/unknown style "titelbar"/);
    expect(() => parseTheme('x', { styles: { me: { fg: 'pink' } } })).toThrow(/styles\.me\.fg: "pink" is not a colour/);
    expect(() => parseTheme('x', { styles: { me: { fg: 300 } } })).toThrow(/300 is not a palette index/);
    expect(() => parseTheme('x', { styles: { me: { bold: 'yes' } } })).toThrow(/styles\.me\.bold: expected true or false/);
    expect(() => parseTheme('x', { base: 'solarized' })).toThrow(/base must be one of default, monochrome/);
    expect(() => parseTheme('x', { colours: {} })).toThrow(/unknown key "colours"/);
  });
});

describe('colours the terminal shows', () => {
  it('FORCE_COLOR first, then NO_COLOR, TERM=dumb, COLORTERM, TERM', () => {
    const level = (env: NodeJS.ProcessEnv) => colourSupport(env).level;
    expect(level({ TERM: 'xterm-256color' })).toBe(2);
    expect(level({ TERM: 'tmux-256color' })).toBe(2);
    expect(level({ TERM: 'xterm-256color', COLORTERM: 'truecolor' })).toBe(3);
    expect(level({ TERM: 'xterm' })).toBe(1);
    expect(level({ TERM: 'xterm-256color', NO_COLOR: '1' })).toBe(0);
    expect(level({ TERM: 'xterm-256color', NO_COLOR: '' })).toBe(2); // empty NO_COLOR is not set (no-color.org)
    expect(level({ TERM: 'xterm-256color', NO_COLOR: '1', FORCE_COLOR: '3' })).toBe(3);
    expect(level({ TERM: 'xterm-256color', FORCE_COLOR: '0' })).toBe(0);
    expect(level({ TERM: 'dumb', COLORTERM: 'truecolor' })).toBe(0);
    expect(level({})).toBe(0);
    expect(colourSupport({ TERM: 'xterm-256color', NO_COLOR: '1' }).reason).toBe('no colour (NO_COLOR is set)');
  });
});

describe('/theme list|load', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xchat-theme-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function engineWith(themes: ThemeManager) {
    const shown: XchatEvent[] = [];
    const engine = new CommandEngine({ core: new FakeCore() as unknown as CoreApi, emit: (e) => shown.push(e), themes });
    const text = () => shown.map((e) => ('message' in e ? e.message : '')).join('\n');
    return { engine, shown, text };
  }

  it('lists built-in and profile themes, loads one, remembers it for the next start', async () => {
    await mkdir(join(dir, 'themes'));
    await writeFile(join(dir, 'themes', 'green.json'), JSON.stringify({ description: 'all green', styles: { me: { fg: 'green' } } }));
    await writeFile(join(dir, 'themes', 'broken.json'), '{ "styles": { "me": { "fg": "pink" } } }');
    const themes = new ThemeManager({ profileDir: dir, support: colourSupport({ TERM: 'xterm-256color' }) });
    const { engine, text } = engineWith(themes);
    await engine.execute('/theme');
    expect(text()).toContain('themes (terminal: 256 colours (TERM=xterm-256color)):');
    expect(text()).toMatch(/\* default +colours in the spirit of Profanity/);
    expect(text()).toMatch(/ {3}green +all green \(.*themes\/green\.json\)/);
    expect(text()).toMatch(/broken +cannot be used: theme broken: styles.me.fg: "pink" is not a colour/);
    const changes: number[] = [];
    themes.subscribe(() => changes.push(themes.version));
    expect((await engine.execute('/theme load green')).ok).toBe(true);
    expect(themes.theme.styles.me).toEqual({ fg: 'green' });
    expect(changes).toHaveLength(1);
    expect(JSON.parse(await readFile(join(dir, 'tui.json'), 'utf8'))).toEqual({ theme: 'green' });
    // The next start loads it.
    const next = new ThemeManager({ profileDir: dir, support: colourSupport({ TERM: 'xterm-256color' }) });
    await next.start();
    expect(next.current()).toBe('green');
    expect(next.theme.styles.me).toEqual({ fg: 'green' });
  });

  it('a theme that cannot be loaded is named and the one in use stays; NO_COLOR shows any theme without colour', async () => {
    const themes = new ThemeManager({ profileDir: dir, support: colourSupport({ TERM: 'xterm', NO_COLOR: '1' }) });
    const { engine, shown } = engineWith(themes);
    const r = await engine.execute('/theme load nosuch');
    expect(r.ok).toBe(false);
    expect(shown.at(-1)).toMatchObject({ event: 'error', message: expect.stringContaining('no theme "nosuch"') });
    expect(themes.current()).toBe('default');
    expect(themes.theme.styles.titlebar).toEqual({ bold: true, inverse: true });
    await engine.execute('/theme load ../evil');
    expect(shown.at(-1)).toMatchObject({ event: 'error', message: expect.stringContaining('is not a theme name') });
  });
});
