import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type NatsTestServer, startNatsServer } from '../nats/server.ts';
import { CliFixture, jsonLines, lines } from './fixture.ts';

const cli = new CliFixture();
afterEach(() => cli.release());

let nats: NatsTestServer;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(() => nats?.stop());

const PIPELINE_API = join(import.meta.dirname, '../../src/functions/index.ts');

/**
 * A pipeline whose producer publishes every 10 ms until the channels run
 * on nats, then 50 more, and whose check compares what the worker marked
 * as seen (in a local bucket) with what was published.
 */
async function steadyPipeline(): Promise<string> {
  const file = join(await cli.folder(), 'steady.ts');
  await writeFile(
    file,
    [
      `import { defineFunction, definePipeline, onChannel } from ${JSON.stringify(PIPELINE_API)};`,
      'const sleep = (ms) => new Promise((r) => setTimeout(r, ms));',
      'export default definePipeline({',
      "  name: 'steady',",
      "  channels: { jobs: { groups: ['workers'] } },",
      '  kv: { seen: {} },',
      '  functions: [defineFunction({',
      "    name: 'worker',",
      "    trigger: onChannel('jobs', { group: 'workers', guarantee: 'exactly-once' }),",
      "    handler: async (message, { switchyard }) => { await switchyard.kv('seen').put(String(message.data.n), 1); },",
      '  })],',
      "  producers: [{ name: 'feeder', run: async ({ switchyard }) => {",
      "    const jobs = switchyard.channel('jobs');",
      '    let n = 0; let after = 0;',
      "    while (after < 50) { await jobs.publish({ n: n++ }); if (switchyard.providerName('channels') === 'nats') after++; await sleep(10); }",
      "    await switchyard.kv('seen').put('published', n);",
      '  } }],',
      '  check: async (switchyard) => {',
      "    const seen = switchyard.kv('seen');",
      "    const published = (await seen.get('published'))?.value;",
      '    let count = 0;',
      "    for await (const key of seen.keys()) if (key !== 'published') count++;",
      "    return { ok: count === published, summary: count + ' seen of ' + published + ' published' };",
      '  },',
      '});',
      '',
    ].join('\n'),
  );
  return file;
}

async function socketReady(path: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      await access(path);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${path} did not appear within 30 s`);
}

describe('switch', () => {
  test('moves a running dev pipeline from local to nats with every message handled', async () => {
    const pipeline = await steadyPipeline();
    const dev = await cli.start([
      'dev',
      '--pipeline',
      pipeline,
      '--until-idle',
      '--json',
    ]);
    await socketReady(join(await cli.folder(), '.switchyard/dev.sock'));

    const switched = await cli.run([
      'switch',
      'nats',
      '--options',
      JSON.stringify({ servers: nats.url, streamPrefix: 'cli-' }),
      '--json',
    ]);
    const result = await dev.result;

    expect(switched.stderr).toBe('');
    expect(switched.code).toBe(0);
    expect(jsonLines(switched.stdout)).toEqual([
      expect.objectContaining({ from: 'local', to: 'nats', drained: true }),
    ]);
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({
      pipeline: 'steady',
      provider: 'nats',
      ended: 'idle',
      deadLettered: 0,
      check: { ok: true },
    });
  });

  test('dev --watch-config switches the channels when the configuration file moves them to nats', async () => {
    const pipeline = await steadyPipeline();
    const folder = await cli.folder();
    const config = join(folder, 'switchyard.config.json');
    await writeFile(config, JSON.stringify({ provider: 'local' }));
    const dev = await cli.start([
      'dev',
      '--pipeline',
      pipeline,
      '--until-idle',
      '--watch-config',
      '--json',
    ]);
    await socketReady(join(folder, '.switchyard/dev.sock'));
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    await writeFile(
      config,
      JSON.stringify({
        provider: 'local',
        parts: { channels: 'nats' },
        providers: { nats: { servers: nats.url, streamPrefix: 'watch-' } },
      }),
    );
    const result = await dev.result;

    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({
      pipeline: 'steady',
      provider: 'nats',
      ended: 'idle',
      check: { ok: true },
    });
  });

  test('without a running dev, it fails in one line naming the socket', async () => {
    const result = await cli.run(['switch', 'nats']);

    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(
        /^switchyard: no switchyard dev listens on \.switchyard\/dev\.sock/,
      ),
    ]);
  });
});
