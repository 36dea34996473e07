/**
 * The claim check's settings: in the configuration file, in the
 * environment, and as `createSwitchyard` checks them.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigurationError } from '../../src/core/errors.ts';
import {
  DEFAULT_CLAIM_CHECK_MAX_BYTES,
  resolveClaimCheck,
} from '../../src/delivery/claim-check-options.ts';

describe('the claimCheck section of the configuration', () => {
  it('is read from the file and completed from the environment', async () => {
    const config = await loadConfig({
      config: { provider: 'memory', claimCheck: { bucket: 'claims' } },
      env: {
        SWITCHYARD_CLAIM_CHECK_PREFIX: 'large/',
        SWITCHYARD_CLAIM_CHECK_MAX_BYTES: '5000000',
      },
    });

    expect(config.claimCheck).toEqual({
      bucket: 'claims',
      prefix: 'large/',
      maxBytes: 5_000_000,
    });
  });

  it('comes from the environment alone', async () => {
    const config = await loadConfig({
      config: {},
      env: { SWITCHYARD_CLAIM_CHECK_BUCKET: 'from-env' },
    });

    expect(config.claimCheck).toEqual({ bucket: 'from-env' });
  });

  it('is absent when neither gives one', async () => {
    const config = await loadConfig({ config: {}, env: {} });

    expect(config.claimCheck).toBeUndefined();
  });

  it('refuses a setting it does not know, naming the known ones', async () => {
    const error = await loadConfig({
      config: { claimCheck: { bucket: 'claims', ttl: 3 } },
      env: {},
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('claimCheck.ttl');
    expect((error as Error).message).toContain('bucket, prefix, maxBytes');
  });

  it('refuses a size that is not a positive integer, with the value', async () => {
    const error = await loadConfig({
      config: { claimCheck: { bucket: 'claims' } },
      env: { SWITCHYARD_CLAIM_CHECK_MAX_BYTES: 'lots' },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('claimCheck.maxBytes');
    expect((error as Error).message).toContain('"lots"');
  });

  it('refuses a prefix from the environment without a bucket', async () => {
    const error = await loadConfig({
      config: {},
      env: { SWITCHYARD_CLAIM_CHECK_PREFIX: 'x/' },
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('claimCheck.bucket');
  });
});

describe('resolveClaimCheck', () => {
  it('applies the documented defaults', () => {
    expect(resolveClaimCheck({ bucket: 'claims' })).toEqual({
      bucket: 'claims',
      prefix: 'claim-check/',
      maxBytes: DEFAULT_CLAIM_CHECK_MAX_BYTES,
    });
    expect(DEFAULT_CLAIM_CHECK_MAX_BYTES).toBe(32 * 1024 * 1024);
  });

  it.each([
    [{ bucket: 'No' }, 'claimCheck.bucket', '"No"'],
    [
      { bucket: 'claims', prefix: 'no-slash' },
      'claimCheck.prefix',
      '"no-slash"',
    ],
    [{ bucket: 'claims', prefix: 'a//' }, 'claimCheck.prefix', '"a//"'],
    [{ bucket: 'claims', maxBytes: 0 }, 'claimCheck.maxBytes', '0'],
    [{ bucket: 'claims', maxBytes: 1.5 }, 'claimCheck.maxBytes', '1.5'],
    [{ bucket: 'claims', size: 1 }, 'claimCheck.size', '1'],
  ])('refuses %j naming %s and the value', (setting, field, shown) => {
    let caught: unknown;
    try {
      resolveClaimCheck(setting);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as ConfigurationError).field).toBe(field);
    expect((caught as Error).message).toContain(`got ${shown}`);
  });
});
