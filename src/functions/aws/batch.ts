/**
 * Running the records of one batch through the core delivery processing.
 *
 * Records run in lanes: a FIFO message group is one lane, run one record
 * at a time in order, and once a record of it fails, it and the later
 * records of the group are reported failed without running, so that the
 * group's order holds when the queue delivers them again. Every other
 * record is a lane of its own. Up to `concurrency` lanes run at once.
 *
 * Nothing starts after the invocation's deadline: records not started
 * by then are reported failed, and handlers still running are abandoned
 * (nothing is acknowledged or recorded for them) so that the batch
 * response goes back before Lambda stops the invocation.
 *
 * With a claim check, a record carrying a reference is resolved as it
 * starts, so that no more bodies are held at once than records run; its
 * settlement (a dead letter above all) keeps the reference, as it came.
 */
import type { TransportDelivery } from '../../core/provider.ts';
import type { ResolveTarget } from '../../delivery/claim-check-consumer.ts';
import { processDelivery } from '../../delivery/process.ts';
import {
  type DeliveryEnv,
  deadLetter,
  type Job,
} from '../../delivery/settle.ts';
import type { BatchItem } from './batch-item.ts';
import { resolveRecord, settleUnresolved } from './claim-check.ts';
import type { Deadline } from './invocation.ts';
import {
  type RecordOutcome,
  recordDelivery,
  type SettlePorts,
} from './record-delivery.ts';

/** What a batch runs with. */
export interface BatchRun {
  env: DeliveryEnv<unknown>;
  ports: SettlePorts;
  deadline: Deadline;
  concurrency: number;
  /** Where claim-check references are resolved; absent without one. */
  claimCheck?: ResolveTarget;
}

/** Runs every item; resolves with one outcome per item, in order. */
export async function runBatch(
  items: readonly BatchItem[],
  run: BatchRun,
): Promise<RecordOutcome[]> {
  const outcomes = items.map(
    (item): RecordOutcome => ({
      id: item.id,
      status: 'pending',
    }),
  );
  const jobs = new Set<Job>();
  const lanes = laneQueues(items);

  const work = async (): Promise<void> => {
    for (let lane = lanes.shift(); lane; lane = lanes.shift()) {
      await runLane(lane, { items, outcomes, jobs }, run);
    }
  };
  const workers = Array.from(
    { length: Math.max(1, Math.min(run.concurrency, lanes.length)) },
    work,
  );
  const finished = await untilDeadline(Promise.all(workers), run.deadline);

  if (!finished) {
    for (const job of jobs) job.abandoned = true;
    run.ports.logger.warn(
      'invocation deadline reached: records still running are reported failed',
      { running: jobs.size },
    );
  }
  for (const outcome of outcomes) {
    if (outcome.status === 'pending') {
      outcome.status = 'failed';
      outcome.reason ??= 'not settled before the invocation deadline';
    }
  }

  return outcomes;
}

/** Item indexes grouped by lane, lanes in order of their first record. */
function laneQueues(items: readonly BatchItem[]): number[][] {
  const lanes = new Map<string, number[]>();
  items.forEach((item, index) => {
    const lane = lanes.get(item.lane);
    if (lane === undefined) lanes.set(item.lane, [index]);
    else lane.push(index);
  });
  return [...lanes.values()];
}

interface BatchState {
  items: readonly BatchItem[];
  outcomes: RecordOutcome[];
  /** Items running now. */
  jobs: Set<Job>;
}

async function runLane(
  lane: readonly number[],
  state: BatchState,
  run: BatchRun,
): Promise<void> {
  let cutBy: string | undefined;
  for (const index of lane) {
    const item = state.items[index]!;
    const outcome = state.outcomes[index]!;
    if (cutBy !== undefined) {
      outcome.status = 'failed';
      outcome.reason = `not run: record ${cutBy} of its message group failed before it`;
      continue;
    }
    if (run.deadline.signal.aborted) {
      outcome.reason = 'not started before the invocation deadline';
      continue;
    }

    const job: Job = { abandoned: false };
    state.jobs.add(job);
    await runItem(item, outcome, job, run);
    state.jobs.delete(job);
    if (job.abandoned) return;

    const held = outcome.status === 'failed' || outcome.status === 'pending';
    if (held && item.ordered) cutBy = item.id ?? `at position ${index}`;
  }
}

/**
 * Dead-letters an item that cannot be handled with its problem, resolves
 * the reference of one that carries it, and hands the message to the
 * core processing.
 */
async function runItem(
  item: BatchItem,
  outcome: RecordOutcome,
  job: Job,
  run: BatchRun,
): Promise<void> {
  const { env } = run;
  const delivery: TransportDelivery = recordDelivery(item, outcome, run.ports);
  const log = () =>
    run.ports.logger.child({ messageId: item.id, attempt: item.attempt });
  env.stats.inFlight++;

  try {
    if (item.problem !== undefined) {
      env.stats.delivered++;
      await deadLetter(delivery, item.problem, env.stats, log());
      outcome.reason ??= item.problem;
      return;
    }
    // A record over its attempts is dead-lettered by the core as it
    // came, without reading its object first.
    const resolving =
      item.attempt > env.policy.maxAttempts
        ? undefined
        : resolveRecord(item.wire, run.claimCheck);
    if (resolving === undefined) {
      await processDelivery(delivery, env, job);
      return;
    }

    const resolved = await resolving;
    if (job.abandoned) return;
    if (resolved.ok) {
      // The handler sees the original message; settling, a dead letter
      // included, still concerns the record with its reference.
      await processDelivery(
        { ...delivery, message: resolved.message },
        env,
        job,
      );
      return;
    }
    await settleUnresolved(delivery, resolved, env, log());
    outcome.reason ??= resolved.reason;
  } finally {
    env.stats.inFlight--;
  }
}

/** Whether `work` settled before the deadline. */
async function untilDeadline(
  work: Promise<unknown>,
  deadline: Deadline,
): Promise<boolean> {
  const { signal } = deadline;
  if (signal.aborted) return false;
  let onAbort: (() => void) | undefined;
  const reached = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });

  try {
    return await Promise.race([work.then(() => true as const), reached]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
