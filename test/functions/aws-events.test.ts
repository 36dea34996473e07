import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleEvents } from '../../events/aws/samples.ts';
import { decodeStructured } from '../../src/core/envelope.ts';

const folder = join(import.meta.dirname, '..', '..', 'events', 'aws');

describe('the sample Lambda events', () => {
  it('are the files the factories make, no more and no fewer', async () => {
    const expected = sampleEvents();

    const names = (await readdir(folder)).filter((n) => n.endsWith('.json'));

    expect(names.sort()).toEqual(Object.keys(expected).sort());
    for (const name of names) {
      const text = await readFile(join(folder, name), 'utf8');
      expect(JSON.parse(text), name).toEqual(
        JSON.parse(JSON.stringify(expected[name])),
      );
    }
  });

  it('carry Switchyard envelopes of router events on kv-events', async () => {
    const text = await readFile(join(folder, 'sqs-standard.json'), 'utf8');
    const { Records } = JSON.parse(text) as { Records: { body: string }[] };

    const wire = decodeStructured(new TextEncoder().encode(Records[0]!.body));

    expect(wire).toMatchObject({ id: 'sample-1-1', channel: 'kv-events' });
    expect(JSON.parse(new TextDecoder().decode(wire.body))).toMatchObject({
      workerId: 'sample-1',
      eventId: 1,
    });
  });
});
