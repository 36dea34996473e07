// Prints the test totals of a vitest JSON report as one closing line and
// fails when any test was skipped, marked todo, or failed.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests;
const failed = report.numFailedTests;
const skipped = report.numPendingTests + report.numTodoTests;

for (const suite of report.testResults) {
  for (const test of suite.assertionResults) {
    if (test.status !== 'passed') {
      console.log(`${test.status}: ${test.fullName} (${suite.name})`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || skipped > 0 || passed === 0 || !report.success) {
  process.exit(1);
}
