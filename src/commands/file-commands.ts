// File commands (/sendfile, /url list|save|open), spliced into the table by table.ts. They act on
// the core's file sharing (src/core/files.ts).
import type { CoreApi } from '../core/api.js';
import { UsageError } from './parser.js';
import type { CommandContext, CommandDef, RawArgs } from './command-def.js';

const info = (ctx: CommandContext, message: string) => ctx.emit({ event: 'info', message });

/**
 * Transfers run in the background: front ends run one command at a time, and a long upload must
 * not hold up the next line. The session tracks them (drain waits); failures become error events.
 */
function background<T>(ctx: CommandContext, p: Promise<T>, done?: (v: T) => void): void {
  p.then(done, (e: unknown) => ctx.emit({ event: 'error', message: e instanceof Error ? e.message : String(e) }));
}

function need<K extends 'sendFile' | 'urlList' | 'urlSave' | 'urlOpen' | 'urlCancel'>(core: CoreApi, k: K): NonNullable<CoreApi[K]> {
  const f = core[k];
  if (!f) throw new Error('file sharing is not available in this session');
  return (f as (...a: never[]) => unknown).bind(core) as NonNullable<CoreApi[K]>;
}

/** One (possibly quoted) word as is; several words: the raw rest of the line (a path with spaces). */
function pathArg(args: string[], raw: RawArgs, from: number): string | undefined {
  if (args.length <= from) return undefined;
  return args.length === from + 1 ? args[from] : raw.rest(from).trim();
}

/** Optional leading link number N; returns it and where the rest starts. */
function linkNumber(args: string[]): { n?: number; next: number } {
  const a = args[0];
  if (a === undefined || !/^\d+$/.test(a)) return { next: 0 };
  const n = Number(a);
  if (n < 1) throw new UsageError(`"${a}" is not a link number (1, 2, … from /url list)`);
  return { n, next: 1 };
}

export const FILE_COMMANDS: readonly CommandDef[] = [
  {
    name: '/sendfile',
    synopsis: ['/sendfile PATH'],
    description:
      'Send a file to the current chat through the server\'s HTTP upload service (XEP-0363). In an OMEMO chat the file is encrypted first (AES-256-GCM, XEP-0454) and only the encrypted aesgcm:// link, which holds the key, is sent; in a plaintext chat the https link is sent as is.',
    args: [{ name: 'PATH', description: 'The file (~ is your home directory; quote paths with spaces or type them as the rest of the line).' }],
    examples: ['/sendfile ~/photos/cat.jpg', '/sendfile "my notes.txt"'],
    handler(ctx, args, raw) {
      const file = pathArg(args, raw, 0);
      if (!file) throw new UsageError('missing PATH');
      background(ctx, need(ctx.core, 'sendFile')(file));
    },
  },
  {
    name: '/url',
    synopsis: ['/url list', '/url save [N] [PATH]', '/url open [N]', '/url cancel [N]'],
    description:
      'Encrypted file links (aesgcm://) received in the current chat. Nothing is downloaded until you ask: save fetches, decrypts and verifies link N; a file that fails verification is deleted.',
    args: [],
    examples: ['/url list', '/url save', '/url save 2 ~/Downloads/', '/url open 2', '/url cancel'],
    subcommands: [
      {
        name: 'list',
        synopsis: ['/url list'],
        description: 'Number the encrypted file links of the current chat.',
        args: [],
        examples: ['/url list'],
        handler(ctx, args) {
          if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
          info(ctx, need(ctx.core, 'urlList')());
        },
      },
      {
        name: 'save',
        synopsis: ['/url save [N] [PATH]'],
        description:
          'Download link N (default: the newest), decrypting as it arrives. PATH: a file name or a directory (default: $XDG_DOWNLOAD_DIR or ~/Downloads); existing files are never overwritten. A download stops with an error past the size the server announced or the account\'s max_download (default 100M); /url cancel stops it.',
        args: [
          { name: 'N', description: 'The link number from /url list (default: the newest).' },
          { name: 'PATH', description: 'Where to save: a new file or an existing directory.' },
        ],
        examples: ['/url save', '/url save 1 /tmp/photo.jpg'],
        handler(ctx, args, raw) {
          const { n, next } = linkNumber(args);
          background(ctx, need(ctx.core, 'urlSave')(n, pathArg(args, raw, next)), (dest) => info(ctx, `saved ${dest}`));
        },
      },
      {
        name: 'cancel',
        synopsis: ['/url cancel [N]'],
        description: 'Stop the download of link N of the current chat, or every download under way; the partial file is removed.',
        args: [{ name: 'N', description: 'The link number from /url list (default: all downloads).' }],
        examples: ['/url cancel', '/url cancel 2'],
        handler(ctx, args) {
          const { n, next } = linkNumber(args);
          if (args.length > next) throw new UsageError(`unexpected argument "${args[next]}"`);
          const stopped = need(ctx.core, 'urlCancel')(n);
          info(ctx, stopped.length === 0 ? 'no download under way' : `cancelling ${stopped.join(', ')}`);
        },
      },
      {
        name: 'open',
        synopsis: ['/url open [N]'],
        description: 'Open the saved file of link N (default: the newest) with the system opener (xdg-open).',
        args: [{ name: 'N', description: 'The link number from /url list (default: the newest).' }],
        examples: ['/url open', '/url open 2'],
        async handler(ctx, args) {
          const { n, next } = linkNumber(args);
          if (args.length > next) throw new UsageError(`unexpected argument "${args[next]}"`);
          await need(ctx.core, 'urlOpen')(n);
        },
      },
    ],
  },
];
