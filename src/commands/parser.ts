// Splits a command line into words. Double quotes group words ("a b"); inside them \" and \\
// escape; outside, a backslash escapes a quote, a backslash or a space. Single quotes group
// literally. Each word keeps its offsets so a handler can take the raw rest of the line
// (message text keeps its own spacing and quotes) and completion knows what it replaces.

export interface Token {
  value: string;
  /** Offset of the word's first character (an opening quote included). */
  start: number;
  /** Offset just past the word. */
  end: number;
}

export interface ParsedLine {
  line: string;
  /** '/connect' (lower-cased), or '' for a line that is not a command. */
  command: string;
  args: string[];
  /** Raw text from argument i to the end of the line (trimmed), or '' past the end. */
  rest(i: number): string;
}

export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}

/** Thrown by handlers on wrong arguments; the engine adds the command's synopsis. */
export class UsageError extends Error {
  constructor(message = '') {
    super(message);
    this.name = 'UsageError';
  }
}

export interface TokenizeResult {
  tokens: Token[];
  /** The last token's quote was never closed (only possible with lenient). */
  openQuote: boolean;
}

export function tokenize(line: string, lenient = false): TokenizeResult {
  const tokens: Token[] = [];
  let i = 0;
  const n = line.length;
  let openQuote = false;
  while (i < n) {
    while (i < n && /\s/.test(line[i])) i++;
    if (i >= n) break;
    const start = i;
    let value = '';
    while (i < n && !/\s/.test(line[i])) {
      const c = line[i];
      if (c === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const d = line[i];
          if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
            value += line[i + 1];
            i += 2;
          } else if (d === '"') {
            i++;
            closed = true;
            break;
          } else {
            value += d;
            i++;
          }
        }
        if (!closed) {
          if (!lenient) throw new ParseError('unterminated quote (close it with ")');
          openQuote = true;
        }
      } else if (c === "'") {
        const close = line.indexOf("'", i + 1);
        if (close === -1) {
          if (!lenient) throw new ParseError("unterminated quote (close it with ')");
          openQuote = true;
          value += line.slice(i + 1);
          i = n;
        } else {
          value += line.slice(i + 1, close);
          i = close + 1;
        }
      } else if (c === '\\' && i + 1 < n && /["'\\\s]/.test(line[i + 1])) {
        value += line[i + 1];
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    tokens.push({ value, start, end: i });
  }
  return { tokens, openQuote };
}

/** Parses a full line; throws ParseError on an unterminated quote. */
export function parseLine(line: string): ParsedLine {
  const { tokens } = tokenize(line);
  const first = tokens[0];
  const isCommand = first !== undefined && line.slice(first.start).startsWith('/');
  const argTokens = isCommand ? tokens.slice(1) : tokens;
  return {
    line,
    command: isCommand ? first.value.toLowerCase() : '',
    args: argTokens.map((t) => t.value),
    rest(i: number): string {
      const t = argTokens[i];
      return t ? line.slice(t.start).trim() : '';
    },
  };
}
