// The TUI's files in the profile: theme files (themes/NAME.json) and the settings the TUI
// remembers between runs (tui.json: the chosen theme). What a theme means is src/ui/theme.ts.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { atomicWriteFile, ensureDir, readFileIfExists } from './profile.js';

export const THEMES_DIR = 'themes';
export const TUI_SETTINGS_FILE = 'tui.json';

/** A theme name is a file name in themes/, never a path. */
export const THEME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface TuiSettings {
  theme?: string;
}

export function themesDir(profileDir: string): string {
  return path.join(profileDir, THEMES_DIR);
}

/** Names of the theme files in the profile (without .json), sorted. */
export async function listThemeFiles(profileDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(themesDir(profileDir));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -'.json'.length))
    .filter((n) => THEME_NAME.test(n))
    .sort();
}

/** A theme file's parsed JSON and its path, or undefined when there is no such file. */
export async function readThemeFile(profileDir: string, name: string): Promise<{ path: string; json: unknown } | undefined> {
  if (!THEME_NAME.test(name)) throw new Error(`"${name}" is not a theme name (letters, digits, - _ .)`);
  const file = path.join(themesDir(profileDir), `${name}.json`);
  const data = await readFileIfExists(file);
  if (data === undefined) return undefined;
  try {
    return { path: file, json: JSON.parse(data.toString('utf8')) as unknown };
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

export async function readTuiSettings(profileDir: string): Promise<TuiSettings> {
  const data = await readFileIfExists(path.join(profileDir, TUI_SETTINGS_FILE));
  if (data === undefined) return {};
  const o = JSON.parse(data.toString('utf8')) as unknown;
  if (!o || typeof o !== 'object') return {};
  const theme = (o as Record<string, unknown>).theme;
  return typeof theme === 'string' ? { theme } : {};
}

export async function writeTuiSettings(profileDir: string, s: TuiSettings): Promise<void> {
  await ensureDir(profileDir);
  await atomicWriteFile(path.join(profileDir, TUI_SETTINGS_FILE), `${JSON.stringify(s, null, 2)}\n`);
}
