/** Loading the pipeline `switchyard dev` runs from its module. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Pipeline } from '../../functions/index.ts';
import { CommandError } from '../errors.ts';

/** Where `dev` looks for the pipeline when none is named. */
export const DEFAULT_PIPELINE = 'functions/pipeline.ts';

/**
 * Imports `file` (relative to the working directory) and returns its
 * default export, which must be a pipeline made by `definePipeline`.
 * Throws a CommandError that names the file when it is missing, fails to
 * load, or exports something else.
 */
export async function loadPipeline(file: string): Promise<Pipeline> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new CommandError(`cannot load pipeline ${file}: no such file`);
  }

  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CommandError(`cannot load pipeline ${file}: ${reason}`, {
      cause: error,
    });
  }

  if (!isPipeline(module.default)) {
    throw new CommandError(
      `${file} does not export a pipeline as default: export default definePipeline({ ... })`,
    );
  }
  return module.default;
}

function isPipeline(value: unknown): value is Pipeline {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Pipeline>;
  return (
    typeof candidate.name === 'string' &&
    Array.isArray(candidate.functions) &&
    typeof candidate.channels === 'object'
  );
}
