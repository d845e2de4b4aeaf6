import { describe, it, expect } from 'vitest';
import { parseLine, tokenize, ParseError } from '../../src/commands/parser.js';

describe('parseLine', () => {
  it('splits command and args, lower-casing the command', () => {
    const p = parseLine('/Connect alice@x server  h.example  port 5223');
    expect(p.command).toBe('/connect');
    expect(p.args).toEqual(['alice@x', 'server', 'h.example', 'port', '5223']);
  });

  it('groups quoted words and unescapes quotes and backslashes', () => {
    expect(parseLine('/a "b c" d').args).toEqual(['b c', 'd']);
    expect(parseLine('/a "say \\"hi\\"" x').args).toEqual(['say "hi"', 'x']);
    expect(parseLine('/a "back\\\\slash"').args).toEqual(['back\\slash']);
    expect(parseLine('/a b\\ c \\"q').args).toEqual(['b c', '"q']);
    expect(parseLine("/a 'lit \\ eral' x").args).toEqual(['lit \\ eral', 'x']);
    expect(parseLine('/a pre"mid dle"post').args).toEqual(['premid dlepost']);
    expect(parseLine('/a ""').args).toEqual(['']);
    expect(parseLine('/a C:\\path').args).toEqual(['C:\\path']);
  });

  it('keeps the raw rest of the line for message text', () => {
    const p = parseLine('/msg bob@x   hello  "world"  ');
    expect(p.rest(1)).toBe('hello  "world"');
    expect(p.rest(5)).toBe('');
  });

  it('rejects an unterminated quote clearly', () => {
    expect(() => parseLine('/a "b c')).toThrow(ParseError);
    expect(() => parseLine('/a "b c')).toThrow(/unterminated quote/);
    expect(() => parseLine("/a 'b")).toThrow(/unterminated quote/);
  });

  it('tokenize is lenient on request and reports offsets', () => {
    const r = tokenize('/x "ab c', true);
    expect(r.openQuote).toBe(true);
    expect(r.tokens.map((t) => [t.value, t.start, t.end])).toEqual([
      ['/x', 0, 2],
      ['ab c', 3, 8],
    ]);
  });

  it('a non-command line has no command', () => {
    expect(parseLine('hello there').command).toBe('');
  });
});
