/**
 * The snapshot function: on a schedule, writes the index to the object
 * store and purges the events it covers.
 */

import { defineFunction } from '../src/functions/define-function.ts';
import { every } from '../src/functions/triggers.ts';
import type {
  ScheduleEvent,
  SwitchyardFunction,
} from '../src/functions/types.ts';
import { takeSnapshot } from './snapshots.ts';

/**
 * Runs {@link takeSnapshot} every `everyMs`, and once more when the
 * pipeline stops, so that a router started later finds a snapshot that
 * covers everything the indexer group acknowledged.
 */
export function createSnapshotter(options: {
  everyMs: number;
  keep: number;
}): SwitchyardFunction<ScheduleEvent> {
  return defineFunction({
    name: 'snapshot',
    description: 'writes the router index to the object store',
    trigger: every(options.everyMs),
    handler: async (_event: ScheduleEvent, context) => {
      await takeSnapshot(context.switchyard, {
        keep: options.keep,
        logger: context.logger,
      });
    },
    onStop: async (context) => {
      await takeSnapshot(context.switchyard, {
        keep: options.keep,
        logger: context.logger,
      });
    },
  });
}
