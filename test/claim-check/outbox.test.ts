/**
 * The claim check behind the producer outbox: a large body confirmed by
 * the outbox is claim checked when the relay hands it to the transport.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSwitchyard } from '../../src/core/client.ts';
import { createMemoryProvider } from '../../src/providers/memory/index.ts';
import { eventually } from '../../src/testkit/helpers.ts';

const folder = mkdtempSync(join(tmpdir(), 'switchyard-claim-outbox-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('the claim check behind the outbox', () => {
  it('carries a large body the outbox confirmed to the group intact, then removes its object', async () => {
    const provider = await createMemoryProvider({
      namespace: `outbox-${randomUUID()}`,
      maxPayloadBytes: 4096,
    });
    const client = createSwitchyard({
      provider,
      claimCheck: { bucket: 'claims' },
      outbox: { path: join(folder, 'outbox.db') },
    });
    const channel = client.channel<Uint8Array>('scans', {
      codec: 'raw',
      groups: ['crew'],
      confirm: 'outbox',
    });
    const bucket = client.objects('claims');
    const data = new Uint8Array(randomBytes(50_000));

    const receipt = await channel.publish(data);
    const consumer = await channel.consumer({ group: 'crew' });
    const [delivery] = await eventually(
      async () => {
        const got = await consumer.fetch(1, { waitMs: 200 });
        return got.length > 0 && got;
      },
      { timeoutMs: 10_000, message: 'the delivery' },
    );
    const stored = await bucket.head(`claim-check/scans/${receipt.id}/payload`);
    await delivery!.ack();

    expect(receipt.confirmedBy).toBe('outbox');
    expect(stored?.size).toBe(data.byteLength);
    expect(digest(delivery!.message.data)).toBe(digest(data));
    expect(await bucket.head(`claim-check/scans/${receipt.id}/payload`)).toBe(
      undefined,
    );
    await consumer.close();
    await client.close();
  });
});
