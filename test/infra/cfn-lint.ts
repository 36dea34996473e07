/**
 * cfn-lint on a synthesized template, for the infra tests: its findings
 * as its JSON output gives them, and the errors among them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One finding of cfn-lint, as its JSON output gives it. */
export interface LintFinding {
  Level: 'Error' | 'Warning' | 'Informational';
  Rule: { Id: string };
  Message: string;
}

/**
 * Runs cfn-lint on the template `file`. It exits with a code whose bits
 * say which levels it found (2 errors, 4 warnings, 8 informational), so
 * a non-zero exit with JSON on stdout is a result, not a failure.
 *
 * @throws the error of the run when cfn-lint could not be run or wrote
 *   no findings.
 */
export async function lint(file: string): Promise<LintFinding[]> {
  try {
    const { stdout } = await run('cfn-lint', ['--format', 'json', file]);
    return stdout.trim() === '' ? [] : (JSON.parse(stdout) as LintFinding[]);
  } catch (error) {
    const { stdout, code } = error as { stdout?: string; code?: unknown };
    if (typeof code !== 'number' || !stdout) throw error;
    return JSON.parse(stdout) as LintFinding[];
  }
}

/** The errors cfn-lint finds in `file`, each as `{rule id}: {message}`. */
export async function lintErrors(file: string): Promise<string[]> {
  const findings = await lint(file);

  return findings
    .filter((f) => f.Level === 'Error')
    .map((f) => `${f.Rule.Id}: ${f.Message}`);
}
