import { describe, expect, it } from 'vitest';
import * as infra from '../../infra/aws/names.ts';
import * as provider from '../../src/providers/aws/names.ts';

const CASES = [
  { prefix: '', channel: 'kv-events', group: 'indexer', ordered: true },
  { prefix: 'dev-', channel: 'orders', group: 'billing', ordered: false },
];

describe('the names of the CDK app', () => {
  it('are the ones the aws provider opens at run time', () => {
    for (const { prefix, channel, group, ordered } of CASES) {
      expect(infra.topicName(prefix, channel, ordered)).toBe(
        provider.topicName(prefix, channel, ordered),
      );
      expect(infra.groupQueueName(prefix, channel, group, ordered)).toBe(
        provider.groupQueueName(prefix, channel, group, ordered),
      );
      expect(infra.deadLetterQueueName(prefix, channel, group, ordered)).toBe(
        provider.deadLetterQueueName(prefix, channel, group, ordered),
      );
    }
  });

  it('refuse a queue name longer than SQS allows', () => {
    expect(() =>
      infra.groupQueueName('dev-', 'c'.repeat(60), 'g'.repeat(20), false),
    ).toThrow(/SQS allows at most 80/);
  });
});
