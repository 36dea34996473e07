import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, loadConfig, parseConfig } from '../../src/config/index.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import { OutboxFixture } from './outbox-fixtures.ts';

const files = new OutboxFixture();
afterEach(() => files.release());

describe('the outbox section of the configuration', () => {
  it('is read from the file with its settings', () => {
    const config = parseConfig({
      outbox: {
        path: 'data/outbox.db',
        batchSize: 50,
        closeTimeoutMs: 2000,
        backoff: { maxDelayMs: 2000 },
      },
    });

    expect(config.outbox).toEqual({
      path: 'data/outbox.db',
      batchSize: 50,
      closeTimeoutMs: 2000,
      backoff: { maxDelayMs: 2000 },
    });
  });

  it('is absent by default', () => {
    expect(parseConfig({}).outbox).toBeUndefined();
  });

  it('refuses an unknown setting, listing the known ones', () => {
    const refuse = () => parseConfig({ outbox: { dir: 'x' } }, 'file.json');

    expect(refuse).toThrow(ConfigurationError);
    expect(refuse).toThrow(
      'file.json: outbox.dir is not a known setting (known here: path, batchSize, concurrency, leaseMs, pollIntervalMs, synchronous, closeTimeoutMs, backoff)',
    );
  });

  it('refuses a bad value, naming the field and the value', () => {
    expect(() => parseConfig({ outbox: { synchronous: 'off' } })).toThrow(
      /outbox\.synchronous .*got "off"/,
    );
  });

  it('takes SWITCHYARD_OUTBOX_ variables over the file', async () => {
    const config = await loadConfig({
      config: { outbox: { path: 'file.db', batchSize: 10 } },
      env: {
        SWITCHYARD_OUTBOX_PATH: '2024',
        SWITCHYARD_OUTBOX_CLOSE_TIMEOUT_MS: '1500',
        SWITCHYARD_OUTBOX_SYNCHRONOUS: 'normal',
      },
    });

    expect(config.outbox).toEqual({
      path: '2024',
      batchSize: 10,
      closeTimeoutMs: 1500,
      synchronous: 'normal',
    });
  });

  it('refuses an unknown SWITCHYARD_OUTBOX_ variable', async () => {
    await expect(
      loadConfig({ config: {}, env: { SWITCHYARD_OUTBOX_FOLDER: 'x' } }),
    ).rejects.toThrow(/environment: outbox\.folder is not a known setting/);
  });
});

describe('connect', () => {
  it('gives the client the outbox the configuration sets', async () => {
    const path = await files.path();
    const sy = await connect({
      env: {},
      config: {
        provider: 'memory',
        providers: { memory: { namespace: `outbox-${randomUUID()}` } },
        outbox: { path },
      },
    });

    const receipt = await sy
      .channel('orders', { confirm: 'outbox' })
      .publish({ n: 1 });
    const drained = await sy.outbox.drained({ timeoutMs: 5_000 });
    await sy.close();

    expect(sy.outbox.path).toBe(path);
    expect(receipt.confirmedBy).toBe('outbox');
    expect(drained).toBe(true);
  });
});
