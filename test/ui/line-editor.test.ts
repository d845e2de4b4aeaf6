// The input line's editing as plain state (issue 10): graphemes, not UTF-16 units, are what the
// cursor moves over and Backspace removes; readline's word motions, kill and yank; Ctrl-R.
import { describe, expect, it } from 'vitest';
import { LineEditor } from '../../src/ui/line-editor.js';

/** True when `s` holds a surrogate half without its partner (what a peer would show as '�'). */
const broken = (s: string) => /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

function typed(text: string, cursor = text.length): LineEditor {
  const e = new LineEditor();
  e.insert(text);
  e.home();
  for (let i = 0; e.cursor < cursor && i < text.length; i++) e.right();
  return e;
}

describe('graphemes', () => {
  it('Backspace after an emoji removes the whole emoji, and the line stays valid text', () => {
    const e = typed('ok👍');
    e.backspace();
    expect(e.text).toBe('ok');
    expect(broken(e.text)).toBe(false);
  });

  it('emoji with a skin tone, a ZWJ family, a flag, e + combining accent: one step, one Backspace each', () => {
    for (const g of ['👍🏽', '👨‍👩‍👧', '🇫🇷', 'e\u0301', '\r\n']) {
      const e = typed(`a${g}b`);
      e.left(); // before b
      e.left(); // before the grapheme
      expect(e.cursor).toBe(1);
      e.right();
      expect(e.cursor).toBe(1 + g.length);
      e.backspace();
      expect(e.text).toBe('ab');
      e.insert(g);
      e.left();
      e.del();
      expect(e.text).toBe('ab');
    }
  });

  it('typing parts of one grapheme keeps the cursor after them (a skin tone after its emoji)', () => {
    const e = new LineEditor();
    e.insert('👍');
    e.insert('🏽');
    expect(e.cursor).toBe('👍🏽'.length);
    e.backspace();
    expect(e.text).toBe('');
  });

  it('CJK and other non-Latin text moves one character at a time', () => {
    const e = typed('漢字かな');
    e.left();
    e.backspace();
    expect(e.text).toBe('漢字な');
  });
});

describe('words', () => {
  it('Alt-B/Alt-F (and Ctrl-Left/Right) move to word starts and ends, any script', () => {
    const e = typed('hello, wörld 漢字 foo_bar');
    e.wordLeft();
    expect(e.text.slice(e.cursor)).toBe('foo_bar');
    e.wordLeft();
    expect(e.text.slice(e.cursor)).toBe('漢字 foo_bar');
    e.wordLeft();
    expect(e.text.slice(e.cursor)).toBe('wörld 漢字 foo_bar');
    e.wordLeft();
    e.wordLeft(); // at the start it stays
    expect(e.cursor).toBe(0);
    e.wordRight();
    expect(e.text.slice(0, e.cursor)).toBe('hello');
    e.wordRight();
    expect(e.text.slice(0, e.cursor)).toBe('hello, wörld');
  });

  it('Ctrl-W kills back to a space, Alt-Backspace back to a word start, Alt-D forward to a word end', () => {
    const e = typed('send /tmp/a.txt now');
    e.killWord();
    expect(e.text).toBe('send /tmp/a.txt ');
    e.killWord();
    expect(e.text).toBe('send ');
    const f = typed('send /tmp/a.txt');
    f.killWordBack();
    expect(f.text).toBe('send /tmp/a.');
    f.home();
    f.killWordForward();
    expect(f.text).toBe(' /tmp/a.');
  });
});

describe('kill and yank', () => {
  it('Ctrl-K kills to the end, Ctrl-U to the start, Ctrl-Y yanks back', () => {
    const e = typed('abcdef', 3);
    e.killToEnd();
    expect(e.text).toBe('abc');
    e.home();
    e.yank();
    expect(e.text).toBe('defabc');
    expect(e.cursor).toBe(3);
    e.killToStart();
    expect(e.text).toBe('abc');
    e.end();
    e.yank();
    expect(e.text).toBe('abcdef');
  });

  it('kills in a row are one entry (backward kills prepended); Alt-Y after Ctrl-Y cycles older kills', () => {
    const e = typed('one two three');
    e.killWord();
    e.killWord();
    expect(e.text).toBe('one ');
    e.yank();
    expect(e.text).toBe('one two three');
    e.home();
    e.killWordForward(); // a new kill ("one"), not joined: a yank came between
    e.end();
    e.yank();
    expect(e.text).toBe(' two threeone');
    e.yankPop();
    expect(e.text).toBe(' two threetwo three');
    e.yankPop();
    expect(e.text).toBe(' two threeone');
  });

  it('Alt-Y does nothing unless the last key was a yank', () => {
    const e = typed('ab');
    e.killToStart();
    e.insert('x');
    e.yankPop();
    expect(e.text).toBe('x');
  });

  it('abcdef, Left×3, Ctrl-U, /quit gives /quitdef with the cursor before "def" (readline)', () => {
    const e = typed('abcdef');
    e.left();
    e.left();
    e.left();
    e.killToStart();
    e.insert('/quit');
    expect(e.text).toBe('/quitdef');
    expect(e.cursor).toBe(5);
  });
});

describe('Ctrl-R', () => {
  function withHistory(...lines: string[]): LineEditor {
    const e = new LineEditor();
    for (const l of lines) {
      e.insert(l);
      e.submit();
    }
    return e;
  }

  it('finds the newest entry containing the query, older ones on Ctrl-R, and says when none', () => {
    const e = withHistory('/msg bob hi', '/omemo trust bob', 'hello bob', '/wins');
    e.insert('draft');
    e.searchBack();
    expect(e.searching).toBe(true);
    expect(e.searchPrompt).toBe("(reverse-i-search)'': ");
    expect(e.text).toBe('draft');
    e.searchType('b');
    e.searchType('o');
    e.searchType('b');
    expect(e.text).toBe('hello bob');
    expect(e.cursor).toBe(6); // at the match
    e.searchBack();
    expect(e.text).toBe('/omemo trust bob');
    e.searchBack();
    expect(e.text).toBe('/msg bob hi');
    e.searchBack(); // nothing older: the line stays, the prompt says so
    expect(e.text).toBe('/msg bob hi');
    expect(e.searchPrompt).toBe("(failed reverse-i-search)'bob': ");
    e.searchErase();
    expect(e.text).toBe('hello bob'); // 'bo' again, from the newest
    e.searchCancel();
    expect(e.searching).toBe(false);
    expect(e.text).toBe('draft');
  });

  it('accepting keeps the match in the line to edit; Enter submits it; Ctrl-R Ctrl-R repeats the last query', () => {
    const e = withHistory('/status away', '/wins');
    e.searchBack();
    e.searchType('aw');
    e.searchAccept();
    expect(e.searching).toBe(false);
    expect(e.text).toBe('/status away');
    e.end();
    e.insert(' lunch');
    expect(e.submit()).toBe('/status away lunch');
    e.searchBack();
    e.searchBack(); // empty query: the last one again
    expect(e.text).toBe('/status away lunch');
    e.searchCancel();
    expect(e.text).toBe('');
  });
});
