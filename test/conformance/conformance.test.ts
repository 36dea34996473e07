/**
 * Runs the conformance suite against each provider named in
 * `SWITCHYARD_PROVIDERS` (comma-separated; default `memory,local,memory-minimal,nats`: the last is the memory provider declaring every optional feature unsupported, which runs the refusal cases).
 *
 * SWITCHYARD_PROVIDERS=local npx vitest run test/conformance
 */
import { runConformance } from '../../src/testkit/index.ts';
import { selectTargets } from './targets/index.ts';

const selected = await selectTargets(
  process.env.SWITCHYARD_PROVIDERS ?? 'memory,local,memory-minimal,nats',
);

for (const target of selected) runConformance(target);
