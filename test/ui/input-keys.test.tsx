// The input line in the rendered TUI (issue 10): readline keys as a terminal sends them, Ctrl-R,
// a long line wrapping above the status bar, and bracketed paste — never a command; several lines
// are one message to the current chat, a long paste waits for Enter or Esc.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { msg, setup, tick } from './helpers.js';

afterEach(() => cleanup());

const PASTE = (s: string) => `\u001b[200~${s}\u001b[201~`;

async function type(t: ReturnType<typeof setup>, ...keys: string[]) {
  for (const k of keys) {
    t.stdin.write(k);
    await tick(5);
  }
  await tick();
}

/** A chat window with bob, current. */
async function inChat(rows = 12, columns = 60) {
  const t = setup({ rows, columns });
  t.core.emit(msg('bob@localhost', 'hi'));
  await type(t, '\u001b2');
  expect(t.windows.current().jid).toBe('bob@localhost');
  return t;
}

const sent = (t: ReturnType<typeof setup>) => t.core.calls.filter((c) => c[0] === 'sendMessage').map((c) => c[2]);
const others = (t: ReturnType<typeof setup>) => t.core.calls.filter((c) => !['sendMessage', 'openChat'].includes(c[0]));

describe('readline keys', () => {
  it('Ctrl-K, Ctrl-Y, Alt-B, Alt-F, Alt-D, Ctrl-Left/Right as the terminal sends them', async () => {
    const t = setup({ rows: 10, columns: 80 });
    const line = () => t.lines()[9].replace(/\s+$/, '');
    await type(t, 'one two three');
    await type(t, '\u001bb', '\u000b'); // Alt-B, Ctrl-K
    expect(line()).toBe('> one two');
    await type(t, '\u0001', '\u0019'); // Ctrl-A, Ctrl-Y
    expect(line()).toBe('> threeone two');
    await type(t, '\u001bf', '\u001bd'); // Alt-F: after "threeone"; Alt-D kills " two"
    expect(line()).toBe('> threeone');
    await type(t, '\u001b[1;5D', 'X', '\u001b[1;5C', 'Y'); // Ctrl-Left, Ctrl-Right
    expect(line()).toBe('> Xthreeone' + 'Y');
  });

  it('Backspace after 👍 removes the whole emoji, and what is sent is valid text', async () => {
    const t = await inChat();
    await type(t, 'ok👍👍', '\u007f', '\r');
    expect(sent(t)).toEqual(['ok👍']);
  });

  it('Ctrl-R finds an earlier line; Enter runs it', async () => {
    const t = await inChat();
    await type(t, 'first message', '\r', 'second', '\r');
    await type(t, '\u0012', 'fir');
    expect(t.lines().at(-1)).toContain("(reverse-i-search)'fir': first message");
    await type(t, '\r');
    expect(sent(t)).toEqual(['first message', 'second', 'first message']);
  });

  it('a 4,000-character line wraps over rows of the input; the bars stay where they are', async () => {
    const t = setup({ rows: 20, columns: 60 });
    const long = 'abcdefghij'.repeat(400);
    t.stdin.write(long);
    await tick(50);
    const lines = t.lines();
    expect(lines).toHaveLength(20);
    expect(lines[0]).toMatch(/^ xchat console/);
    expect(lines[14]).toMatch(/^\[\d\d:\d\d\] \[1:console\]/); // status bar above 5 input rows
    expect(lines.slice(15).every((l) => /^[a-j]+\s*$/.test(l))).toBe(true);
    expect(lines[19]).toMatch(/j\s*$/);
  });
});

describe('bracketed paste', () => {
  it('three lines with a /command line are one message to the chat; nothing runs', async () => {
    const t = await inChat();
    await type(t, PASTE('line1\r/omemo end\rline3'));
    expect(sent(t)).toEqual(['line1\n/omemo end\nline3']);
    expect(others(t)).toEqual([]);
    expect(t.lines().at(-1)?.trim()).toBe('>');
  });

  it('one pasted line goes into the input line, not run: "/quit" waits for Enter', async () => {
    const t = await inChat();
    await type(t, PASTE('/quit\n'));
    expect(t.quits()).toBe(0);
    expect(t.lines().at(-1)?.trim()).toBe('> /quit');
  });

  it('lines pasted into a typed line join it at the caret: one message', async () => {
    const t = await inChat();
    await type(t, 'see: ', PASTE('a\nb'));
    expect(sent(t)).toEqual(['see: a\nb']);
  });

  it('more than 5 lines are shown first: Esc cancels (the line comes back), Enter sends one message', async () => {
    const t = await inChat(16, 70);
    const seven = ['1', '2', '3', '/quit', '5', '6', '7'].join('\n');
    await type(t, 'draft', PASTE(seven));
    expect(sent(t)).toEqual([]);
    expect(t.frame()).toContain('Enter sends the 7 pasted lines as one message, Esc cancels');
    expect(t.frame()).toMatch(/\n {2}draft1\s*\n {2}2\s*\n/); // pasted at the caret, after "draft"
    await type(t, 'x'); // other keys do nothing meanwhile
    await type(t, '\u001b');
    await tick(80);
    expect(t.frame()).not.toContain('pasted lines');
    expect(t.lines().at(-1)?.trim()).toBe('> draft'); // the line as it was
    expect(sent(t)).toEqual([]);
    await type(t, '\u0015', PASTE(seven), '\r');
    expect(sent(t)).toEqual([seven]);
    expect(t.quits()).toBe(0);
  });

  it('in the console a paste is refused: there is nobody to send it to', async () => {
    const t = setup({ rows: 10, columns: 80 });
    await type(t, PASTE('a\nb'));
    expect(t.frame()).toContain('this is the console: a pasted text is a message');
    expect(t.core.calls).toEqual([]);
  });
});
