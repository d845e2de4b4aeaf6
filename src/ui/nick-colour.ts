// Nick colours in room windows, as Profanity draws them: XEP-0392 consistent colour generation,
// so a participant has the same colour in every session and in every client that implements it.
// The hue angle comes from SHA-1 of the name; terminals get the 256-colour palette entry with the
// closest hue (XEP-0392's palette mapping), which every colour terminal and tmux can show.
import { Hsluv } from 'hsluv';
import { sha1 } from '../omemo/primitives.js';

const encoder = new TextEncoder();

/** XEP-0392 angle generation: the first two bytes of SHA-1, little endian, scaled to degrees. */
export function hueAngle(text: string): number {
  const h = sha1(encoder.encode(text));
  return ((h[0] | (h[1] << 8)) / 65536) * 360;
}

/** XEP-0392 RGB generation (HSLuv, saturation 100, lightness 50); channels in 0..1. */
export function angleToRgb(angle: number): [number, number, number] {
  const c = new Hsluv();
  c.hsluv_h = angle;
  c.hsluv_s = 100;
  c.hsluv_l = 50;
  c.hsluvToRgb();
  return [c.rgb_r, c.rgb_g, c.rgb_b];
}

const CUBE_LEVELS = [0, 95, 135, 175, 215, 255];
/** Lightness XEP-0392 prefers when two palette colours share a hue. */
const TARGET_LIGHTNESS = 73.2;

let hueToIndex: Map<number, number> | undefined;

/**
 * XEP-0392 palette conversion over xterm's 6×6×6 colour cube (indices 16–231; the grey ramp has no
 * hue): rounded hue angle → palette index, keeping per angle the colour nearest the target lightness.
 */
function huePalette(): Map<number, number> {
  if (hueToIndex) return hueToIndex;
  const best = new Map<number, { index: number; lightness: number }>();
  for (let index = 16; index <= 231; index++) {
    const n = index - 16;
    const [r, g, b] = [Math.floor(n / 36), Math.floor(n / 6) % 6, n % 6].map((k) => CUBE_LEVELS[k] / 255);
    if (r === g && g === b) continue;
    const c = new Hsluv();
    c.rgb_r = r;
    c.rgb_g = g;
    c.rgb_b = b;
    c.rgbToHsluv();
    const angle = Math.round(c.hsluv_h) % 360;
    const seen = best.get(angle);
    if (!seen || Math.abs(seen.lightness - TARGET_LIGHTNESS) > Math.abs(c.hsluv_l - TARGET_LIGHTNESS)) {
      best.set(angle, { index, lightness: c.hsluv_l });
    }
  }
  hueToIndex = new Map([...best].map(([angle, v]) => [angle, v.index]));
  return hueToIndex;
}

const mod360 = (x: number): number => ((x % 360) + 360) % 360;

/** XEP-0392 palette mapping: the palette index whose hue is closest to `angle`. */
export function paletteIndexForAngle(angle: number): number {
  const palette = huePalette();
  const exact = palette.get(Math.round(angle) % 360);
  if (exact !== undefined) return exact;
  let bestIndex = 0;
  let bestDistance = Infinity;
  for (const [beta, index] of palette) {
    const d = Math.min(mod360(angle - beta), mod360(beta - angle));
    if (d < bestDistance) {
      bestDistance = d;
      bestIndex = index;
    }
  }
  return bestIndex;
}

const cache = new Map<string, number>();

/** The 256-colour palette index of a nick (cached: it is looked up for every visible row). */
export function nickColour(nick: string): number {
  let index = cache.get(nick);
  if (index === undefined) {
    index = paletteIndexForAngle(hueAngle(nick));
    if (cache.size > 4096) cache.clear();
    cache.set(nick, index);
  }
  return index;
}
