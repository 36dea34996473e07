import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pipeline from '../../functions/pipeline.ts';
import { esbuildOptions } from '../../infra/aws/bundling.ts';
import { writeEntry } from '../../infra/aws/entry.ts';
import { REFERENCE_MODULE } from '../../infra/aws/reference.ts';
import { describePipeline } from '../../src/functions/resources.ts';

const run = promisify(execFile);

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const ADAPTER = join(REPOSITORY, 'src/functions/aws/index.ts');

/** Packages a Lambda bundle of an SQS function must not carry. */
const FOREIGN =
  /node_modules\/(@nats-io|@google-cloud|@azure|better-sqlite3)\//;

/** Source folders of providers a Lambda function does not run on. */
const OTHER_PROVIDERS =
  /^src\/providers\/(local|nats|redis|gcp|azure|zeromq)\//;

/** The functions of the reference pipeline that SQS triggers. */
const SQS_FUNCTIONS = describePipeline(pipeline).channels.flatMap((c) =>
  c.groups.map((g) => g.function),
);

interface Bundle {
  file: string;
  metafile: Metafile;
}

/** Where this run's bundles are written. */
let folder: string | undefined;

/**
 * Bundles the Lambda entry of each function with the options of the
 * construct, under the repository (in `cdk.out`) so that the bundle
 * resolves the AWS SDK it leaves out as Lambda's runtime would.
 */
async function bundleAll(): Promise<Map<string, Bundle>> {
  const parent = join(REPOSITORY, 'cdk.out');
  mkdirSync(parent, { recursive: true });
  folder = mkdtempSync(join(parent, 'bundle-test-'));
  const bundles = new Map<string, Bundle>();
  for (const name of SQS_FUNCTIONS) {
    const entry = writeEntry({
      folder: join(folder, 'entries'),
      pipelineModule: REFERENCE_MODULE,
      adapterModule: ADAPTER,
      pipeline: pipeline.name,
      name,
      sqs: true,
    });
    const file = join(folder, name, 'index.mjs');
    const result = await build({
      ...esbuildOptions(entry, file),
      logLevel: 'silent',
    });
    bundles.set(name, { file, metafile: result.metafile! });
  }
  return bundles;
}

describe('the Lambda bundle of an SQS function', () => {
  let bundles: Map<string, Bundle>;
  beforeAll(async () => {
    bundles = await bundleAll();
  }, 120_000);
  afterAll(() => {
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });

  it('exists for the indexer, the one worker group of the reference pipeline', () => {
    expect([...bundles.keys()]).toEqual(['indexer']);
  });

  it('carries no NATS, Google Cloud, Azure or SQLite code', () => {
    for (const { metafile } of bundles.values()) {
      const inputs = Object.keys(metafile.inputs);

      expect(inputs.filter((i) => FOREIGN.test(i))).toEqual([]);
      expect(inputs.filter((i) => OTHER_PROVIDERS.test(i))).toEqual([]);
      expect(inputs.some((i) => i.startsWith('src/providers/aws/'))).toBe(true);
    }
  });

  it('leaves the AWS SDK to the Lambda runtime', () => {
    for (const { metafile } of bundles.values()) {
      const sdk = Object.keys(metafile.inputs).filter((i) =>
        i.includes('node_modules/@aws-sdk/'),
      );

      expect(sdk).toEqual([]);
    }
  });

  it('loads in a fresh Node.js process and answers an empty batch', async () => {
    for (const { file } of bundles.values()) {
      const script = [
        `const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});`,
        'const response = await handler({ Records: [] });',
        'process.stdout.write(JSON.stringify(response));',
      ].join('\n');

      const { stdout } = await run(
        'npx',
        ['node', '--input-type=module', '-e', script],
        {
          cwd: REPOSITORY,
          env: {
            ...process.env,
            SWITCHYARD_PROVIDER: 'aws',
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'testing',
            AWS_SECRET_ACCESS_KEY: 'testing',
            AWS_EC2_METADATA_DISABLED: 'true',
          },
        },
      );

      expect(JSON.parse(stdout)).toEqual({ batchItemFailures: [] });
    }
  });
});
