// Decodes the drawn QR code back: the half-block text is turned into a module matrix, painted as
// an RGBA image and read with jsQR, as a phone camera would.
import { describe, expect, it } from 'vitest';
import jsqrModule from 'jsqr';
import { renderQr } from '../../src/core/qrcode.js';
import { buildOmemoUri } from '../../src/omemo/uri.js';

// jsqr is CommonJS: depending on the loader its function is the module itself or its default.
type Decode = typeof jsqrModule.default;
const jsQR: Decode = (jsqrModule as unknown as { default?: Decode }).default ?? (jsqrModule as unknown as Decode);

/** Each character is one module wide and two high: █ light/light, ▀ light/dark, ▄ dark/light, space dark/dark. */
function toLightMatrix(text: string): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of text.split('\n')) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const ch of line) {
      const [t, b] = ch === '\u2588' ? [true, true] : ch === '\u2580' ? [true, false] : ch === '\u2584' ? [false, true] : ch === ' ' ? [false, false] : [NaN, NaN];
      if (Number.isNaN(t)) throw new Error(`unexpected character ${JSON.stringify(ch)}`);
      top.push(t as boolean);
      bottom.push(b as boolean);
    }
    rows.push(top, bottom);
  }
  return rows;
}

function decode(text: string): string | undefined {
  const m = toLightMatrix(text);
  const scale = 6;
  const margin = 4; // a light border around the drawing, as a light page would give
  const w = (m[0].length + 2 * margin) * scale;
  const h = (m.length + 2 * margin) * scale;
  const px = new Uint8ClampedArray(w * h * 4).fill(255);
  for (let y = 0; y < m.length; y++) {
    for (let x = 0; x < m[y].length; x++) {
      if (m[y][x]) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const i = (((y + margin) * scale + dy) * w + (x + margin) * scale + dx) * 4;
          px[i] = px[i + 1] = px[i + 2] = 0;
        }
      }
    }
  }
  return jsQR(px, w, h)?.data;
}

describe('/omemo qrcode drawing', () => {
  it('decodes back to the OMEMO URI', () => {
    const uri = buildOmemoUri('alice@example.org', [
      { deviceId: 1234567, fingerprint: '0123456789abcdef'.repeat(4) },
      { deviceId: 42, fingerprint: 'fedcba9876543210'.repeat(4) },
    ]);
    const qr = renderQr(uri);
    expect(qr).not.toMatch(/\x1b/); // no ANSI escapes: it travels in JSON events
    expect(decode(qr)).toBe(uri);
  });

  it('is drawn with a light quiet zone on every side', () => {
    const m = toLightMatrix(renderQr('xmpp:a@b'));
    expect(m[0].every(Boolean)).toBe(true);
    expect(m.every((row) => row[0] && row[1] && row[row.length - 1] && row[row.length - 2])).toBe(true);
  });
});

describe('a QR code that does not fit the terminal', () => {
  it('says so, with the columns and rows it needs; nothing when it fits or the size is unknown', async () => {
    const { qrDoesNotFit } = await import('../../src/commands/ux-commands.js');
    const uri = buildOmemoUri('alice@example.org', [
      { deviceId: 1234567, fingerprint: 'ab'.repeat(32) },
      { deviceId: 7654321, fingerprint: 'cd'.repeat(32) },
    ]);
    const qr = renderQr(uri);
    const width = Math.max(...qr.split('\n').map((r) => [...r].length));
    const height = qr.split('\n').length;
    const said = qrDoesNotFit(qr, { columns: 60, rows: 15 });
    expect(said).toContain(`needs at least ${width + 9} columns and ${height + 3} rows`);
    expect(said).toContain('60×15');
    expect(qrDoesNotFit(qr, { columns: width + 9, rows: height + 3 })).toBeUndefined();
    expect(qrDoesNotFit(qr, undefined)).toBeUndefined();
  });
});
