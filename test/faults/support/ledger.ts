/**
 * The bookkeeping of a fault test: a producer that publishes steadily and
 * re-sends what failed under the same id, the checks every case makes on
 * what was confirmed and what was handled (lost, repeated), and the
 * waits for every message to be done and for a group to drain.
 */
import { expect } from 'vitest';
import type { Switchyard } from '../../../src/core/switchyard.ts';
import { sleep } from '../../../src/delivery/sleep.ts';
import { eventually } from '../../../src/testkit/helpers.ts';

/** Options of {@link publishSteadily}. */
export interface SteadyPublishing {
  /** Messages to publish; `Infinity` publishes until `signal` aborts. */
  count: number;
  /** Id of message `n` (from 0). Default `m{n}`. */
  id?: (n: number) => string;
  /** Pause after each confirmed publish, in ms. Default 0. */
  periodMs?: number;
  /** Pause before a failed publish is sent again, in ms. Default 100. */
  retryMs?: number;
  /** Publishes under way at once, each on its own message. Default 1. */
  lanes?: number;
  /** Called once per message, when its publish resolved. */
  onConfirmed?: (id: string, n: number) => void;
  /** Called on every failed attempt, before it is sent again. */
  onFailed?: (id: string, error: unknown) => void;
  /**
   * Stops publishing: no new message is taken, and a failed one is not
   * sent again.
   */
  signal?: AbortSignal;
}

/**
 * Publishes messages 0 to `count - 1` with `publish`, each until it
 * resolves: a failed attempt is sent again under the same id, as a
 * producer that wants its message through does, so a transport that
 * stored it after all drops the re-send (dedup window) or delivers it
 * twice (at-least-once). Resolves when every message was confirmed or
 * `signal` aborted; rejects with what `onFailed` throws.
 *
 * @example
 * ```ts
 * await publishSteadily((id, n) => channel.publish({ n }, { id }), {
 *   count: 300,
 *   periodMs: 10,
 *   onConfirmed: (id) => confirmed.push(id),
 * });
 * ```
 */
export async function publishSteadily(
  publish: (id: string, n: number) => Promise<unknown>,
  options: SteadyPublishing,
): Promise<void> {
  const idOf = options.id ?? ((n: number) => `m${n}`);
  const retryMs = options.retryMs ?? 100;
  let next = 0;

  const lane = async (): Promise<void> => {
    while (next < options.count && !options.signal?.aborted) {
      const n = next++;
      const id = idOf(n);
      for (;;) {
        try {
          await publish(id, n);
          options.onConfirmed?.(id, n);
          break;
        } catch (error) {
          options.onFailed?.(id, error);
          if (options.signal?.aborted) return;
          await sleep(retryMs, options.signal);
        }
      }
      if (options.periodMs) await sleep(options.periodMs, options.signal);
    }
  };

  const lanes = Math.max(1, options.lanes ?? 1);
  await Promise.all(Array.from({ length: lanes }, lane));
}

/** How many times each id occurs in `ids`. */
export function tally(ids: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** The ids of `expected` that `seen` lacks, in the order expected. */
export function missing(
  expected: Iterable<string>,
  seen: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): string[] {
  return [...expected].filter((id) => !seen.has(id));
}

/** The ids counted more than once, with their counts. */
export function repeated(
  counts: ReadonlyMap<string, number>,
): [string, number][] {
  return [...counts].filter(([, count]) => count > 1);
}

/** Options of {@link untilAllDone}. */
export interface UntilAllDone {
  /** How long to wait, in ms. */
  timeoutMs: number;
  /** Pause between checks, in ms. Default that of `eventually`. */
  intervalMs?: number;
  /**
   * What the ids are and what they wait for, in the error. Default
   * `messages not done yet`.
   */
  what?: string;
  /** More for the error, such as what a child wrote on stderr. */
  detail?: () => string;
}

/**
 * Waits until every id of `expected` is among `done()`, both read again
 * at each check. Rejects after `timeoutMs` with how many are left and the
 * first five of them.
 */
export async function untilAllDone(
  expected: readonly string[],
  done: () => Iterable<string>,
  options: UntilAllDone,
): Promise<void> {
  const what = options.what ?? 'messages not done yet';

  await eventually(
    () => {
      const seen = done();
      const left = missing(
        expected,
        seen instanceof Set ? seen : new Set(seen),
      );
      if (left.length > 0) {
        const detail =
          options.detail === undefined ? '' : `; ${options.detail()}`;
        throw new Error(
          `${left.length} of ${expected.length} ${what}, such as ${left.slice(0, 5).join(', ')}${detail}`,
        );
      }
    },
    {
      timeoutMs: options.timeoutMs,
      ...(options.intervalMs !== undefined && {
        intervalMs: options.intervalMs,
      }),
    },
  );
}

/**
 * Waits until `group` of `channel` has nothing left to deliver and
 * nothing in flight, as `client` reports it: every delivery was
 * acknowledged. Rejects after `timeoutMs`.
 */
export async function untilGroupDrained(
  client: Switchyard,
  channel: string,
  group: string,
  timeoutMs: number,
): Promise<void> {
  await eventually(
    async () => {
      const stats = await client.admin.stats(channel);
      expect(stats.consumers[group]).toEqual({ lag: 0, inFlight: 0 });
    },
    { timeoutMs, message: 'the group drained' },
  );
}
