// How many colours the terminal shows, decided once from the environment: FORCE_COLOR first (as
// chalk and Node read it), then NO_COLOR (no-color.org: chalk itself ignores it), TERM=dumb, then
// COLORTERM and TERM for truecolor, 256 or the 16 basic colours. The TUI sets chalk's level from
// this, so Ink downsamples every theme colour to what the terminal has.

/** 0: no colour (attributes only); 1: 16 colours; 2: 256; 3: truecolor. */
export type ColourLevel = 0 | 1 | 2 | 3;

export interface ColourSupport {
  level: ColourLevel;
  /** Why, in words for /theme: "256 colours (TERM=xterm-256color)". */
  reason: string;
}

const WORDS: Record<ColourLevel, string> = { 0: 'no colour', 1: '16 colours', 2: '256 colours', 3: 'truecolor' };

function forced(v: string): ColourLevel {
  if (v === 'false' || v === '0') return 0;
  if (v === '' || v === 'true' || v === '1') return 1;
  const n = Number.parseInt(v, 10);
  return (Number.isNaN(n) ? 1 : Math.max(0, Math.min(3, n))) as ColourLevel;
}

function level(env: NodeJS.ProcessEnv): { level: ColourLevel; why: string } {
  if (env.FORCE_COLOR !== undefined) return { level: forced(env.FORCE_COLOR), why: `FORCE_COLOR=${env.FORCE_COLOR}` };
  if (env.NO_COLOR) return { level: 0, why: 'NO_COLOR is set' };
  const term = env.TERM ?? '';
  if (term === 'dumb') return { level: 0, why: 'TERM=dumb' };
  const colorterm = (env.COLORTERM ?? '').toLowerCase();
  if (colorterm === 'truecolor' || colorterm === '24bit') return { level: 3, why: `COLORTERM=${env.COLORTERM}` };
  if (/-direct$|truecolor|24bit/i.test(term)) return { level: 3, why: `TERM=${term}` };
  if (/-256(colou?r)?$/i.test(term)) return { level: 2, why: `TERM=${term}` };
  if (term !== '') return { level: 1, why: `TERM=${term}` };
  if (colorterm !== '') return { level: 1, why: `COLORTERM=${env.COLORTERM}` };
  return { level: 0, why: 'TERM is not set' };
}

export function colourSupport(env: NodeJS.ProcessEnv): ColourSupport {
  const l = level(env);
  return { level: l.level, reason: `${WORDS[l.level]} (${l.why})` };
}
