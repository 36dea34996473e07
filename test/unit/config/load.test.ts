import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { ConfigurationError } from '../../../src/core/errors.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function caught(promise: Promise<unknown>): Promise<ConfigurationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as ConfigurationError;
}

describe('loadConfig', () => {
  it('defaults to the local provider when there is no file and no variable', async () => {
    const config = await loadConfig({ cwd: dir, env: {} });

    expect(config).toEqual({ provider: 'local', parts: {}, providers: {} });
  });

  it('reads switchyard.config.json from the working directory', async () => {
    await writeFile(
      join(dir, 'switchyard.config.json'),
      JSON.stringify({
        provider: 'memory',
        providers: { memory: { namespace: 'a' } },
      }),
    );

    const config = await loadConfig({ cwd: dir, env: {} });

    expect(config.provider).toBe('memory');
    expect(config.providers.memory).toEqual({ namespace: 'a' });
  });

  it('reads a TypeScript configuration file through its default export', async () => {
    await writeFile(
      join(dir, 'switchyard.config.ts'),
      "const config: { provider: string } = { provider: 'memory' };\nexport default config;\n",
    );

    const config = await loadConfig({ cwd: dir, env: {} });

    expect(config.provider).toBe('memory');
  });

  it('lets the environment choose the provider of each part', async () => {
    const config = await loadConfig({
      cwd: dir,
      env: {
        SWITCHYARD_PROVIDER: 'memory',
        SWITCHYARD_KV_PROVIDER: 'local',
        SWITCHYARD_CHANNELS_PROVIDER: 'memory',
      },
    });

    expect(config.provider).toBe('memory');
    expect(config.parts).toEqual({ kv: 'local', channels: 'memory' });
  });

  it('maps provider option variables onto camel-cased options with typed values', async () => {
    const config = await loadConfig({
      cwd: dir,
      env: {
        SWITCHYARD_LOCAL_DATA_DIR: '/tmp/x',
        SWITCHYARD_LOCAL_MAX_PAYLOAD_BYTES: '2048',
        SWITCHYARD_MEMORY_NAMESPACE: 'ns',
      },
    });

    expect(config.providers.local).toEqual({
      dataDir: '/tmp/x',
      maxPayloadBytes: 2048,
    });
    expect(config.providers.memory).toEqual({ namespace: 'ns' });
  });

  it('lets variables override the file', async () => {
    await writeFile(
      join(dir, 'switchyard.config.json'),
      JSON.stringify({
        provider: 'local',
        providers: { local: { dataDir: 'a' } },
      }),
    );

    const config = await loadConfig({
      cwd: dir,
      env: { SWITCHYARD_PROVIDER: 'memory', SWITCHYARD_LOCAL_DATA_DIR: 'b' },
    });

    expect(config.provider).toBe('memory');
    expect(config.providers.local?.dataDir).toBe('b');
  });

  it('names the field and the value received when a setting has the wrong type', async () => {
    await writeFile(
      join(dir, 'switchyard.config.json'),
      JSON.stringify({ provider: 42 }),
    );

    const error = await caught(loadConfig({ cwd: dir, env: {} }));

    expect(error.field).toBe('provider');
    expect(error.value).toBe(42);
    expect(error.message).toContain('provider');
    expect(error.message).toContain('42');
  });

  it('names an unknown setting with its full path', async () => {
    const error = await caught(
      loadConfig({ cwd: dir, env: {}, config: { parts: { queues: 'local' } } }),
    );

    expect(error.field).toBe('parts.queues');
    expect(error.message).toContain('parts.queues');
  });

  it('says which file is not valid JSON', async () => {
    const file = join(dir, 'switchyard.config.json');
    await writeFile(file, '{ "provider": ');

    const error = await caught(loadConfig({ cwd: dir, env: {} }));

    expect(error.message).toContain(file);
    expect(error.message).toContain('not valid JSON');
  });

  it('refuses a configuration file named by SWITCHYARD_CONFIG that does not exist', async () => {
    const error = await caught(
      loadConfig({ cwd: dir, env: { SWITCHYARD_CONFIG: 'missing.json' } }),
    );

    expect(error.field).toBe('SWITCHYARD_CONFIG');
    expect(error.message).toContain('missing.json');
  });
});
