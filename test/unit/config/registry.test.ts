import { describe, expect, it } from 'vitest';
import {
  loadProvider,
  providerNames,
  registerProvider,
} from '../../../src/config/registry.ts';
import { ConfigurationError } from '../../../src/core/errors.ts';
import type { ProviderFactory } from '../../../src/core/provider.ts';

describe('provider registry', () => {
  it('knows the built-in providers by name', () => {
    expect(providerNames()).toEqual(
      expect.arrayContaining(['memory', 'local']),
    );
  });

  it('refuses an unknown provider with the name received and the known ones', async () => {
    const error = await loadProvider('rabbit', 'parts').catch((e) => e);

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.field).toBe('parts');
    expect(error.value).toBe('rabbit');
    expect(error.message).toContain('"rabbit"');
    expect(error.message).toContain('memory');
  });

  it('loads a provider module only when it is selected', async () => {
    let loads = 0;
    const factory = (async () => {
      throw new Error('not started in this test');
    }) as ProviderFactory;
    registerProvider('counted', async () => {
      loads += 1;
      return factory;
    });

    expect(loads).toBe(0);
    const loaded = await loadProvider('counted');

    expect(loads).toBe(1);
    expect(loaded).toBe(factory);
  });
});
