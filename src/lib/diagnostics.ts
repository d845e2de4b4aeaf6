// The diagnostics sink: every error that is caught and survived is reported here, never dropped.
// The composition root decides where it goes (the profile's xchat.log, stderr with --debug); until
// then the last entries are kept in memory, so nothing reported early is lost.

export type DiagnosticLevel = 'error' | 'warn' | 'info';

export interface DiagnosticEntry {
  at: string;
  level: DiagnosticLevel;
  /** What was being done, e.g. "session: fetch own device list". */
  where: string;
  message: string;
  stack?: string;
}

export type DiagnosticSink = (entry: DiagnosticEntry) => void;

const RECENT_KEPT = 200;
const sinks = new Set<DiagnosticSink>();
const recent: DiagnosticEntry[] = [];

/** Adds a destination; returns its removal. Entries kept so far are replayed to it. */
export function addDiagnosticSink(sink: DiagnosticSink, opts: { replay?: boolean } = {}): () => void {
  if (opts.replay) for (const e of recent) deliver(sink, e);
  sinks.add(sink);
  return () => sinks.delete(sink);
}

/** Reports an error that was caught and survived. Never throws. */
export function reportCaught(where: string, error: unknown, level: DiagnosticLevel = 'error'): void {
  const entry: DiagnosticEntry = {
    at: new Date().toISOString(),
    level,
    where,
    message: error instanceof Error ? error.message : String(error),
    ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
  };
  recent.push(entry);
  if (recent.length > RECENT_KEPT) recent.shift();
  for (const s of sinks) deliver(s, entry);
}

/** `.catch(logged('what'))`: the promise settles with undefined, the error goes to diagnostics. */
export function logged(where: string, level: DiagnosticLevel = 'warn'): (error: unknown) => undefined {
  return (error) => {
    reportCaught(where, error, level);
    return undefined;
  };
}

/**
 * For a promise whose failure is delivered elsewhere (to the caller that awaits it): the returned
 * promise only orders work after it and never rejects, so it cannot become an unhandled rejection.
 */
export function settled(p: Promise<unknown>): Promise<void> {
  return p.then(
    () => undefined,
    () => undefined,
  );
}

/** The entries reported lately, oldest first (tests, a future /diagnostics command). */
export function recentDiagnostics(): readonly DiagnosticEntry[] {
  return recent;
}

/** One line per entry, as the log file and --debug show it. */
export function formatDiagnostic(e: DiagnosticEntry): string {
  return `${e.at} ${e.level.toUpperCase()} [${e.where}] ${e.message.replace(/\s*\n\s*/g, ' ')}`;
}

function deliver(sink: DiagnosticSink, entry: DiagnosticEntry): void {
  try {
    sink(entry);
  } catch (e) {
    // A sink that fails (disk full) must not take the program with it; the last resort is stderr.
    process.stderr.write(`xchat: diagnostics sink failed (${e instanceof Error ? e.message : String(e)}): ${formatDiagnostic(entry)}\n`);
  }
}
