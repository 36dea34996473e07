import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledEvent } from '../../events/aws/samples.ts';
import { expectedIndex } from '../../functions/check.ts';
import { generateEvents } from '../../functions/generator.ts';
import { createRouterPipeline } from '../../functions/pipeline.ts';
import {
  EVENTS_CHANNEL,
  eventMessageId,
} from '../../functions/router-event.ts';
import { resolveSettings } from '../../functions/settings.ts';
import { newestSnapshot, type Snapshot } from '../../functions/snapshots.ts';
import { createSwitchyard } from '../../src/core/client.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import type { Pipeline } from '../../src/functions/define-pipeline.ts';
import {
  type RunningPipeline,
  runPipeline,
} from '../../src/functions/run-pipeline.ts';
import type { CheckResult } from '../../src/functions/types.ts';
import {
  createAwsProvider,
  fromSqsBody,
} from '../../src/providers/aws/index.ts';
import { type MotoServer, startMotoServer, TEST_REGION } from '../aws/moto.ts';
import { type DeployedPipeline, deployToMoto } from './deploy.ts';
import { type LambdaInstance, startLambdaInstance } from './lambda-runner.ts';
import {
  type EventSourceReport,
  runSqsEventSource,
} from './sqs-event-source.ts';

/** The prefix the stack's functions are configured with. */
const PREFIX = 'it-';

/**
 * Events the simulated workers publish: moto handles tens of requests a
 * second, and each event costs several.
 */
const EVENTS = Number(process.env.SWITCHYARD_AWS_PIPELINE_EVENTS ?? 200);

const ROUTER = { count: EVENTS, workers: 4, batchSize: 25 };

/** Longest the queue may take to drain once the workers are done. */
const DRAIN_TIMEOUT_MS = 90_000;

let moto: MotoServer;
let deployed: DeployedPipeline;
let sqs: SQSClient;
let client: Switchyard;
let pipeline: Pipeline;
let running: RunningPipeline;
let indexer: LambdaInstance;
let report: EventSourceReport;
let check: CheckResult;
let snapshotResult: unknown;

beforeAll(async () => {
  moto = await startMotoServer();
  deployed = await deployToMoto(moto.endpoint, {
    prefix: PREFIX,
    bundle: true,
  });
  const lambdaEnv = {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  sqs = new SQSClient({ endpoint: moto.endpoint });
  const provider = await createAwsProvider({
    endpoint: moto.endpoint,
    prefix: PREFIX,
  });
  client = createSwitchyard({ provider });
  const fn = deployed.functions.indexer!;
  indexer = await startLambdaInstance(fn, {
    region: TEST_REGION,
    env: lambdaEnv,
  });

  pipeline = createRouterPipeline(ROUTER);
  running = await runPipeline(pipeline, {
    switchyard: client,
    functions: [],
  });
  let published = false;
  const producing = running.idle({ timeoutMs: DRAIN_TIMEOUT_MS }).then(() => {
    published = true;
  });
  const source = fn.eventSource!;
  report = await runSqsEventSource({
    sqs,
    queue: deployed.groups[source.group!]!.queue,
    source,
    region: TEST_REGION,
    invoke: (event: SQSEvent) => indexer.invoke(event),
    finished: () => published,
    timeoutMs: DRAIN_TIMEOUT_MS,
  });
  await producing;
  check = await pipeline.check!(client);

  const snapshotter = await startLambdaInstance(deployed.functions.snapshot!, {
    region: TEST_REGION,
    env: lambdaEnv,
  });
  try {
    snapshotResult = await snapshotter.invoke(
      scheduledEvent(new Date(), `${PREFIX}kv-router-snapshot`),
    );
  } finally {
    await snapshotter.stop();
  }
}, 150_000);

afterAll(async () => {
  await running?.stop();
  await indexer?.stop();
  await client?.close();
  sqs?.destroy();
  await moto?.stop();
  deployed?.remove();
});

/*
 * moto runs no Lambda function: the indexer's bundled code runs in an
 * execution environment of this machine, and the test plays the SQS
 * event source mapping of its queue (lambda-runner.ts,
 * sqs-event-source.ts). moto runs no EventBridge rule either: the
 * deployed snapshot function is invoked once with the event of its
 * schedule rule. The stats function (a request subject) does not run.
 */
describe('the reference pipeline on the stack deployed to moto, its indexer invoked as Lambda would', () => {
  it('deploys the indexer with the provider and prefix in its environment and its queue as event source', () => {
    const fn = deployed.functions.indexer!;

    expect(fn.environment).toEqual({
      SWITCHYARD_PROVIDER: 'aws',
      SWITCHYARD_AWS_PREFIX: PREFIX,
    });
    expect(fn.handler).toBe('index.handler');
    expect(fn.eventSource).toEqual({
      group: 'kv-events--indexer',
      batchSize: 10,
      reportBatchItemFailures: true,
    });
  });

  it('has every worker publish all its events on the deployed topic', () => {
    const stats = running.stats();

    expect(stats.published).toBe(EVENTS);
    expect(Object.values(stats.producers).map((p) => p.state)).toEqual(
      Array(ROUTER.workers).fill('done'),
    );
  });

  it('hands the function batches of at most 10 records, each handled at its first delivery', () => {
    expect(report.functionErrors).toEqual([]);
    expect(report.reportedFailures).toBe(0);
    expect(report.records).toBe(EVENTS);
    expect(report.invocations).toBeGreaterThanOrEqual(EVENTS / 10);
  });

  it('deletes the record of every published event once', () => {
    const expected = generateEvents(resolveSettings(ROUTER)).map(
      eventMessageId,
    );

    const handled = report.deleted.map(
      (r) => fromSqsBody(r.body, EVENTS_CHANNEL).id,
    );

    expect(handled).toHaveLength(EVENTS);
    expect(new Set(handled)).toEqual(new Set(expected));
  });

  it('builds the index in the deployed table that the check recomputes from the events', () => {
    expect(check.ok, check.summary).toBe(true);
    expect(check.summary).toContain(`matches ${EVENTS} events`);
    expect(check.details).toMatchObject({ mismatches: [], deadLettered: 0 });
  });

  it('leaves nothing in the dead-letter queue', async () => {
    const { deadLetters } = deployed.groups['kv-events--indexer']!;

    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deadLetters.url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
        ],
      }),
    );

    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    expect(await client.admin.deadLetters(EVENTS_CHANNEL)).toEqual([]);
  });

  it('deploys the snapshot function with its own timeout and no queue event source', () => {
    const fn = deployed.functions.snapshot!;

    expect(fn.functionName).toBe(`${PREFIX}kv-router-snapshot`);
    expect(fn.environment).toEqual(deployed.functions.indexer!.environment);
    expect(fn.eventSource).toBeUndefined();
    expect(fn.code).toBeDefined();
  });

  it('writes a snapshot of the index when the snapshot function gets a scheduled event', async () => {
    const expected = expectedIndex(generateEvents(resolveSettings(ROUTER)));

    const name = await newestSnapshot(client);
    const snapshot = await client
      .objects('router-snapshots')
      .getValue<Snapshot>(name!);

    expect(snapshotResult).toBeNull();
    expect(snapshot).toMatchObject({
      version: 1,
      channel: EVENTS_CHANNEL,
      workers: expected,
    });
  });
});
