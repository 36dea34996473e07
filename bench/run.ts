/**
 * The benchmark: `npm run bench [-- --quick] [-- --only a,b]`. Runs each
 * scenario in a child process of its own, prints a table of the figures
 * and their ratios on stdout (progress goes to stderr), and writes them
 * with the machine and the date to `bench/results/latest.json`.
 *
 * A benchmark, not a test: nothing here asserts on time.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchConfig } from './lib/config.ts';
import type { BenchResults } from './lib/figures.ts';
import { runInChild, sendToParent } from './lib/isolate.ts';
import { goals, natsGoals, ratios } from './lib/ratios.ts';
import { describeMachine, loadAverage, writeResults } from './lib/report.ts';
import type { Scenario } from './lib/scenario.ts';
import { summaryLines } from './lib/summary.ts';
import type { Row } from './lib/table.ts';
import { consumeScenario } from './scenarios/consume.ts';
import { footprintScenario } from './scenarios/footprint.ts';
import { latencyScenario } from './scenarios/latency.ts';
import { natsScenario } from './scenarios/nats.ts';
import { outboxScenario } from './scenarios/outbox.ts';
import { publishScenario } from './scenarios/publish.ts';
import { sqliteScenario } from './scenarios/sqlite.ts';

const SCENARIOS: readonly Scenario[] = [
  sqliteScenario,
  publishScenario,
  consumeScenario,
  latencyScenario,
  footprintScenario,
  natsScenario,
  outboxScenario,
];

const ENTRY = fileURLToPath(import.meta.url);
const RESULTS_FILE = fileURLToPath(
  new URL('./results/latest.json', import.meta.url),
);

const USAGE = `usage: npm run bench -- [--quick] [--only <scenario>[,<scenario>...]]

  --quick   smaller counts, for a check that takes seconds
  --only    run only these scenarios (repeatable or comma-separated)

scenarios, in the order they run:
${SCENARIOS.map((s) => `  ${s.name.padEnd(10)} ${s.summary}`).join('\n')}`;

interface Selection {
  quick: boolean;
  scenarios: Scenario[];
  /** Set in a child: the one scenario it runs. */
  child?: Scenario;
}

const selection = parseSelection(process.argv.slice(2));
if (selection === undefined) {
  process.exitCode = 2;
} else if (selection.child !== undefined) {
  await runChild(selection.child, selection.quick);
} else {
  await runAll(selection);
}

/** Runs the selected scenarios one after the other and reports. */
async function runAll({ quick, scenarios }: Selection): Promise<void> {
  const startedAt = performance.now();
  const date = new Date().toISOString();
  const machine = describeMachine();
  const loadAtStart = loadAverage();
  const results: BenchResults = {};
  const rows: Row[] = [];
  const failures: { scenario: string; error: string }[] = [];
  const names = scenarios.map((s) => s.name);
  console.error(
    `bench${quick ? ' --quick' : ''}: ${names.join(', ')} on ${machine.cpus} cpus, node ${machine.node}`,
  );

  for (const { name } of scenarios) {
    const began = performance.now();
    try {
      const args = ['--scenario', name, ...(quick ? ['--quick'] : [])];
      const report = await runInChild(ENTRY, args);
      Object.assign(results, report.results);
      rows.push(...report.rows);
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      console.error(`  ${name} failed: ${text}`);
      failures.push({ scenario: name, error: text });
    }
    const took = ((performance.now() - began) / 1000).toFixed(1);
    console.error(`  ${name}: ${took} s`);
  }

  const durationSeconds =
    Math.round((performance.now() - startedAt) / 100) / 10;
  const file = {
    date,
    machine,
    quick,
    scenarios: names,
    config: benchConfig(quick),
    results,
    ratios: ratios(results),
    goals: goals(results),
    natsGoals: natsGoals(results),
    failures,
    load: { start: loadAtStart, end: loadAverage() },
    durationSeconds,
  };
  await writeResults(RESULTS_FILE, file);

  console.log(summaryLines(file, rows).join('\n'));
  console.log(`\nwrote ${RESULTS_FILE} (${durationSeconds} s in all)`);
  if (failures.length > 0) process.exitCode = 1;
}

/** In a child: runs one scenario and sends its report to the parent. */
async function runChild(scenario: Scenario, quick: boolean): Promise<void> {
  const progress = (step: string) =>
    console.error(`  ${scenario.name}: ${step}`);
  try {
    const report = await scenario.run(benchConfig(quick), progress);
    await sendToParent({ ok: true, report });
  } catch (error) {
    const text =
      error instanceof Error ? (error.stack ?? error.message) : String(error);
    await sendToParent({ ok: false, error: text });
  }
  process.disconnect?.();
}

/** The options, or undefined (after printing why) when they are wrong. */
function parseSelection(argv: string[]): Selection | undefined {
  let values: {
    quick?: boolean;
    only?: string[];
    scenario?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        scenario: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    console.error(`${text}\n\n${USAGE}`);
    return undefined;
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }

  const names = [...(values.only ?? []), values.scenario ?? '']
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`unknown scenario: ${unknown.join(', ')}\n\n${USAGE}`);
    return undefined;
  }
  const scenarios =
    names.length === 0
      ? [...SCENARIOS]
      : SCENARIOS.filter((s) => names.includes(s.name));

  return {
    quick: values.quick ?? false,
    scenarios,
    ...(values.scenario !== undefined && { child: scenarios[0] }),
  };
}
