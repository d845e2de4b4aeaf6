// Draws a QR code as text with qrcode-terminal (half-block characters, no ANSI colours, so it
// survives JSON lines and the TUI alike).
import qrcodeTerminal from 'qrcode-terminal';

/**
 * Light modules are drawn as full blocks (qrcode-terminal's `small` mode assumes a dark terminal).
 * Two extra light columns each side and one light line above and below widen its one-module quiet
 * zone so phone scanners lock on.
 */
export function renderQr(text: string): string {
  let out = '';
  qrcodeTerminal.generate(text, { small: true }, (s: string) => {
    out = s;
  });
  const lines = out.split('\n').filter((l) => l.length > 0);
  const width = Math.max(...lines.map((l) => [...l].length)) + 4;
  const full = '\u2588'.repeat(width);
  return [full, ...lines.map((l) => `\u2588\u2588${l}\u2588\u2588`), full].join('\n');
}
