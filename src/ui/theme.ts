// Themes, in Profanity's spirit: every coloured thing on screen is a named style (title bar, status
// bar, own and contact names, trust marks, room events, …), a theme gives each style a colour and
// attributes. Built in: `default` and `monochrome`; more in the profile as themes/NAME.json, each
// listing only what it changes over its base. Pure: reading files is src/store/themes.ts.

/** Every style a theme sets. Documented in docs/themes.md (keep the two in step). */
export const STYLE_NAMES = [
  'titlebar',
  'statusbar',
  'statusbar.time',
  'statusbar.current',
  'statusbar.unread',
  'time',
  'me',
  'them',
  'info',
  'error',
  'warning',
  'room.join',
  'room.leave',
  'room.info',
  'mention',
  'match',
  'encrypted',
  'unencrypted',
  'pending',
  'trust.verified',
  'trust.trusted',
  'trust.untrusted',
  'trust.undecided',
] as const;

export type StyleName = (typeof STYLE_NAMES)[number];

/** Ink's colour names: the 16 colours of every colour terminal. */
export const COLOUR_NAMES = [
  'black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white', 'gray',
  'blackBright', 'redBright', 'greenBright', 'yellowBright', 'blueBright', 'magentaBright', 'cyanBright', 'whiteBright',
] as const;

/**
 * A colour as a theme file writes it: a name of COLOUR_NAMES, a 256-colour palette index (0–255)
 * or "#rrggbb". Terminals with fewer colours get the nearest one they have.
 */
export type Colour = string | number;

export interface Style {
  fg?: Colour;
  bg?: Colour;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface Theme {
  name: string;
  description: string;
  styles: Record<StyleName, Style>;
  /** Room nicks in their XEP-0392 colours. */
  nickColours: boolean;
  /** The theme file it was read from (absent: built in). */
  source?: string;
}

const DEFAULT_STYLES: Record<StyleName, Style> = {
  titlebar: { fg: 'whiteBright', bg: 'blue', bold: true },
  statusbar: { fg: 'whiteBright', bg: 'blue' },
  'statusbar.time': { fg: 'cyanBright' },
  'statusbar.current': { bold: true, inverse: true },
  'statusbar.unread': { fg: 'yellowBright', bold: true },
  time: {},
  me: { fg: 'yellow' },
  them: { fg: 'green' },
  info: { fg: 'gray' },
  error: { fg: 'red' },
  warning: { fg: 'yellow' },
  'room.join': { fg: 'green' },
  'room.leave': { fg: 'yellow' },
  'room.info': { fg: 'cyan' },
  mention: { fg: 'yellowBright', bold: true },
  match: { fg: 'black', bg: 'yellow' },
  encrypted: { fg: 'greenBright' },
  unencrypted: { fg: 'redBright', bold: true },
  pending: { fg: 'yellow' },
  'trust.verified': { fg: 'greenBright', bold: true },
  'trust.trusted': { fg: 'greenBright' },
  'trust.untrusted': { fg: 'redBright', bold: true },
  'trust.undecided': { fg: 'yellowBright', bold: true },
};

const MONOCHROME_STYLES: Record<StyleName, Style> = {
  titlebar: { inverse: true, bold: true },
  statusbar: { inverse: true },
  'statusbar.time': {},
  'statusbar.current': { bold: true, underline: true },
  'statusbar.unread': { bold: true },
  time: {},
  me: { bold: true },
  them: {},
  info: { dim: true },
  error: { bold: true },
  warning: { bold: true },
  'room.join': { dim: true },
  'room.leave': { dim: true },
  'room.info': { dim: true },
  mention: { bold: true, underline: true },
  match: { inverse: true },
  encrypted: {},
  unencrypted: { bold: true },
  pending: { italic: true },
  'trust.verified': { bold: true },
  'trust.trusted': {},
  'trust.untrusted': { bold: true, underline: true },
  'trust.undecided': { underline: true },
};

export const BUILT_IN_THEMES: Readonly<Record<string, Theme>> = {
  default: { name: 'default', description: 'colours in the spirit of Profanity: blue bars, green and red trust marks', styles: DEFAULT_STYLES, nickColours: true },
  monochrome: { name: 'monochrome', description: 'no colour at all: bold, underline and reverse video only', styles: MONOCHROME_STYLES, nickColours: false },
};

export const DEFAULT_THEME = BUILT_IN_THEMES.default;

const STYLE_KEYS = ['fg', 'bg', 'bold', 'dim', 'italic', 'underline', 'inverse'] as const;
const THEME_KEYS = ['description', 'base', 'nick-colours', 'styles'];

/** A colour as written in a theme file, or why it is not one. */
export function checkColour(c: unknown): string | undefined {
  if (typeof c === 'number') return Number.isInteger(c) && c >= 0 && c <= 255 ? undefined : `${c} is not a palette index (0-255)`;
  if (typeof c !== 'string') return `${JSON.stringify(c)} is not a colour`;
  if (c === 'default' || (COLOUR_NAMES as readonly string[]).includes(c) || /^#[0-9a-fA-F]{6}$/.test(c)) return undefined;
  return `"${c}" is not a colour (${COLOUR_NAMES.join(', ')}, default, 0-255 or #rrggbb)`;
}

function parseStyle(where: string, v: unknown): Style {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: expected an object like {"fg": "red", "bold": true}`);
  const out: Style = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'fg' || k === 'bg') {
      const bad = checkColour(x);
      if (bad) throw new Error(`${where}.${k}: ${bad}`);
      if (x !== 'default') out[k] = x as Colour;
    } else if ((STYLE_KEYS as readonly string[]).includes(k)) {
      if (typeof x !== 'boolean') throw new Error(`${where}.${k}: expected true or false`);
      out[k as Exclude<(typeof STYLE_KEYS)[number], 'fg' | 'bg'>] = x;
    } else throw new Error(`${where}: unknown key "${k}" (${STYLE_KEYS.join(', ')})`);
  }
  return out;
}

/**
 * A theme file's JSON over its base (a built-in theme, `default` unless "base" names another):
 * each style it lists replaces the base's. Throws with the place and the reason on any mistake.
 */
export function parseTheme(name: string, json: unknown): Theme {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`theme ${name}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!THEME_KEYS.includes(k)) throw new Error(`theme ${name}: unknown key "${k}" (${THEME_KEYS.join(', ')})`);
  const baseName = o.base ?? 'default';
  const base = typeof baseName === 'string' ? BUILT_IN_THEMES[baseName] : undefined;
  if (!base) throw new Error(`theme ${name}: base must be one of ${Object.keys(BUILT_IN_THEMES).join(', ')}`);
  if (o.description !== undefined && typeof o.description !== 'string') throw new Error(`theme ${name}: description must be text`);
  if (o['nick-colours'] !== undefined && typeof o['nick-colours'] !== 'boolean') throw new Error(`theme ${name}: nick-colours must be true or false`);
  const styles = { ...base.styles };
  if (o.styles !== undefined) {
    if (!o.styles || typeof o.styles !== 'object' || Array.isArray(o.styles)) throw new Error(`theme ${name}: styles must be an object`);
    for (const [k, v] of Object.entries(o.styles as Record<string, unknown>)) {
      if (!(STYLE_NAMES as readonly string[]).includes(k)) throw new Error(`theme ${name}: unknown style "${k}" (${STYLE_NAMES.join(', ')})`);
      styles[k as StyleName] = parseStyle(`theme ${name}: styles.${k}`, v);
    }
  }
  return {
    name,
    description: typeof o.description === 'string' ? o.description : `based on ${base.name}`,
    styles,
    nickColours: typeof o['nick-colours'] === 'boolean' ? o['nick-colours'] : base.nickColours,
  };
}

/**
 * The theme for a terminal without colour (NO_COLOR, FORCE_COLOR=0, TERM=dumb): every colour
 * goes, attributes stay, and a style that had a background (the bars, a search match) becomes
 * reverse video so it still stands out.
 */
export function withoutColour(t: Theme): Theme {
  const styles = {} as Record<StyleName, Style>;
  for (const k of STYLE_NAMES) {
    const { fg: _fg, bg, ...attrs } = t.styles[k];
    styles[k] = bg !== undefined && !attrs.inverse ? { ...attrs, inverse: true } : attrs;
  }
  return { ...t, styles, nickColours: false };
}

/** The colour as Ink takes it ('red', '#ff0000', 'ansi256(n)'). */
export function inkColour(c: Colour | undefined): string | undefined {
  if (c === undefined) return undefined;
  return typeof c === 'number' ? `ansi256(${c})` : c;
}

/** Ink <Text> props of a style. */
export function textProps(s: Style | undefined): { color?: string; backgroundColor?: string; bold?: boolean; dimColor?: boolean; italic?: boolean; underline?: boolean; inverse?: boolean } {
  if (!s) return {};
  const fg = inkColour(s.fg);
  const bg = inkColour(s.bg);
  return {
    ...(fg ? { color: fg } : {}),
    ...(bg ? { backgroundColor: bg } : {}),
    ...(s.bold ? { bold: true } : {}),
    ...(s.dim ? { dimColor: true } : {}),
    ...(s.italic ? { italic: true } : {}),
    ...(s.underline ? { underline: true } : {}),
    ...(s.inverse ? { inverse: true } : {}),
  };
}
