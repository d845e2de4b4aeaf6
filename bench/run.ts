// `npm run bench`: every benchmark in one process run, interleaved by round so xchat and
// python-omemo see the same machine state, medians of N runs, one markdown table (or --json).
// Reports; never asserts: the exit code is 0 whatever the goals say (non-zero only if a
// benchmark itself crashes).
//   npm run bench -- [--json] [--runs N] [--quick] [--no-python] [--no-tui] [--no-files] [--no-mam]
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { usePrimitives, nodePrimitives } from '../src/omemo/primitives.js';
import { BACKENDS, median, w1Manager, w1Session, w2Manager, w2Session, w3Manager, type BackendName } from './omemo.js';
import { persistence } from './persistence.js';
import { tuiRows } from './tui.js';
import { historyAppend } from './history.js';
import { mamCatchUp } from './mam.js';
import { parsingRows } from './parsing.js';
import { fuzzStream } from '../test/xmpp/stream-fuzz.js';
import { connectBench } from './connect.js';

const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const opt = (f: string): string | undefined => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
if (flag('--help') || flag('-h')) {
  console.log('usage: npm run bench -- [--json] [--runs N] [--quick] [--no-python] [--no-tui] [--no-files] [--no-mam]');
  process.exit(0);
}
const JSON_OUT = flag('--json');
const QUICK = flag('--quick');
const RUNS = Math.max(1, Number(opt('--runs') ?? (QUICK ? 1 : 3)) || 3);
const PYTHON = flag('--no-python') ? undefined : '/usr/bin/python3';

/**
 * Workload sizes. W1 reports a rate, which does not depend on the count once past warm-up, so the
 * secondary rows use fewer messages to keep the whole run near 3 minutes on 2 busy cores.
 */
const SIZE = {
  w1: QUICK ? 1000 : 10_000,
  w1Manager: QUICK ? 1000 : 3000,
  w1Noble: QUICK ? 300 : 1000,
  w2: 100,
  w3Devices: 10,
  w3Iterations: QUICK ? 50 : 200,
  persistSizes: [5, 500],
  persistMessages: QUICK ? 30 : 100,
};
const BACKEND_NAMES: BackendName[] = ['node', 'noble'];

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const raw: Record<string, number[]> = {};
const put = (key: string, v: number) => (raw[key] ??= []).push(v);

interface PyResult {
  w1_msgs_per_s: number;
  w1_messages: number;
  w2_ms: number;
  w2_sessions: number;
  w3_us?: number;
  versions: Record<string, string>;
}
let pyVersions: Record<string, string> | undefined;
let pyError: string | undefined;

async function runPython(): Promise<void> {
  if (!PYTHON || pyError) return;
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python_omemo.py');
  try {
    const { stdout } = await promisify(execFile)(PYTHON, [script, '--w1', String(SIZE.w1), '--w2', String(SIZE.w2), '--w3', String(SIZE.w3Iterations)], {
      timeout: 120_000, // a stuck python must not stall the run; later rounds then skip it
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(stdout) as PyResult;
    pyVersions = r.versions;
    put('py.w1', r.w1_msgs_per_s);
    put('py.w2', r.w2_ms);
    if (r.w3_us !== undefined) put('py.w3', r.w3_us);
  } catch (e) {
    pyError = (e as Error).message.split('\n').slice(0, 3).join(' ');
    log(`python-omemo benchmark unavailable: ${pyError}`);
  }
}

const w1Count = (backend: BackendName, level: 'session' | 'manager'): number =>
  backend === 'noble' ? SIZE.w1Noble : level === 'session' ? SIZE.w1 : SIZE.w1Manager;

async function runXchat(backend: BackendName, warm = false): Promise<void> {
  usePrimitives(BACKENDS[backend]);
  try {
    // Warm-up: small workloads so run 1 is not a JIT benchmark (results discarded).
    const k = (s: string) => (warm ? `warm.${s}` : s);
    put(k(`w1.session.${backend}`), await w1Session(warm ? 150 : w1Count(backend, 'session')));
    put(k(`w1.manager.${backend}`), await w1Manager(warm ? 150 : w1Count(backend, 'manager')));
    put(k(`w2.session.${backend}`), await w2Session(warm ? 10 : SIZE.w2));
    put(k(`w2.manager.${backend}`), await w2Manager(warm ? 10 : SIZE.w2));
    put(k(`w3.manager.${backend}`), await w3Manager(SIZE.w3Devices, warm ? 20 : SIZE.w3Iterations));
  } finally {
    usePrimitives(nodePrimitives);
  }
}

async function runPersistence(): Promise<void> {
  usePrimitives(nodePrimitives);
  const [small, big] = SIZE.persistSizes;
  const r = await persistence(small, big, SIZE.persistMessages);
  for (const n of SIZE.persistSizes) {
    put(`p.encstore.${n}`, r.encryptStoreMs[n]);
    put(`p.store.${n}`, r.storeMs[n]);
  }
  put('p.floor', r.fsyncFloorMs);
}

// ---- the table ---------------------------------------------------------------------------------

interface Row {
  id: string;
  scenario: string;
  unit: string;
  xchat: number | null;
  python: number | null;
  /** > 1: xchat is that many times faster than python-omemo. */
  ratio: number | null;
  goal: string;
  /** null: no goal. informational: goal shown for comparison only (non-default backend). */
  pass: boolean | null;
  informational?: boolean;
}

const med = (key: string): number | null => (raw[key]?.length ? median(raw[key]) : null);

function buildRows(): Row[] {
  const rows: Row[] = [];
  const pyW1 = med('py.w1');
  const pyW2 = med('py.w2');
  const pyW3 = med('py.w3');
  for (const b of BACKEND_NAMES) {
    const info = b !== 'node';
    const lib = b === 'node' ? 'node:crypto' : 'noble';
    for (const level of ['session', 'manager'] as const) {
      const n = w1Count(b, level);
      const x = med(`w1.${level}.${b}`);
      const ratio = x !== null && pyW1 !== null ? x / pyW1 : null;
      rows.push({
        id: `W1.${level}.${b}`,
        scenario: `W1 catch-up, ${level === 'session' ? 'decryptFromDevice' : 'OmemoManager.decrypt'} (${lib}${n !== SIZE.w1 ? `, ${n} msgs` : ''})`,
        unit: 'msgs/s',
        xchat: x,
        python: pyW1,
        ratio,
        goal: '≥ 5× python',
        pass: ratio === null ? null : ratio >= 5,
        informational: info,
      });
    }
    for (const level of ['session', 'manager'] as const) {
      const x = med(`w2.${level}.${b}`);
      rows.push({
        id: `W2.${level}.${b}`,
        scenario: `W2 fan-out ×${SIZE.w2}, ${level === 'session' ? 'initSessionFromBundle+encryptForDevice' : 'OmemoManager.encrypt'} (${lib})`,
        unit: 'ms',
        xchat: x,
        python: pyW2,
        ratio: x !== null && pyW2 !== null ? pyW2 / x : null,
        goal: '≤ 100 ms',
        pass: x === null ? null : x <= 100,
        informational: info,
      });
    }
    const w3 = med(`w3.manager.${b}`);
    rows.push({
      id: `W3.manager.${b}`,
      scenario: `W3 steady encrypt ×${SIZE.w3Devices} sessions, OmemoManager.encrypt (${lib})`,
      unit: 'µs',
      xchat: w3,
      python: pyW3,
      ratio: w3 !== null && pyW3 !== null ? pyW3 / w3 : null,
      goal: '—',
      pass: null,
      informational: info,
    });
  }
  const [small, big] = SIZE.persistSizes;
  for (const n of [big, small]) {
    for (const kind of ['encstore', 'store'] as const) {
      const x = med(`p.${kind}.${n}`);
      rows.push({
        id: `P.${kind}.${n}`,
        scenario: `persist per message, ${kind === 'encstore' ? 'encryptForDevice + durable store' : 'bare storeSession'}, ${n} sessions on disk`,
        unit: 'ms',
        xchat: x,
        python: null,
        ratio: null,
        goal: '≤ 1 ms',
        pass: x === null ? null : x <= 1,
      });
    }
  }
  const a = med(`p.encstore.${big}`);
  const b = med(`p.encstore.${small}`);
  const growth = a !== null && b !== null ? a / b : null;
  rows.push({
    id: 'P.growth',
    scenario: `persist cost at ${big} ÷ at ${small} sessions (encrypt+store)`,
    unit: '×',
    xchat: growth,
    python: null,
    ratio: null,
    goal: '≈ 1× (≤ 1.5×)',
    pass: growth === null ? null : growth <= 1.5,
  });
  rows.push({
    id: 'P.floor',
    scenario: 'disk floor: rewrite one 2 KB file + one fsync (no rename, no dir fsync)',
    unit: 'ms',
    xchat: med('p.floor'),
    python: null,
    ratio: null,
    goal: '—',
    pass: null,
  });
  return rows;
}

function fmt(v: number | null, unit: string): string {
  if (v === null) return 'n/a';
  const digits = unit === 'ms' || unit === 's' || unit === '×' ? (v < 10 ? 2 : 1) : 0;
  const s = v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit === '×' ? `${s}×` : `${s} ${unit}`;
}

function verdict(r: Row): string {
  if (r.pass === null) return '—';
  const v = r.pass ? 'PASS' : 'FAIL';
  return r.informational ? `(${v.toLowerCase()}, info)` : v;
}

function table(rows: Row[]): string {
  const lines = ['| scenario | xchat | python-omemo | ratio | goal | pass/fail |', '|---|---:|---:|---:|---|---|'];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${fmt(r.xchat, r.unit)} | ${r.python === null ? '—' : fmt(r.python, r.unit)} | ${
        r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`
      } | ${r.goal} | ${verdict(r)} |`,
    );
  }
  return lines.join('\n');
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const load0 = os.loadavg()[0];
  log(`${RUNS} run(s); W1 ${SIZE.w1} msgs; python: ${PYTHON ?? 'off'}`);
  for (const b of BACKEND_NAMES) await runXchat(b, true);
  for (let run = 1; run <= RUNS; run++) {
    log(`run ${run}/${RUNS}: python-omemo`);
    await runPython();
    for (const b of BACKEND_NAMES) {
      log(`run ${run}/${RUNS}: xchat ${b}`);
      await runXchat(b);
    }
    log(`run ${run}/${RUNS}: persistence`);
    await runPersistence();
  }
  const rows = buildRows();
  // The real TUI in tmux, beside Profanity (needs `npm run build`, tmux; --no-tui skips it).
  if (!flag('--no-tui')) {
    try {
      rows.push(...(await tuiRows({ quick: QUICK, log })));
    } catch (e) {
      log(`TUI benchmarks unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // Issue 4: history append cost by size, and streaming file encryption in a fresh process
  // (so its peak RSS is the file pipeline's, not this runner's).
  try {
    log('history append at 1 000 vs 100 000 stored messages');
    const h = await historyAppend(1_000, QUICK ? 20_000 : 100_000, QUICK ? 200 : 500);
    const big = QUICK ? 20_000 : 100_000;
    rows.push(
      { id: 'history.small', scenario: 'history append, 1 000 stored', unit: 'ms/msg', xchat: h.appendMs[1_000], python: null, ratio: null, goal: '—', pass: null },
      { id: 'history.big', scenario: `history append, ${big.toLocaleString('en')} stored`, unit: 'ms/msg', xchat: h.appendMs[big], python: null, ratio: null, goal: '—', pass: null },
      { id: 'history.ratio', scenario: `history append cost at ${big.toLocaleString('en')} ÷ at 1 000`, unit: '×', xchat: h.ratio, python: null, ratio: null, goal: '≤ 1.2×', pass: h.ratio <= 1.2 },
    );
  } catch (e) {
    log(`history benchmark unavailable: ${(e as Error).message.split('\n')[0]}`);
  }
  // Issue 7: parsers of hostile input stay linear (they were quadratic: 160 ms for the link scan).
  for (const p of parsingRows()) {
    rows.push({ id: p.id, scenario: p.scenario, unit: 'ms', xchat: p.ms, python: null, ratio: null, goal: '≤ 10 ms', pass: p.ms <= 10 });
  }
  // Issue 9: a malformed stream never throws out of the parser (it used to for ~1 % of mutations).
  {
    const n = QUICK ? 100_000 : 1_000_000;
    log(`stream fuzz, ${n.toLocaleString('en')} mutated streams`);
    const f = fuzzStream(n, 9);
    rows.push({ id: 'stream.fuzz', scenario: `stream guard fuzz, ${n.toLocaleString('en')} mutated streams (${f.broken.toLocaleString('en')} refused): uncaught exceptions`, unit: 'count', xchat: f.uncaught.length, python: null, ratio: null, goal: '0', pass: f.uncaught.length === 0 });
  }
  if (!flag('--no-files')) {
    try {
      const bytes = QUICK ? 1 << 28 : 1 << 30;
      log(`file encrypt + decrypt of ${bytes >> 20} MiB (child process)`);
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(path.dirname(fileURLToPath(import.meta.url)), 'files.ts'), String(bytes)], { maxBuffer: 1 << 20 });
      const f = JSON.parse(stdout.trim().split('\n').at(-1)!) as { encryptGBps: number; decryptGBps: number; peakRssMB: number };
      rows.push(
        { id: 'files.enc', scenario: `file encrypt (AES-256-GCM stream), ${bytes >> 20} MiB`, unit: 'GB/s', xchat: f.encryptGBps, python: null, ratio: null, goal: '≥ 1 GB/s', pass: f.encryptGBps >= 1 },
        { id: 'files.dec', scenario: `file decrypt + tag check, ${bytes >> 20} MiB`, unit: 'GB/s', xchat: f.decryptGBps, python: null, ratio: null, goal: '≥ 1 GB/s', pass: f.decryptGBps >= 1 },
        { id: 'files.rss', scenario: 'file pipeline peak RSS (incl. ~80 MB tsx baseline)', unit: 'MB', xchat: f.peakRssMB, python: null, ratio: null, goal: '< 150 MB', pass: f.peakRssMB < 150 },
      );
    } catch (e) {
      log(`file benchmark unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // Issue 4: the whole MAM catch-up through a live Prosody (fetch + decrypt + store + emit). The
  // python column is W1's python-omemo decrypt rate: the same decrypt work, without the network.
  if (!flag('--no-mam')) {
    try {
      const n = QUICK ? 1_000 : 10_000;
      log(`MAM catch-up of ${n.toLocaleString('en')} OMEMO messages (live Prosody)`);
      const m = await mamCatchUp({ messages: n, log });
      const py = med('py.w1');
      rows.push(
        { id: 'mam.rate', scenario: `MAM catch-up, ${n.toLocaleString('en')} msgs: connect + fetch + decrypt + store (python: W1 decrypt only)`, unit: 'msgs/s', xchat: m.msgsPerSec, python: py, ratio: py === null ? null : m.msgsPerSec / py, goal: '—', pass: null },
        { id: 'mam.seconds', scenario: `MAM catch-up, ${n.toLocaleString('en')} msgs, wall time`, unit: 's', xchat: m.seconds, python: null, ratio: null, goal: '—', pass: null },
      );
    } catch (e) {
      log(`MAM benchmark unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
    // Issue 9, item 8: catch-up at the speed of the server. The built xchat from spawn to the last
    // message shown, against a bare slixmpp client paging the same archive (same page size) from
    // spawn to its last page without decrypting; Prosody keeps the archive in SQLite.
    try {
      const n = 2_000;
      log(`archive catch-up of ${n.toLocaleString('en')} OMEMO messages vs a bare slixmpp client (Prosody on SQL storage)`);
      const m = await mamCatchUp({ messages: n, storage: 'sql', clock: 'spawn', ...(PYTHON ? { python: PYTHON } : {}), log });
      const bare = m.bare?.msgsPerSec ?? null;
      const ratio = bare === null ? null : m.msgsPerSec / bare;
      rows.push({
        id: 'mam.vs-bare',
        scenario: `archive catch-up of ${n.toLocaleString('en')} OMEMO msgs, spawn → last shown (xchat online at ${m.onlineSeconds.toFixed(2)} s), Prosody SQL storage (python: bare slixmpp paging it, no decryption${m.bare ? `, logged in at ${m.bare.loginSeconds.toFixed(2)} s` : ''})`,
        unit: 'msgs/s',
        xchat: m.msgsPerSec,
        python: bare,
        ratio,
        goal: '≥ 1.0× its rate',
        pass: ratio === null ? null : ratio >= 1,
      });
    } catch (e) {
      log(`MAM vs bare client benchmark unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // Issue 9: login against a bare slixmpp client, and the time back online after a server restart.
  if (!flag('--no-connect')) {
    try {
      log('login and reconnect (live Prosody; built bin/xchat)');
      await promisify(execFile)(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'build.mjs')]);
      const c = await connectBench({ runs: QUICK ? 3 : 7, ...(PYTHON ? { python: PYTHON } : {}), log });
      rows.push(
        { id: 'login', scenario: 'login, spawn → online (xchat: + OMEMO identity and bundle; slixmpp: roster + presence)', unit: 's', xchat: c.xchatLoginS, python: c.slixmppLoginS, ratio: c.slixmppLoginS === null ? null : c.slixmppLoginS / c.xchatLoginS, goal: '≥ 1.0× (as fast)', pass: c.slixmppLoginS === null ? null : c.slixmppLoginS / c.xchatLoginS >= 1 },
        { id: 'reconnect', scenario: 'server restarted: back up → online again', unit: 's', xchat: c.reconnectS, python: null, ratio: null, goal: '≤ 10 s', pass: c.reconnectS <= 10 },
      );
    } catch (e) {
      log(`connect benchmark unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const cpus = os.cpus();
  const env = {
    node: process.version,
    cpu: `${cpus.length}× ${cpus[0]?.model.trim() ?? '?'}`,
    loadavg: [load0, os.loadavg()[0]].map((x) => Number(x.toFixed(2))),
    runs: RUNS,
    seconds: Math.round((Date.now() - started) / 1000),
    python: pyVersions ? Object.entries(pyVersions).map(([k, v]) => `${k} ${v}`).join(', ') : pyError ? `unavailable: ${pyError}` : 'off',
    sizes: SIZE,
    date: new Date().toISOString(),
  };
  if (JSON_OUT) {
    const samples = Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('warm.')));
    console.log(JSON.stringify({ env, rows, samples }, null, 2));
    return;
  }
  console.log(
    `xchat benchmarks — ${env.date.slice(0, 16).replace('T', ' ')}Z, node ${env.node}, ${env.cpu}, load ${env.loadavg.join(' → ')}, ` +
      `median of ${RUNS} run(s), ${env.seconds} s total\npython-omemo: ${env.python}\n`,
  );
  console.log(table(rows));
  console.log('\nratio > 1: xchat faster than python-omemo (same machine, same run). "info": goal shown for the non-default backend only.');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
