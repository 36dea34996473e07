/**
 * Factories of the reference pipeline's tests: clients on the local
 * provider in temporary data folders, and runs of the pipeline on them,
 * all released after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSwitchyard } from '../../src/core/client.ts';
import type { Provider } from '../../src/core/provider.ts';
import type { Switchyard } from '../../src/core/switchyard.ts';
import type { Pipeline } from '../../src/functions/define-pipeline.ts';
import {
  type RunningPipeline,
  runPipeline,
} from '../../src/functions/run-pipeline.ts';
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { recordingLogger } from '../functions/fixtures.ts';

/** What one test opened. */
export class LocalHarness {
  readonly logger = recordingLogger();
  readonly #dirs: string[] = [];
  readonly #clients: Switchyard[] = [];
  readonly #running: RunningPipeline[] = [];

  /** A fresh data folder. */
  async dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-pipeline-'));
    this.#dirs.push(dir);
    return dir;
  }

  /** A local provider on `dataDir`, closed with its client. */
  provider(dataDir: string): Promise<Provider> {
    return createLocalProvider({ dataDir });
  }

  /** A client on a local provider on `dataDir` (default a fresh one). */
  async client(dataDir?: string): Promise<Switchyard> {
    const provider = await this.provider(dataDir ?? (await this.dataDir()));
    const client = createSwitchyard({ provider, logger: this.logger });
    this.#clients.push(client);
    return client;
  }

  /** Runs `pipeline` on `client`; stopped at release if still running. */
  async run(pipeline: Pipeline, client: Switchyard): Promise<RunningPipeline> {
    const running = await runPipeline(pipeline, {
      switchyard: client,
      logger: this.logger,
    });
    this.#running.push(running);
    return running;
  }

  async release(): Promise<void> {
    await Promise.all(this.#running.splice(0).map((r) => r.stop()));
    await Promise.all(this.#clients.splice(0).map((c) => c.close()));
    await Promise.all(
      this.#dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })),
    );
  }
}
