import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FOLDER, sampleFiles } from '../../events/samples.ts';
import { generateEvents } from '../../functions/generator.ts';
import { RouterEventSchema } from '../../functions/router-event.ts';

const folder = join(import.meta.dirname, '..', '..', 'events', SAMPLE_FOLDER);

async function readSample(name: string): Promise<unknown> {
  return JSON.parse(await readFile(join(folder, name), 'utf8'));
}

describe('the sample events', () => {
  it('are the files the generator makes, no more and no fewer', async () => {
    const expected = sampleFiles();

    const names = (await readdir(folder)).filter((n) => n.endsWith('.json'));

    expect(names.sort()).toEqual(Object.keys(expected).sort());
    for (const name of names) {
      expect(await readSample(name), name).toEqual(expected[name]);
    }
  });

  it('are valid router events', async () => {
    for (const name of Object.keys(sampleFiles())) {
      const value = await readSample(name);
      const events = Array.isArray(value) ? value : [value];
      for (const event of events) {
        const result = RouterEventSchema.safeParse(event);
        expect(result.success, `${name}: ${result.error?.message}`).toBe(true);
      }
    }
  });
});

describe('the generator', () => {
  it('makes the same events from the same seed, and others from another', () => {
    const a = generateEvents({ seed: 5, count: 300, workers: 3 });
    const b = generateEvents({ seed: 5, count: 300, workers: 3 });
    const c = generateEvents({ seed: 6, count: 300, workers: 3 });

    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('makes valid events, numbered from 1 in order for each worker', () => {
    const events = generateEvents({ seed: 9, count: 2000, workers: 4 });
    const last = new Map<string, number>();

    for (const event of events) {
      expect(RouterEventSchema.safeParse(event).success).toBe(true);
      expect(event.eventId).toBe((last.get(event.workerId) ?? 0) + 1);
      last.set(event.workerId, event.eventId);
    }
    expect([...last.keys()].sort()).toEqual([
      'worker-1',
      'worker-2',
      'worker-3',
      'worker-4',
    ]);
  });

  it('makes stored, removed and cleared events, with blocks held by several workers', () => {
    const events = generateEvents({ seed: 1, count: 2000, workers: 4 });
    const holders = new Map<string, Set<string>>();
    for (const event of events) {
      for (const { hash } of event.stored?.blocks ?? []) {
        holders.set(hash, (holders.get(hash) ?? new Set()).add(event.workerId));
      }
    }

    expect(events.some((e) => e.stored)).toBe(true);
    expect(events.some((e) => e.removed)).toBe(true);
    expect(events.some((e) => e.cleared)).toBe(true);
    expect([...holders.values()].some((set) => set.size > 1)).toBe(true);
  });
});
