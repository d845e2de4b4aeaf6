// The floors of docs/architecture.md, checked in `npm test`: an import only points down a floor,
// there is no cycle, and src/omemo (pure protocol) and src/lib import nothing that does I/O.
// Floors, top to bottom: bin → cli/tui → ui → commands → core → xmpp, store → omemo → lib.
/** @type {import('dependency-cruiser').IConfiguration} */
const above = {
  lib: '^src/(omemo|xmpp|store|core|commands|ui|cli|tui|output)',
  omemo: '^src/(xmpp|store|core|commands|ui|cli|tui|output)',
  xmpp: '^src/(store|core|commands|ui|cli|tui|output)',
  store: '^src/(xmpp|core|commands|ui|cli|tui|output)',
  core: '^src/(commands|ui|cli|tui)',
  commands: '^src/(ui|cli|tui)',
  ui: '^src/(cli|tui)',
};

module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', comment: 'Import cycles hide which part owns what.', from: {}, to: { circular: true } },
    ...Object.entries(above).map(([floor, higher]) => ({
      name: `${floor}-imports-down-only`,
      severity: 'error',
      comment: `src/${floor} may not import a higher floor: tell it something with an event instead.`,
      from: { path: `^src/${floor}/` },
      to: { path: higher },
    })),
    {
      name: 'omemo-and-lib-do-no-io',
      severity: 'error',
      comment: 'src/omemo and src/lib are pure: no network, files, processes or UI.',
      from: { path: '^src/(omemo|lib)/' },
      to: { path: '^(fs|net|tls|dgram|http|https|http2|child_process|worker_threads|readline|node:(fs|fs/promises|net|tls|dgram|http|https|http2|child_process|worker_threads|readline))$|node_modules/(ink|react|better-sqlite3|lowdb|@xmpp)', dependencyTypes: ['core', 'npm', 'npm-dev'] },
    },
    {
      name: 'crypto-only-in-primitives',
      severity: 'error',
      comment: 'One module owns the crypto primitives (src/omemo/primitives.ts and its parts), so a faster implementation can be swapped in behind it.',
      from: { path: '^src/', pathNot: '^src/omemo/primitives(\\.ts$|/)' },
      to: { path: 'node_modules/@noble/' },
    },
    {
      name: 'omemo-crypto-only-in-primitives',
      severity: 'error',
      comment: 'Within src/omemo, node:crypto is used only by the primitives module.',
      from: { path: '^src/omemo/', pathNot: '^src/omemo/primitives(\\.ts$|/)' },
      to: { path: '^(node:)?crypto$' },
    },
    {
      name: 'xmpp-client-in-xmpp-only',
      severity: 'error',
      comment: '@xmpp/client is the XMPP floor\'s business.',
      from: { path: '^src/', pathNot: '^src/xmpp/' },
      to: { path: 'node_modules/@xmpp/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.tsx', '.js'] },
  },
};
