import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect } from '../../../src/config/connect.ts';
import { ConfigurationError } from '../../../src/core/errors.ts';

function namespace(): string {
  return `connect-${randomUUID()}`;
}

describe('connect', () => {
  it('starts the configured provider and returns a working client', async () => {
    const sy = await connect({
      env: {},
      config: {
        provider: 'memory',
        providers: { memory: { namespace: namespace() } },
      },
    });

    await sy.kv<number>('counters').put('a', 1);
    const entry = await sy.kv<number>('counters').get('a');
    await sy.close();

    expect(entry?.value).toBe(1);
    expect(sy.providerName('channels')).toBe('memory');
  });

  it('prefixes a provider option error with the path of the option', async () => {
    const error = await connect({
      env: {},
      config: {
        provider: 'memory',
        providers: { memory: { maxPayloadBytes: 'big' } },
      },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(
      'providers.memory.maxPayloadBytes',
    );
    expect((error as ConfigurationError).value).toBe('big');
    expect((error as ConfigurationError).message).toContain('"big"');
  });

  it('refuses an unknown provider before starting anything', async () => {
    const error = await connect({
      env: { SWITCHYARD_KV_PROVIDER: 'nosuch' },
      config: { provider: 'memory' },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('parts');
    expect((error as ConfigurationError).message).toContain('"nosuch"');
  });

  it('gives a part its own provider', async () => {
    const kvSpace = namespace();
    const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-connect-'));
    const sy = await connect({
      env: {},
      config: {
        provider: 'local',
        parts: { kv: 'memory' },
        providers: {
          memory: { namespace: kvSpace },
          local: { dataDir },
        },
      },
    });

    const kvProvider = sy.providerName('kv');
    const channelProvider = sy.providerName('channels');
    await sy.close();
    await rm(dataDir, { recursive: true, force: true });

    expect(kvProvider).toBe('memory');
    expect(channelProvider).toBe('local');
  });
});
