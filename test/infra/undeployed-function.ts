/**
 * A function of the reference pipeline that the stack does not deploy,
 * made ready to run as if it did: its Lambda entry written and bundled
 * with the stack's bundling options, described with the handler,
 * runtime, memory and environment of a function the stack deploys, and
 * the function's own timeout.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import pipeline from '../../functions/pipeline.ts';
import { esbuildOptions } from '../../infra/aws/bundling.ts';
import { writeEntry } from '../../infra/aws/entry.ts';
import { lambdaName } from '../../infra/aws/names.ts';
import { DEFAULT_TIMEOUT_MS } from '../../infra/aws/pipeline-function.ts';
import { REFERENCE_MODULE } from '../../infra/aws/reference.ts';
import type { DeployedFunction } from './deploy.ts';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

const ADAPTER = join(REPOSITORY, 'src/functions/aws/index.ts');

/** A bundled function and the folder to remove once it has run. */
export interface UndeployedFunction {
  fn: DeployedFunction;
  remove(): void;
}

/**
 * Bundles reference function `name` as a deployed function `like` of
 * the same stack is bundled. Throws when the pipeline has no such
 * function.
 *
 * @example
 * ```ts
 * const { fn, remove } = await bundleUndeployed('snapshot', deployed.functions.indexer);
 * ```
 */
export async function bundleUndeployed(
  name: string,
  like: DeployedFunction,
): Promise<UndeployedFunction> {
  const defined = pipeline.functions.find((f) => f.name === name);
  if (defined === undefined) {
    throw new Error(`pipeline ${pipeline.name} has no function ${name}`);
  }
  const prefix = like.environment.SWITCHYARD_AWS_PREFIX ?? '';
  const parent = join(REPOSITORY, 'cdk.out');
  mkdirSync(parent, { recursive: true });
  const folder = mkdtempSync(join(parent, 'undeployed-'));

  const entry = writeEntry({
    folder: join(folder, 'entries'),
    pipelineModule: REFERENCE_MODULE,
    adapterModule: ADAPTER,
    pipeline: pipeline.name,
    name,
  });
  const code = join(folder, 'code');
  await build({
    ...esbuildOptions(entry, join(code, 'index.mjs')),
    logLevel: 'silent',
  });

  const { eventSource: _, ...deployedLike } = like;
  return {
    fn: {
      ...deployedLike,
      name,
      functionName: lambdaName(prefix, pipeline.name, name),
      timeoutSeconds: Math.ceil(
        (defined.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000,
      ),
      code,
    },
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}
