/**
 * The fault-injection suite (`npm run test:faults`): processes killed,
 * brokers restarted and connections cut, delayed or stalled, on real
 * servers. Its files wait on leases, restarts and timeouts rather than
 * on the processor, so they run two at a time even on two cores, with
 * timeouts generous enough for a loaded machine.
 */
import { defineConfig } from 'vitest/config';

const report = process.env.SWITCHYARD_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 90_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: report ? ['default', 'json'] : ['default'],
    outputFile: report ? { json: report } : undefined,
  },
});
