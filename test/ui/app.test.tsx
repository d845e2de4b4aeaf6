// The Ink TUI rendered with ink-testing-library: bars, keys, completion, viewport, resize.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { msg, NOW, setup, tick } from './helpers.js';

afterEach(() => cleanup());

const ALT = (k: string) => `\u001b${k}`;
const F = ['\u001bOP', '\u001bOQ', '\u001bOR', '\u001bOS', '\u001b[15~', '\u001b[17~', '\u001b[18~', '\u001b[19~', '\u001b[20~', '\u001b[21~'];

async function type(t: ReturnType<typeof setup>, ...keys: string[]) {
  for (const k of keys) {
    t.stdin.write(k);
    await tick(5);
  }
  await tick();
}

describe('title bar', () => {
  it('shows the console and the connection state', async () => {
    const t = setup({ rows: 10, columns: 80 });
    t.core.emit({ event: 'status', status: 'online', jid: 'alice@localhost' });
    await tick();
    expect(t.lines()[0].trim()).toBe('xchat console - alice@localhost online');
  });

  it('OMEMO trusted, OMEMO untrusted and unencrypted chats: the label follows the contact', async () => {
    const t = setup({ rows: 10, columns: 80 });
    t.core.trustOf = { 'bob@localhost': 'trusted', 'carol@localhost': 'untrusted' };
    t.core.emit(msg('bob@localhost', 'hi'));
    t.core.emit(msg('carol@localhost', 'psst', { trust: 'untrusted' }));
    t.core.emit(msg('dave@localhost', 'plain', { encryption: 'none', trust: undefined }));
    await type(t, ALT('2'));
    expect(t.lines()[0].trim()).toBe('bob@localhost [OMEMO] [trusted]');
    await type(t, ALT('3'));
    expect(t.lines()[0].trim()).toBe('carol@localhost [OMEMO] [untrusted]');
    expect(t.frame()).toContain('[untrusted] carol@localhost: psst');
    await type(t, ALT('4'));
    expect(t.lines()[0].trim()).toBe('dave@localhost [unencrypted]');
    expect(t.frame()).toContain('[unencrypted] dave@localhost: plain');
    // A trust event changes the state shown: the contact's, whatever device a message came from.
    t.core.trustOf['carol@localhost'] = 'verified';
    t.core.emit({ event: 'trust', jid: 'carol@localhost', fingerprint: 'ab'.repeat(32), state: 'verified' });
    await type(t, ALT('3'));
    expect(t.lines()[0].trim()).toBe('carol@localhost [OMEMO] [verified]');
    t.core.emit(msg('carol@localhost', 'from an undecided device', { trust: 'undecided' }));
    await tick();
    expect(t.lines()[0].trim()).toBe('carol@localhost [OMEMO] [verified]');
    expect(t.frame()).toContain('[undecided] carol@localhost: from an undecided device');
  });
});

describe('status bar', () => {
  it('shows the time, the window numbers, unread counts and activity', async () => {
    const t = setup({ rows: 10, columns: 100 });
    t.core.trustOf = { 'bob@localhost': 'trusted' };
    t.core.emit(msg('bob@localhost', '1'));
    t.core.emit(msg('bob@localhost', '2'));
    t.core.emit(msg('bob@localhost', '3'));
    t.core.emit(msg('carol@localhost', 'x'));
    await tick();
    const hhmm = new Date(NOW).toTimeString().slice(0, 5);
    expect(t.lines()[8].trim()).toBe(`[${hhmm}] [1:console] [2:bob@localhost*3] [3:carol@localhost*1]`);
    await type(t, ALT('2'));
    expect(t.lines()[8]).toContain('[1:console] [2:bob@localhost] [3:carol@localhost*1]');
    expect(t.lines()[8]).toContain('[OMEMO] [trusted]');
    t.core.emit({ event: 'info', message: 'console news' });
    await tick();
    expect(t.lines()[8]).toContain('[1:console+]');
  });
});

describe('window switching keys', () => {
  it('Alt+N, F-keys, Alt+Left/Right and Alt+a', async () => {
    const t = setup({ rows: 10, columns: 80 });
    for (const j of ['b@x', 'c@x', 'd@x']) t.core.emit(msg(j, `hi from ${j}`));
    await tick();
    await type(t, ALT('3'));
    expect(t.windows.current().num).toBe(3);
    expect(t.frame()).toContain('hi from c@x');
    await type(t, F[1]);
    expect(t.windows.current().num).toBe(2);
    await type(t, F[0]);
    expect(t.windows.current().num).toBe(1);
    await type(t, '\u001b[1;3C'); // Alt+Right
    expect(t.windows.current().num).toBe(2);
    await type(t, '\u001b\u001b[D'); // Alt+Left (ESC-prefixed form)
    expect(t.windows.current().num).toBe(1);
    await type(t, ALT('a')); // next with unread: d@x (4); b and c were read
    expect(t.windows.current().num).toBe(4);
    await type(t, F[9]); // F10 = window 10: none, stays
    expect(t.windows.current().num).toBe(4);
    // Switching made the window's contact the core's chat: plain lines go there.
    await type(t, 'yo', '\r');
    expect(t.core.calls).toContainEqual(['sendMessage', 'd@x', 'yo']);
  });

  it('plain lines typed in the console are refused, not sent', async () => {
    const t = setup({ rows: 10, columns: 80 });
    await type(t, 'hello', '\r');
    expect(t.frame()).toContain('this is the console');
    expect(t.core.calls.filter((c) => c[0] === 'sendMessage')).toEqual([]);
  });
});

describe('input line', () => {
  it('history with Up/Down keeps the line being typed', async () => {
    const t = setup({ rows: 10, columns: 80 });
    await type(t, '/wins', '\r', '/help', '\r', 'draft');
    await type(t, '\u001b[A');
    expect(t.lines()[9]).toContain('> /help');
    await type(t, '\u001b[A');
    expect(t.lines()[9]).toContain('> /wins');
    await type(t, '\u001b[B', '\u001b[B');
    expect(t.lines()[9]).toContain('> draft');
  });

  it('editing keys: Left/Right/Home/End, Ctrl-A/E/U/W, Backspace, Delete', async () => {
    const t = setup({ rows: 10, columns: 80 });
    const line = () => t.lines()[9].replace(/\s+$/, '');
    await type(t, 'hello world');
    await type(t, '\u007f'); // Backspace (DEL byte)
    expect(line()).toBe('> hello worl');
    await type(t, '\u0001', '\u001b[3~'); // Ctrl-A, Delete
    expect(line()).toBe('> ello worl');
    await type(t, '\u0005', ' x', '\u0017'); // Ctrl-E, type, Ctrl-W: "x" goes, the space stays
    await type(t, '\u001b[D', '\u001b[D', '\u001b[D', '\u0015'); // Left x3, Ctrl-U
    expect(line()).toBe('> rl');
    await type(t, '\u001b[H', '[', '\u001b[F', ']', '\u001b[D', '\u001b[C', '!');
    expect(line()).toBe('> [rl ]!'); // the space Ctrl-W left stays
  });

  it('Tab completes commands, subcommands and JIDs, cycling on repeated Tab', async () => {
    const t = setup({ rows: 10, columns: 80, knownJids: ['bob@localhost', 'bella@localhost'] });
    const line = () => t.lines()[9].replace(/\s+$/, '');
    await type(t, '/omemo tr', '\t');
    expect(line()).toBe('> /omemo trust');
    await type(t, '\t');
    expect(line()).toBe('> /omemo trustmode');
    await type(t, '\u0015', '/ms', '\t');
    expect(line()).toBe('> /msg');
    await type(t, 'b', '\t'); // the single candidate /msg came with a space
    expect(line()).toBe('> /msg bob@localhost');
    await type(t, '\t');
    expect(line()).toBe('> /msg bella@localhost');
    await type(t, '\u0015', '/wi', '\t', '\t');
    expect(line()).toBe('> /wins');
  });

  it('typing in a chat window reports composing, an empty line active; commands and the console nothing', async () => {
    const t = setup({ rows: 10, columns: 80 });
    await type(t, 'x', '\u0015'); // console
    t.core.emit(msg('bob@localhost', 'hi'));
    await type(t, '\u001b2', '/wins', '\u0015', 'he', '\u007f', '\u007f');
    expect(t.typing).toEqual(['bob@localhost:composing', 'bob@localhost:active']);
  });

  it('/quit and Ctrl-C ask the front end to quit', async () => {
    const t = setup({ rows: 10, columns: 80 });
    await type(t, '\u0003');
    expect(t.quits()).toBe(1);
    await type(t, '/quit', '\r');
    await tick();
    expect(t.quits()).toBe(2);
  });

  it('window commands work from the input line', async () => {
    const t = setup({ rows: 12, columns: 80 });
    t.core.emit(msg('bob@localhost', 'hi'));
    await type(t, '/win bob@localhost', '\r');
    expect(t.windows.current().num).toBe(2);
    await type(t, '/clear', '\r');
    expect(t.frame()).not.toContain('hi');
    await type(t, '/close', '\r');
    expect(t.windows.list().map((w) => w.num)).toEqual([1]);
    await type(t, '/win 7', '\r');
    expect(t.frame()).toContain('no window 7');
  });
});

describe('viewport', () => {
  it('renders only the visible rows of 100 000 lines, the last ones', async () => {
    const t = setup({ rows: 12, columns: 60 });
    const w = t.windows.current();
    for (let i = 0; i < 100_000; i++) w.lines.push({ time: 0, body: `line ${i}`, kind: 'info', cont: true });
    t.windows.show({ event: 'info', message: 'last' });
    await tick();
    const lines = t.lines();
    expect(lines).toHaveLength(12);
    const body = lines.slice(1, 10).map((l) => l.trim());
    expect(body).toHaveLength(9);
    expect(body.slice(0, 8)).toEqual(Array.from({ length: 8 }, (_, k) => `line ${99_992 + k}`));
    expect(body[8]).toMatch(/last$/);
  });

  it('PageUp shows older lines, PageDown comes back; new lines do not yank the view', async () => {
    const t = setup({ rows: 12, columns: 60 });
    for (let i = 0; i < 100; i++) t.windows.show({ event: 'info', message: `n${i}` });
    await tick();
    const body = () => t.lines().slice(1, 10).map((l) => l.trim().split(' ').pop());
    expect(body()).toEqual(Array.from({ length: 9 }, (_, k) => `n${91 + k}`));
    await type(t, '\u001b[5~'); // PageUp: 8 lines (a page minus one) back
    expect(body()).toEqual(Array.from({ length: 9 }, (_, k) => `n${83 + k}`));
    expect(t.lines()[10]).toContain('-- more');
    t.windows.show({ event: 'info', message: 'fresh' });
    await tick();
    expect(body()).toEqual(Array.from({ length: 9 }, (_, k) => `n${83 + k}`));
    await type(t, '\u001b[6~', '\u001b[6~');
    expect(body()[8]).toBe('fresh');
  });

  it('long lines wrap and still fill exactly the viewport', async () => {
    const t = setup({ rows: 8, columns: 20 });
    t.windows.show({ event: 'info', message: 'x'.repeat(100) });
    await tick();
    const lines = t.lines();
    expect(lines).toHaveLength(8);
    expect(lines.slice(1, 6).every((l) => /^x+\s*$/.test(l))).toBe(true);
  });

  it('redraws with the new size on resize', async () => {
    const t = setup();
    const out = t.stdout as unknown as { rows: number; columns: number; emit(e: string): void };
    Object.defineProperty(out, 'rows', { value: 10, configurable: true, writable: true });
    Object.defineProperty(out, 'columns', { value: 50, configurable: true, writable: true });
    out.emit('resize');
    for (let i = 0; i < 30; i++) t.windows.show({ event: 'info', message: `r${i}` });
    await tick();
    expect(t.lines()).toHaveLength(10);
    out.rows = 15;
    out.emit('resize');
    await tick();
    expect(t.lines()).toHaveLength(15);
    expect(t.lines()[12].trim().split(' ').pop()).toBe('r29');
    expect(t.lines()[1].trim().split(' ').pop()).toBe('r18');
  });
});
