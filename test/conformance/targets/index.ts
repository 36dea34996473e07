/**
 * The conformance targets this repository knows, by provider name. Each
 * is loaded only when selected, so a run against one provider does not
 * load the SDKs of the others.
 */
import type { ConformanceTarget } from '../../../src/testkit/index.ts';

/** Builds the target of one provider. */
export type TargetLoader = () => Promise<ConformanceTarget>;

/** Every known target, by the name `SWITCHYARD_PROVIDERS` uses. */
export const targets: Readonly<Record<string, TargetLoader>> = {
  memory: async () => (await import('./memory.ts')).memoryTarget(),
  local: async () => (await import('./local.ts')).localTarget(),
  nats: async () => (await import('./nats.ts')).natsTarget(),
  aws: async () => (await import('./aws.ts')).awsTarget(),
  'memory-minimal': async () =>
    (await import('./memory-minimal.ts')).memoryMinimalTarget(),
};

/**
 * The targets named in `list` (comma-separated, blanks ignored), in that
 * order. Throws naming the unknown ones and the known ones.
 */
export async function selectTargets(
  list: string,
): Promise<ConformanceTarget[]> {
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !Object.hasOwn(targets, name));
  if (unknown.length > 0) {
    throw new Error(
      `SWITCHYARD_PROVIDERS names unknown providers: ${unknown.join(', ')} (known: ${Object.keys(targets).join(', ')})`,
    );
  }
  if (names.length === 0) {
    throw new Error('SWITCHYARD_PROVIDERS names no provider');
  }

  return Promise.all(names.map((name) => targets[name]!()));
}
