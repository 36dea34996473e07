import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineFunction } from '../../src/functions/define-function.ts';
import { definePipeline } from '../../src/functions/define-pipeline.ts';
import { every } from '../../src/functions/triggers.ts';
import type { ScheduleEvent } from '../../src/functions/types.ts';
import { createGate, eventually } from '../../src/testkit/helpers.ts';
import { Harness } from './fixtures.ts';

let harness: Harness;
beforeEach(() => {
  harness = new Harness();
});
afterEach(() => harness.release());

describe('a schedule trigger', () => {
  it('runs the handler again and again with the time each run was due', async () => {
    const due: Date[] = [];
    const tick = defineFunction({
      name: 'tick',
      trigger: every(5),
      handler: (event: ScheduleEvent) => {
        due.push(event.scheduledAt);
      },
    });
    const pipeline = definePipeline({ name: 'clock', functions: [tick] });

    const { running } = await harness.run(pipeline);
    await eventually(() => due.length >= 3);

    const times = due.map((d) => d.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(running.stats().functions.tick!.runs).toBeGreaterThanOrEqual(3);
  });

  it('logs and counts a failing run, and goes on with the schedule', async () => {
    let runs = 0;
    const flaky = defineFunction({
      name: 'flaky',
      trigger: every(5),
      handler: () => {
        runs++;
        if (runs === 1) throw new Error('first run fails');
      },
    });
    const pipeline = definePipeline({ name: 'clock', functions: [flaky] });

    const { running } = await harness.run(pipeline);
    await eventually(() => running.stats().functions.flaky!.succeeded >= 2);

    expect(running.stats().functions.flaky!.failed).toBe(1);
    const errors = harness.logger.at('error');
    expect(errors.map((e) => e.message)).toContain('scheduled run failed');
    expect(errors[0]!.fields).toMatchObject({
      function: 'flaky',
      errorMessage: 'first run fails',
    });
  });

  it('never starts a run while the previous one is still going', async () => {
    const gate = createGate();
    let active = 0;
    let most = 0;
    let runs = 0;
    const slow = defineFunction({
      name: 'slow',
      trigger: every(1),
      handler: async () => {
        runs++;
        active++;
        most = Math.max(most, active);
        if (runs === 1) await gate.opened;
        active--;
      },
    });
    const pipeline = definePipeline({ name: 'clock', functions: [slow] });

    await harness.run(pipeline);
    await eventually(() => runs === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const runsWhileHeld = runs;
    gate.open();
    await eventually(() => runs >= 3);

    expect(runsWhileHeld).toBe(1);
    expect(most).toBe(1);
  });
});
