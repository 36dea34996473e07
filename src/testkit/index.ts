/**
 * The conformance suite: what every provider must do, as vitest cases.
 * A provider works when it passes the suite against a real server or the
 * service's own emulator. Third-party providers run it the same way:
 *
 * ```ts
 * // test/conformance/acme.test.ts
 * import { runConformance } from 'switchyard/testkit';
 *
 * runConformance({
 *   name: 'acme',
 *   async setup() {
 *     const server = await startAcmeServer();
 *     return {
 *       provider: async () => createAcmeProvider({ url: server.url }),
 *       teardown: () => server.stop(),
 *     };
 *   },
 *   timeouts: { eventuallyMs: 20_000, leaseMs: 1_000 },
 * });
 * ```
 *
 * The suite needs `vitest` (it registers `describe` and `it` blocks) and
 * reaches the provider only through `createSwitchyard`, so it checks the
 * behaviour an application sees.
 */
import { describe } from 'vitest';
import { adminCases } from './admin.ts';
import { channelCases } from './channels.ts';
import { deliveryCases } from './delivery.ts';
import { groupCases } from './groups.ts';
import { guaranteeCases } from './guarantees.ts';
import {
  type ConformanceTarget,
  createKit,
  probeCapabilities,
  resolveTimeouts,
} from './kit.ts';
import { kvCases } from './kv.ts';
import { kvWatchCases } from './kv-watch.ts';
import { objectCases } from './objects.ts';
import { pullCases } from './pull.ts';
import { refusalCases } from './refusals.ts';
import { requestCases } from './requests.ts';
import { shutdownCases } from './shutdown.ts';

export { loseAcks } from './faults.ts';
export { type EventuallyOptions, eventually } from './helpers.ts';
export type {
  ConformanceEnvironment,
  ConformanceTarget,
  ConformanceTimeouts,
} from './kit.ts';

/**
 * Registers the conformance suite of `target` as a vitest `describe`
 * block named after it.
 *
 * The provider's declared capabilities are read once, from a throwaway
 * environment, while the suite is collected. A feature the provider
 * declares unsupported is not skipped: its cases are replaced by cases
 * that expect asking for it to throw a `CapabilityError`. Each case runs
 * in its own environment from `target.setup()`, closes every client it
 * opened, then tears the environment down. Cases run one after another.
 */
export function runConformance(target: ConformanceTarget): void {
  const timeouts = resolveTimeouts(target.timeouts);

  describe(`conformance: ${target.name}`, async () => {
    const capabilities = await probeCapabilities(target);
    const kit = createKit(target, capabilities, timeouts);

    channelCases(kit);
    refusalCases(kit);
    groupCases(kit);
    pullCases(kit);
    deliveryCases(kit);
    shutdownCases(kit);
    guaranteeCases(kit);
    adminCases(kit);
    kvCases(kit);
    kvWatchCases(kit);
    objectCases(kit);
    requestCases(kit);
  });
}
