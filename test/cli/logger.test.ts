import { describe, expect, test } from 'vitest';
import { createStderrLogger } from '../../src/cli/logger.ts';

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const written: string[] = [];
  const logger = createStderrLogger({
    ...(level !== undefined && { level }),
    write: (line) => written.push(line),
  });
  return { logger, written };
}

describe('the stderr logger', () => {
  test('drops entries below its level, warn by default', () => {
    const { logger, written } = capture();

    logger.debug('per message');
    logger.info('started');
    logger.warn('misconfigured');
    logger.error('dead-lettered');

    expect(written).toEqual(['warn misconfigured', 'error dead-lettered']);
  });

  test('writes fields as key=value, quoting text with spaces', () => {
    const { logger, written } = capture('debug');

    logger.debug('delivery', {
      channel: 'orders',
      attempt: 2,
      reason: 'bad hash',
      error: new TypeError('no block'),
      groups: ['a', 'b'],
      skipped: undefined,
    });

    expect(written).toEqual([
      'debug delivery channel=orders attempt=2 reason="bad hash" error="no block" groups=["a","b"]',
    ]);
  });

  test('a child adds its fields before those of each entry', () => {
    const { logger, written } = capture('info');

    logger
      .child({ pipeline: 'kv-router' })
      .child({ function: 'indexer' })
      .info('started', { group: 'indexer' });

    expect(written).toEqual([
      'info started pipeline=kv-router function=indexer group=indexer',
    ]);
  });
});
