// The theme in use: built-in or read from the profile's themes/, remembered in tui.json, shown
// without colour when the terminal has none. The App redraws when it changes; /theme acts on it.
import type { ThemeListing, ThemesApi } from '../commands/windows-api.js';
import { listThemeFiles, readThemeFile, readTuiSettings, writeTuiSettings } from '../store/themes.js';
import { BUILT_IN_THEMES, DEFAULT_THEME, parseTheme, withoutColour, type Theme } from './theme.js';
import type { ColourSupport } from './colour-support.js';
import { logged } from '../lib/diagnostics.js';

export interface ThemeManagerOptions {
  /** Where themes/ and tui.json are; without it only the built-in themes exist (tests). */
  profileDir?: string;
  support: ColourSupport;
}

export class ThemeManager implements ThemesApi {
  private chosen: Theme = DEFAULT_THEME;
  private shown: Theme;
  private readonly listeners = new Set<() => void>();
  version = 0;

  constructor(private readonly opts: ThemeManagerOptions) {
    this.shown = this.fit(this.chosen);
  }

  /** The theme to draw with (colours removed on a terminal without colour). */
  get theme(): Theme {
    return this.shown;
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private fit(t: Theme): Theme {
    return this.opts.support.level === 0 ? withoutColour(t) : t;
  }

  private use(t: Theme): void {
    this.chosen = t;
    this.shown = this.fit(t);
    this.version++;
    for (const l of this.listeners) l();
  }

  current(): string {
    return this.chosen.name;
  }

  colours(): string {
    return this.opts.support.reason;
  }

  /** The theme remembered in tui.json; throws (the default stays) when it cannot be loaded. */
  async start(): Promise<void> {
    if (!this.opts.profileDir) return;
    const name = (await readTuiSettings(this.opts.profileDir)).theme;
    if (name && name !== this.chosen.name) this.use(await this.read(name));
  }

  private async read(name: string): Promise<Theme> {
    const builtIn = BUILT_IN_THEMES[name];
    if (builtIn) return builtIn;
    const file = this.opts.profileDir ? await readThemeFile(this.opts.profileDir, name) : undefined;
    if (!file) throw new Error(`no theme "${name}" (/theme list shows them)`);
    return { ...parseTheme(name, file.json), source: file.path };
  }

  private listing(t: Theme): ThemeListing {
    return { name: t.name, description: t.description, source: t.source ?? 'built-in', current: t.name === this.chosen.name };
  }

  async list(): Promise<ThemeListing[]> {
    const out = Object.values(BUILT_IN_THEMES).map((t) => this.listing(t));
    const files = this.opts.profileDir ? await listThemeFiles(this.opts.profileDir) : [];
    for (const name of files) {
      if (BUILT_IN_THEMES[name]) continue; // a built-in name always means the built-in theme
      try {
        out.push(this.listing(await this.read(name)));
      } catch (e) {
        out.push({ name, description: `cannot be used: ${e instanceof Error ? e.message : String(e)}`, source: `${name}.json`, current: false });
      }
    }
    return out;
  }

  async load(name: string): Promise<ThemeListing> {
    const t = await this.read(name);
    this.use(t);
    if (this.opts.profileDir) await writeTuiSettings(this.opts.profileDir, { ...(await readTuiSettings(this.opts.profileDir).catch(logged('tui: read tui.json before saving the theme'))), theme: t.name });
    return this.listing(t);
  }
}
