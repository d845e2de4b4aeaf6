// The masked password prompt (issue 9): while it is open the input line shows the question and one
// star per character, never the text; Enter answers, Esc cancels; nothing typed reaches the
// command line or a chat.
import { describe, expect, it } from 'vitest';
import { SecretPrompt } from '../../src/ui/secret-prompt.js';
import { setup, tick } from './helpers.js';

describe('the password prompt', () => {
  it('shows stars, answers on Enter, and leaves the command line untouched', async () => {
    const secret = new SecretPrompt();
    const t = setup({ rows: 8, columns: 60, secret });
    const answer = secret.ask('password for alice@example.org (Esc cancels)');
    await tick();
    t.stdin.write('hunter2');
    await tick();
    const shown = t.frame();
    expect(shown).toContain('password for alice@example.org (Esc cancels): *******');
    expect(shown).not.toContain('hunter2');
    t.stdin.write('\r');
    expect(await answer).toBe('hunter2');
    await tick();
    expect(t.lines().at(-1)?.trim()).toBe('>');
    expect(t.frame()).not.toContain('hunter2');
    expect(t.core.calls).toEqual([]);
  });

  it('Esc cancels (no answer); backspace removes a character', async () => {
    const secret = new SecretPrompt();
    const t = setup({ rows: 8, columns: 60, secret });
    const first = secret.ask('password for bob@x');
    await tick();
    t.stdin.write('abc');
    await tick();
    t.stdin.write('\u007f');
    await tick();
    expect(t.frame()).toContain('password for bob@x: **');
    t.stdin.write('\u001b');
    await tick(80);
    expect(await first).toBeUndefined();
    const second = secret.ask('password for bob@x');
    await tick();
    t.stdin.write('xy\r');
    expect(await second).toBe('xy');
  });
});
