/**
 * The claim check across a switch of transports: each transport put in
 * service is wrapped with its own limit, so a body the first provider
 * carries as it is travels as an object on the second, whose limit is
 * smaller; the objects stay on the client's objects provider.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/core/channel.ts';
import { createSwitchyard } from '../../src/core/client.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import { createMemoryProvider } from '../../src/providers/memory/index.ts';
import { eventually } from '../../src/testkit/helpers.ts';

const BUCKET = 'claims';

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function objectNames(client: Switchyard): Promise<string[]> {
  const names: string[] = [];
  for await (const info of client.objects(BUCKET).list('claim-check/')) {
    names.push(info.name);
  }
  return names;
}

describe('the claim check across a switch of transports', () => {
  it('claim checks a body against the limit of the transport it is sent to, not the one it was prepared for', async () => {
    const first = await createMemoryProvider({
      namespace: `first-${randomUUID()}`,
      maxPayloadBytes: 65_536,
    });
    const second = await createMemoryProvider({
      namespace: `second-${randomUUID()}`,
      maxPayloadBytes: 4096,
    });
    const client = createSwitchyard({
      provider: first,
      claimCheck: { bucket: BUCKET },
    });
    const channel = client.channel<Uint8Array>('scans', {
      codec: 'raw',
      groups: ['crew'],
    });
    const before = new Uint8Array(randomBytes(10_000));
    const after = new Uint8Array(randomBytes(10_000));

    const consumer = await channel.consumer({ group: 'crew' });
    // The one published before the switch is acknowledged at once, so
    // that the old transport drains; the other only once the bucket was
    // listed.
    const seen: Delivery<Uint8Array>[] = [];
    const consuming = eventually(
      async () => {
        for (const delivery of await consumer.fetch(10, { waitMs: 200 })) {
          seen.push(delivery);
          if (digest(delivery.message.data) === digest(before)) {
            await delivery.ack();
          }
        }
        return seen.length >= 2;
      },
      { timeoutMs: 20_000, message: 'both messages' },
    );

    await channel.publish(before);
    const storedBefore = await objectNames(client);
    const report = await client.switchTo(second);
    const receipt = await channel.publish(after);
    const storedAfter = await objectNames(client);
    await consuming;
    const later = seen.find((d) => d.message.id === receipt.id);
    await later?.ack();

    expect(report.to).toBe('memory');
    expect(storedBefore).toEqual([]);
    expect(storedAfter).toEqual([`claim-check/scans/${receipt.id}/payload`]);
    expect(seen.map((d) => digest(d.message.data)).sort()).toEqual(
      [digest(before), digest(after)].sort(),
    );
    expect(digest(later!.message.data)).toBe(digest(after));
    await eventually(async () => (await objectNames(client)).length === 0, {
      timeoutMs: 10_000,
      message: 'the object removed',
    });
    await consumer.close();
    await client.close();
    await second.close();
  });
});
