// Writes one timestamped line per test file and test case as they are queued, start and end, to
// the file named by XCHAT_TEST_PROGRESS. The default reporter prints a file only when it is done,
// so a run that stops making progress would not say where it is stuck; scripts/run-tests.mjs
// reads this file to report a stalled run and to rerun only the files that did not finish.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, TestCase, TestModule, TestSpecification } from 'vitest/node';

const file = process.env.XCHAT_TEST_PROGRESS;

function log(line: string): void {
  if (file) appendFileSync(file, `${new Date().toISOString().slice(11, 23)} ${line}\n`);
}

const rel = (moduleId: string): string => path.relative(process.cwd(), moduleId);

export default class ProgressReporter implements Reporter {
  onTestRunStart(specs: ReadonlyArray<TestSpecification>): void {
    for (const s of specs) log(`plan ${rel(s.moduleId)}`);
  }
  onTestModuleQueued(m: TestModule): void {
    log(`queued ${rel(m.moduleId)}`);
  }
  onTestModuleStart(m: TestModule): void {
    log(`start ${rel(m.moduleId)}`);
  }
  onTestModuleEnd(m: TestModule): void {
    log(`end ${rel(m.moduleId)} ${m.state()}`);
  }
  onTestCaseReady(t: TestCase): void {
    log(`  test-start ${rel(t.module.moduleId)} › ${t.fullName}`);
  }
  onTestCaseResult(t: TestCase): void {
    log(`  test-${t.result().state} ${rel(t.module.moduleId)} › ${t.fullName}`);
  }
}
