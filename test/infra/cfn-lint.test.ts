import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { synthesizeReference } from './synth.ts';

const run = promisify(execFile);

/** One finding of cfn-lint, as its JSON output gives it. */
interface LintFinding {
  Level: 'Error' | 'Warning' | 'Informational';
  Rule: { Id: string };
  Message: string;
}

/**
 * Runs cfn-lint on `file`. It exits with a code whose bits say which
 * levels it found (2 errors, 4 warnings, 8 informational), so a non-zero
 * exit with JSON on stdout is a result, not a failure.
 */
async function lint(file: string): Promise<LintFinding[]> {
  try {
    const { stdout } = await run('cfn-lint', ['--format', 'json', file]);
    return stdout.trim() === '' ? [] : (JSON.parse(stdout) as LintFinding[]);
  } catch (error) {
    const { stdout, code } = error as { stdout?: string; code?: unknown };
    if (typeof code !== 'number' || !stdout) throw error;
    return JSON.parse(stdout) as LintFinding[];
  }
}

describe('the synthesized template', () => {
  it('passes cfn-lint with no errors', async () => {
    const { templateFile } = synthesizeReference({ prefix: 'dev-' });

    const findings = await lint(templateFile);

    const errors = findings
      .filter((f) => f.Level === 'Error')
      .map((f) => `${f.Rule.Id}: ${f.Message}`);
    expect(errors).toEqual([]);
  });
});
