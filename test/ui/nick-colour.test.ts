import { describe, expect, it } from 'vitest';
import { angleToRgb, hueAngle, nickColour, paletteIndexForAngle } from '../../src/ui/nick-colour.js';

// XEP-0392 §7 test vectors (no colour-vision-deficiency correction): text, angle, r, g, b.
const VECTORS: [string, number, number, number, number][] = [
  ['Romeo', 327.255249, 0.865, 0.0, 0.686],
  ['juliet@capulet.lit', 209.4104, 0.0, 0.515, 0.573],
  ['😺', 331.199341, 0.872, 0.0, 0.659],
  ['council', 359.994507, 0.918, 0.0, 0.394],
  ['Board', 171.430664, 0.0, 0.527, 0.457],
];

/** xterm's colour cube entry as 0..1 channels. */
function cubeRgb(index: number): [number, number, number] {
  const levels = [0, 95, 135, 175, 215, 255];
  const n = index - 16;
  return [levels[Math.floor(n / 36)] / 255, levels[Math.floor(n / 6) % 6] / 255, levels[n % 6] / 255];
}

describe('XEP-0392 nick colours', () => {
  it('computes the published angles and RGB values', () => {
    for (const [text, angle, r, g, b] of VECTORS) {
      expect(hueAngle(text)).toBeCloseTo(angle, 4);
      const rgb = angleToRgb(angle);
      expect(rgb[0]).toBeCloseTo(r, 2);
      expect(rgb[1]).toBeCloseTo(g, 2);
      expect(rgb[2]).toBeCloseTo(b, 2);
    }
  });

  it('maps an angle to a cube colour of nearby hue, never a grey', () => {
    // Romeo is magenta-pink, juliet@capulet.lit teal-blue, Board green-teal.
    const romeo = cubeRgb(paletteIndexForAngle(327.255249));
    expect(romeo[0]).toBeGreaterThan(romeo[1]);
    expect(romeo[2]).toBeGreaterThan(romeo[1]);
    const juliet = cubeRgb(paletteIndexForAngle(209.4104));
    expect(juliet[2]).toBeGreaterThan(juliet[0]);
    for (let a = 0; a < 360; a += 7.5) {
      const i = paletteIndexForAngle(a);
      expect(i).toBeGreaterThanOrEqual(16);
      expect(i).toBeLessThanOrEqual(231);
      const [r, g, b] = cubeRgb(i);
      expect(r === g && g === b).toBe(false);
    }
  });

  it('gives a nick the same colour every time, and different nicks different colours', () => {
    expect(nickColour('Romeo')).toBe(nickColour('Romeo'));
    const nicks = ['Romeo', 'juliet', 'Board', 'council', 'alice', 'bob', 'carol', 'dave'];
    expect(new Set(nicks.map(nickColour)).size).toBeGreaterThanOrEqual(5);
  });
});
