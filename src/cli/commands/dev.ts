/** `switchyard dev`: runs a pipeline locally. */
import type { SwitchReport, Switchyard } from '../../core/switchyard.ts';
import type { Pipeline, RunningPipeline } from '../../functions/index.ts';
import { defineCommand } from '../command.ts';
import { CommandError } from '../errors.ts';
import { plural } from '../format.ts';
import { startProgress } from '../progress.ts';
import {
  type Control,
  DEFAULT_CONTROL_PATH,
  listenForControl,
} from './dev-control.ts';
import { DEFAULT_PIPELINE, loadPipeline } from './dev-pipeline.ts';
import {
  type CheckOutcome,
  printSummary,
  progressLine,
  summarize,
} from './dev-summary.ts';
import { watchConfig } from './dev-watch.ts';

/** Default of `--timeout`: how long `--until-idle` waits, in ms. */
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/** `dev`. */
export const devCommand = defineCommand({
  name: 'dev',
  summary: 'Run the pipeline with live progress until Ctrl-C (or until idle)',
  details: [
    'Loads the pipeline (the default export of the module), runs its functions',
    'and producers on the configured provider, and prints a progress line on',
    'stderr every second. On Ctrl-C, or with --until-idle once every channel',
    'is drained, it stops gracefully and prints a summary: what was published,',
    'delivered, retried, dead-lettered and skipped as duplicate, and the',
    "pipeline's check. Exits 1 when the check fails; dead letters with a",
    'passing check are a warning.',
  ].join('\n'),
  options: {
    pipeline: {
      type: 'string',
      value: 'FILE',
      description: `pipeline module (default ${DEFAULT_PIPELINE})`,
    },
    'until-idle': {
      type: 'boolean',
      description: 'stop once every channel is drained, then check',
    },
    events: {
      type: 'string',
      value: 'N',
      description: 'events to simulate (sets SWITCHYARD_DEV_EVENTS)',
    },
    timeout: {
      type: 'string',
      value: 'MS',
      description: `with --until-idle, give up after MS (default ${DEFAULT_IDLE_TIMEOUT_MS})`,
    },
    control: {
      type: 'string',
      value: 'PATH',
      description: `socket that switchyard switch talks to (default ${DEFAULT_CONTROL_PATH})`,
    },
    'watch-config': {
      type: 'boolean',
      description:
        'switch the channels when the configuration file puts them on another provider',
    },
  },
  async run({ options, output, logger, signal, client, configSource }) {
    const file = options.string('pipeline') ?? DEFAULT_PIPELINE;
    const events = options.integer('events', undefined, 0);
    const untilIdle = options.flag('until-idle');
    const timeoutMs = options.integer('timeout', DEFAULT_IDLE_TIMEOUT_MS, 1);
    if (events !== undefined) {
      // The pipeline module reads its settings when it is loaded.
      process.env.SWITCHYARD_DEV_EVENTS = String(events);
    }

    const pipeline = await loadPipeline(file);
    // Loaded here so that the other commands do not load the functions.
    const { runPipeline } = await import('../../functions/index.ts');
    const sy = await client();
    const provider = sy.providerName('channels');
    const running = await runPipeline(pipeline, { switchyard: sy, logger });
    output.note(
      `running ${pipeline.name} on ${provider}: ${plural(pipeline.functions.length, 'function')}, ${plural(pipeline.producers.length, 'producer')}; Ctrl-C stops`,
    );
    const control = await openControl(
      options.string('control') ?? DEFAULT_CONTROL_PATH,
      sy,
      output,
    );
    const watch = options.flag('watch-config')
      ? await watchConfig(configSource, sy, {
          switched: (report) => output.note(switchedNote(report)),
          refused: (reason) => output.warn(reason),
        })
      : undefined;

    const progress =
      !output.json || process.stderr.isTTY
        ? startProgress({ render: () => progressLine(running.stats()) })
        : undefined;
    let ended: 'idle' | 'stopped' = 'stopped';
    let failure: unknown;
    try {
      ended = await waitForEnd(running, { untilIdle, timeoutMs, signal });
    } catch (error) {
      failure = error;
    } finally {
      progress?.stop();
      watch?.close();
      await control?.close();
    }
    await running.stop();

    const complete = ended === 'idle' || (await drained(sy, running));
    const check = complete
      ? await runCheck(pipeline, sy)
      : skipped('stopped before the channels were drained');
    const summary = summarize(
      running.stats(),
      { provider: sy.providerName('channels'), ended },
      check,
    );
    printSummary(output, summary);

    if (failure !== undefined) throw failure;
    if (check.skipped === undefined && !check.ok) {
      throw new CommandError(`check failed: ${check.summary}`);
    }
    if (summary.deadLettered > 0) {
      const channels = deadLetterChannels(pipeline).join(', ');
      output.warn(
        `${plural(summary.deadLettered, 'message')} dead-lettered; see switchyard dlq ls <channel> (${channels})`,
      );
    }
  },
});

/**
 * Listens for `switchyard switch`; a socket another run holds is a
 * warning, not a failure, since the pipeline runs without it.
 */
async function openControl(
  path: string,
  sy: Switchyard,
  output: Parameters<typeof printSummary>[0],
): Promise<Control | undefined> {
  try {
    return await listenForControl(path, sy, ({ request, reply }) => {
      const to = request.switchTo.provider;
      if (reply.ok) {
        output.note(switchedNote(reply.report));
      } else {
        output.warn(`could not switch to ${to}: ${reply.error.message}`);
      }
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    output.warn(`switchyard switch will not reach this run: ${reason}`);
    return undefined;
  }
}

function switchedNote(report: SwitchReport): string {
  const drained = report.drained
    ? `old transport drained in ${report.drainMs} ms`
    : `gave up draining after ${report.drainMs} ms, left there: ${JSON.stringify(report.left)}`;
  return `switched channels ${report.from} -> ${report.to}: publishes moved after ${report.prepareMs} ms, ${drained}`;
}

/** Resolves with `idle` once drained (with `untilIdle`) or `stopped`. */
async function waitForEnd(
  running: RunningPipeline,
  options: { untilIdle: boolean; timeoutMs: number; signal: AbortSignal },
): Promise<'idle' | 'stopped'> {
  const { signal } = options;
  const stopped = new Promise<'stopped'>((resolve) => {
    if (signal.aborted) resolve('stopped');
    signal.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
  if (!options.untilIdle) return stopped;

  const idle = running.idle({ timeoutMs: options.timeoutMs });
  // Still polling when a signal wins the race; it ends once the client closes.
  idle.catch(() => {});
  return Promise.race([idle.then(() => 'idle' as const), stopped]);
}

/**
 * Whether the run got to the end: every producer done and every worker
 * group of the pipeline's functions without lag or messages in flight.
 */
async function drained(
  sy: Switchyard,
  running: RunningPipeline,
): Promise<boolean> {
  const stats = running.stats();
  if (Object.values(stats.producers).some((p) => p.state !== 'done')) {
    return false;
  }
  for (const fn of running.pipeline.functions) {
    if (fn.trigger.type !== 'channel') continue;
    const { consumers } = await sy.admin.stats(fn.trigger.channel);
    const group = consumers[fn.trigger.group];
    if (group !== undefined && (group.lag > 0 || group.inFlight > 0)) {
      return false;
    }
  }
  return true;
}

async function runCheck(
  pipeline: Pipeline,
  sy: Switchyard,
): Promise<CheckOutcome> {
  if (pipeline.check === undefined) return skipped('the pipeline has no check');
  try {
    return await pipeline.check(sy);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, summary: `the check threw: ${reason}` };
  }
}

function skipped(summary: string): CheckOutcome {
  return { skipped: true, summary };
}

function deadLetterChannels(pipeline: Pipeline): string[] {
  const channels = new Set<string>();
  for (const fn of pipeline.functions) {
    const { trigger } = fn;
    if (trigger.type === 'channel' || trigger.type === 'broadcast') {
      channels.add(trigger.channel);
    }
  }
  return [...channels];
}
