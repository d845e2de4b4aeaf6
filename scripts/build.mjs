// Builds dist/ for bin/xchat: one ESM bundle with code splitting, so `xchat send|listen|run` load
// only their own code and the TUI (ink, react, yoga) sits in a chunk that cli.ts imports
// dynamically on the TUI path only. Loading one pre-linked file instead of ~1000 modules from
// node_modules is most of Node's start-up cost. Type checking is `tsc -p tsconfig.test.json`.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Ink (TUI chunk only) re-tokenizes every line of the screen on every frame; its output.js gets
// the tokenizer through src/ui/ink-tokenize-cache.ts, which keeps recent lines' results across
// frames (a keystroke then costs the one changed row, not forty). Nothing else is redirected.
let inkTokenizerCached = false;
const inkTokenizeCache = {
  name: 'ink-tokenize-cache',
  setup(b) {
    b.onResolve({ filter: /^@alcalzone\/ansi-tokenize$/ }, (args) => {
      if (!args.importer.endsWith(path.join('node_modules', 'ink', 'build', 'output.js'))) return undefined;
      inkTokenizerCached = true;
      return { path: path.join(root, 'src/ui/ink-tokenize-cache.ts') };
    });
  },
};
// --outdir DIR: build elsewhere (the build test does, so it never touches a dist/ in use).
const outArg = process.argv.indexOf('--outdir');
const outdir = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(root, 'dist');

// A stale tree from the old per-file tsc output would shadow nothing but confuse readers.
await rm(outdir, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native addon: loaded from node_modules at run time. react-devtools-core is an optional
  // import of ink's (DEV=true only) and is not installed.
  external: ['better-sqlite3', 'react-devtools-core'],
  // React's production build: smaller and faster than the development one it picks otherwise.
  define: { 'process.env.NODE_ENV': '"production"' },
  // Bundled CommonJS packages call require() for Node built-ins; ESM has no require.
  banner: { js: "import { createRequire as __xchatCreateRequire } from 'node:module'; const require = __xchatCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  legalComments: 'none',
  minify: process.env.XCHAT_BUILD_MINIFY !== '0',
  logLevel: 'warning',
  metafile: process.argv.includes('--meta'),
  plugins: [inkTokenizeCache],
}).then(async (r) => {
  // An Ink upgrade that moves its tokenizer import must not silently lose the cache.
  if (!inkTokenizerCached) throw new Error('scripts/build.mjs: ink/build/output.js no longer imports @alcalzone/ansi-tokenize; update the ink-tokenize-cache plugin');
  if (r.metafile) {
    const { analyzeMetafile } = await import('esbuild');
    console.log(await analyzeMetafile(r.metafile));
  }
});
