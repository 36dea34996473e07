import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/core/errors.ts';
import type { KvStore, Provider } from '../../src/core/provider.ts';
import { embeddedProviders } from './providers.ts';

const KEY = 'worker.log';
const utf8 = new TextEncoder();
const text = new TextDecoder();

/** How many appends each writer makes, one writer per entry. */
const writers = fc.array(fc.integer({ min: 1, max: 4 }), {
  minLength: 2,
  maxLength: 4,
});

const providers = embeddedProviders('kv-cas');

describe.each(providers)(
  'compare-and-swap on the $name provider',
  ({ open }) => {
    let provider: Provider;
    let remove: () => Promise<void>;
    let buckets = 0;

    const openBucket = (): Promise<KvStore> => {
      buckets += 1;
      return provider.kv!.open(`appends-${buckets}`, { create: true });
    };

    beforeAll(async () => {
      ({ provider, remove } = await open());
    });

    afterAll(async () => {
      await provider.close();
      await remove();
    });

    it('keeps every acknowledged append exactly once', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          writers,
          fc.boolean(),
          async (s, counts, seeded) => {
            const store = await openBucket();
            if (seeded) await store.put(KEY, encode([]));
            const acknowledged: Write[] = [];

            const done = Promise.all(
              counts.map((count, writer) =>
                appendAll(s, store, acknowledged, `w${writer}`, count),
              ),
            );
            await s.waitFor(done);

            const final = await store.get(KEY);
            const entries = decode(final!.value);
            expect([...entries].sort()).toEqual(
              acknowledged.map((write) => write.entry).sort(),
            );
            expect(entries).toHaveLength(counts.reduce((a, b) => a + b, 0));
            for (const [writer, count] of counts.entries()) {
              expect(
                entries.filter((e) => e.startsWith(`w${writer}:`)),
              ).toEqual(
                Array.from({ length: count }, (_, i) => `w${writer}:${i}`),
              );
            }
            const revisions = acknowledged.map((write) => write.revision);
            expect(new Set(revisions).size).toBe(revisions.length);
            expect(revisions).toContain(final!.revision);
          },
        ),
        { numRuns: 500 },
      );
    });
  },
);

/** A write the bucket acknowledged: the entry it appended and its revision. */
interface Write {
  entry: string;
  revision: string;
}

/**
 * Appends `count` entries of `writer` to the list under {@link KEY}, each
 * by reading the list and writing it back conditionally, again after a
 * conflict. Every call resolves when the scheduler says.
 */
async function appendAll(
  s: fc.Scheduler,
  store: KvStore,
  acknowledged: Write[],
  writer: string,
  count: number,
): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    const entry = `${writer}:${index}`;
    for (;;) {
      const current = await s.schedule(store.get(KEY), `${writer} get`);
      const value = encode([...decode(current?.value), entry]);
      const write =
        current === undefined
          ? store.create(KEY, value)
          : store.update(KEY, value, current.revision);
      const revision = await s.schedule(
        write.catch((error: unknown) => {
          if (error instanceof ConflictError) return undefined;
          throw error;
        }),
        `${writer} write ${entry}`,
      );
      if (revision !== undefined) {
        acknowledged.push({ entry, revision });
        break;
      }
    }
  }
}

function encode(entries: readonly string[]): Uint8Array {
  return utf8.encode(JSON.stringify(entries));
}

function decode(value: Uint8Array | undefined): string[] {
  return value === undefined
    ? []
    : (JSON.parse(text.decode(value)) as string[]);
}
