import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CliFixture, jsonLines, lines, REFERENCE_PIPELINE } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

const PIPELINE_API = join(import.meta.dirname, '../../src/functions/index.ts');

/** A pipeline module whose check fails, written in the working folder. */
async function failingPipeline(): Promise<string> {
  const file = join(await cli.folder(), 'failing.ts');
  await writeFile(
    file,
    [
      `import { defineFunction, definePipeline, onChannel } from ${JSON.stringify(PIPELINE_API)};`,
      'export default definePipeline({',
      "  name: 'failing',",
      '  channels: { jobs: {} },',
      "  functions: [defineFunction({ name: 'worker', trigger: onChannel('jobs', { group: 'workers' }), handler: () => {} })],",
      "  producers: [{ name: 'feeder', run: async ({ switchyard }) => { await switchyard.channel('jobs').publish({ n: 1 }); } }],",
      "  check: async () => ({ ok: false, summary: 'nothing adds up' }),",
      '});',
      '',
    ].join('\n'),
  );
  return file;
}

describe('dev', () => {
  test('--until-idle --json on a fresh data folder runs the reference pipeline to a passing check', async () => {
    const result = await cli.run([
      'dev',
      '--pipeline',
      REFERENCE_PIPELINE,
      '--until-idle',
      '--json',
      '--events',
      '200',
    ]);

    expect(result.code).toBe(0);
    const [summary, ...rest] = jsonLines(result.stdout);
    expect(rest).toEqual([]);
    expect(summary).toMatchObject({
      pipeline: 'kv-router',
      provider: 'local',
      ended: 'idle',
      deadLettered: 0,
      check: { ok: true },
    });
    expect(summary!.published).toBeGreaterThan(0);
    expect(summary!.functions).toHaveProperty('indexer');
  });

  test('a failing check prints the summary and exits 1 with one line on stderr', async () => {
    const pipeline = await failingPipeline();

    const result = await cli.run([
      'dev',
      '--pipeline',
      pipeline,
      '--until-idle',
      '--json',
    ]);

    expect(result.code).toBe(1);
    expect(jsonLines(result.stdout)[0]).toMatchObject({
      pipeline: 'failing',
      published: 1,
      delivered: 1,
      check: { ok: false, summary: 'nothing adds up' },
    });
    expect(lines(result.stderr)).toEqual([
      'switchyard: check failed: nothing adds up',
    ]);
  });

  test('Ctrl-C stops the pipeline gracefully and prints the summary', async () => {
    const dev = await cli.start([
      'dev',
      '--pipeline',
      REFERENCE_PIPELINE,
      '--events',
      '50',
    ]);
    await new Promise<void>((resolve) => {
      dev.process.stderr!.once('data', () => resolve());
    });

    const result = await dev.stop('SIGINT');

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^pipeline kv-router on local: /);
    expect(result.stdout).toMatch(/^check (passed|skipped): /m);
  });

  test('a module without a pipeline as default export fails in one line', async () => {
    const file = join(await cli.folder(), 'empty.ts');
    await writeFile(file, 'export const nothing = 1;\n');

    const result = await cli.run(['dev', '--pipeline', file]);

    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(
        /^switchyard: .*empty\.ts does not export a pipeline as default/,
      ),
    ]);
  });
});
