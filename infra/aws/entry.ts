/**
 * The Lambda entry module of a pipeline function, written at synth
 * time: it imports the pipeline, finds the function by name and exports
 * the handler the Lambda adapter makes of it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** What {@link writeEntry} needs. */
export interface EntryOptions {
  /** Folder the entry module is written to. */
  readonly folder: string;

  /** The module whose default export is the pipeline. */
  readonly pipelineModule: string;

  /** The module that exports `toLambda`. */
  readonly adapterModule: string;

  /** The pipeline's name, for the error a missing function raises. */
  readonly pipeline: string;

  /** The function's name. */
  readonly name: string;

  /**
   * Hand the adapter an SQS client, so that a retry's delay becomes the
   * message's visibility and a handler can extend its lease.
   *
   * @default false
   */
  readonly sqs?: boolean;
}

/**
 * Writes `{folder}/{name}.ts` and returns its path. The module imports
 * both modules by relative paths, so that the source map of a bundle
 * does not depend on where the repository lies.
 *
 * @example
 * ```ts
 * const entry = writeEntry({
 *   folder: join(outdir, 'entries'),
 *   pipelineModule: '/repo/functions/pipeline.ts',
 *   adapterModule: '/repo/src/functions/aws/index.ts',
 *   pipeline: 'kv-router',
 *   name: 'indexer',
 * });
 * ```
 */
export function writeEntry(options: EntryOptions): string {
  const file = join(options.folder, `${options.name}.ts`);
  const from = dirname(file);
  const name = JSON.stringify(options.name);
  const missing = JSON.stringify(
    `pipeline '${options.pipeline}' has no function '${options.name}'`,
  );
  const sqs = options.sqs === true;
  const text = [
    `// The Lambda handler of function ${name}, written by the CDK app.`,
    ...(sqs ? ["import { SQSClient } from '@aws-sdk/client-sqs';"] : []),
    `import pipeline from ${importPath(from, options.pipelineModule)};`,
    `import { toLambda } from ${importPath(from, options.adapterModule)};`,
    '',
    `const fn = pipeline.functions.find((f) => f.name === ${name});`,
    `if (fn === undefined) throw new Error(${missing});`,
    '',
    sqs
      ? 'export const handler = toLambda(fn, { pipeline, sqs: new SQSClient({}) });'
      : 'export const handler = toLambda(fn, { pipeline });',
    '',
  ].join('\n');

  mkdirSync(from, { recursive: true });
  writeFileSync(file, text);

  return file;
}

function importPath(from: string, module: string): string {
  const path = relative(from, module).split(sep).join('/');
  return JSON.stringify(path.startsWith('.') ? path : `./${path}`);
}
