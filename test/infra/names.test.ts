import { describe, expect, it } from 'vitest';
import {
  bucketName,
  deadLetterQueueName,
  groupQueueName,
  tableName,
  topicName,
} from '../../infra/aws/names.ts';
import { ValidationError } from '../../src/core/errors.ts';

describe('the names of the CDK app', () => {
  it('put the prefix first and .fifo last on ordered channels', () => {
    expect(topicName('dev-', 'kv-events', true)).toBe('dev-kv-events.fifo');
    expect(groupQueueName('dev-', 'kv-events', 'indexer', true)).toBe(
      'dev-kv-events--indexer.fifo',
    );
    expect(deadLetterQueueName('', 'orders', 'billing', false)).toBe(
      'orders--billing-dlq',
    );
    expect(tableName('dev-', 'router-index')).toBe('dev-router-index');
    expect(bucketName('dev-', 'router-snapshots')).toBe('dev-router-snapshots');
  });

  it('refuse a queue name longer than SQS allows', () => {
    expect(() =>
      groupQueueName('dev-', 'c'.repeat(60), 'g'.repeat(20), false),
    ).toThrow(ValidationError);
  });
});
