/**
 * The deployment of the reference pipeline: its stack, and what each of
 * its functions uses besides its trigger.
 */
import { fileURLToPath } from 'node:url';
import type { Construct } from 'constructs';
import pipeline from '../../functions/pipeline.ts';
import {
  EVENTS_CHANNEL,
  INDEX_BUCKET,
  SNAPSHOT_BUCKET,
} from '../../functions/router-event.ts';
import {
  type FunctionDeployment,
  PipelineStack,
  type PipelineStackProps,
} from './pipeline-stack.ts';

/** The module whose default export is the reference pipeline. */
export const REFERENCE_MODULE = fileURLToPath(
  new URL('../../functions/pipeline.ts', import.meta.url),
);

/** The id of the reference stack. */
export const REFERENCE_STACK = 'SwitchyardKvRouter';

/**
 * What the reference functions use besides their trigger: the indexer
 * updates the index, and reads the newest snapshot when it starts on an
 * empty index; the snapshot function reads the index and the indexer
 * group's consumer (its ack floor, where a provider keeps one) and
 * writes and prunes snapshots; the stats function reads the index.
 */
export const REFERENCE_FUNCTIONS: Readonly<Record<string, FunctionDeployment>> =
  {
    indexer: {
      access: { writeKv: [INDEX_BUCKET], readObjects: [SNAPSHOT_BUCKET] },
    },
    snapshot: {
      access: {
        readKv: [INDEX_BUCKET],
        writeObjects: [SNAPSHOT_BUCKET],
        readChannels: [EVENTS_CHANNEL],
      },
    },
    stats: { access: { readKv: [INDEX_BUCKET] } },
  };

/**
 * The stack of the reference pipeline in `scope`.
 *
 * @example
 * ```ts
 * const stack = createReferenceStack(new App(), { prefix: 'dev-' });
 * ```
 */
export function createReferenceStack(
  scope: Construct,
  props: Partial<PipelineStackProps> = {},
): PipelineStack {
  return new PipelineStack(scope, REFERENCE_STACK, {
    pipeline,
    pipelineModule: REFERENCE_MODULE,
    functions: REFERENCE_FUNCTIONS,
    ...props,
  });
}
