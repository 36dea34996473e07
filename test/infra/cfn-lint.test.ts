import { describe, expect, it } from 'vitest';
import { lintErrors } from './cfn-lint.ts';
import { synthesizeReference } from './synth.ts';

describe('the synthesized template', () => {
  it('passes cfn-lint with no errors', async () => {
    const { templateFile } = synthesizeReference({ prefix: 'dev-' });

    const errors = await lintErrors(templateFile);

    expect(errors).toEqual([]);
  });
});
