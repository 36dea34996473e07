/**
 * A deployed Lambda function run on this machine, since moto runs no
 * function code: one execution environment in a child process
 * (`lambda-runtime.ts`), started on the function's bundled code with
 * the environment its template gives it, invoked one event at a time.
 *
 * What Lambda adds is played here: the code is unpacked into a task
 * root of its own, the runtime's variables are set (function name,
 * memory, log group, `LAMBDA_TASK_ROOT`, `_HANDLER`, region), each
 * invocation has the function's timeout as its deadline, and an
 * invocation that runs past it ends the environment. The task root lies
 * under the repository, so that the AWS SDK the bundle leaves to the
 * Lambda runtime resolves from the repository's `node_modules`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { terminate } from '../support/processes.ts';
import type { DeployedFunction } from './deploy.ts';
import type {
  FunctionErrorPayload,
  InitReply,
  Invocation,
  InvocationReply,
} from './lambda-runtime.ts';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

const RUNTIME = fileURLToPath(new URL('./lambda-runtime.ts', import.meta.url));

/** Longest wait for the function's module to load, in ms. */
const INIT_TIMEOUT_MS = 10_000;

/** The account moto gives every resource. */
const MOTO_ACCOUNT = '123456789012';

/** Characters of output an instance keeps, as its log. */
const KEPT_LOG = 8000;

/** Environments started by this process and not stopped yet. */
const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A function error: what the handler threw, or a timeout. */
export class LambdaFunctionError extends Error {
  override readonly name = 'LambdaFunctionError';
  readonly errorType: string;

  constructor(functionName: string, payload: FunctionErrorPayload) {
    super(
      `function ${functionName} failed: ${payload.errorType}: ${payload.errorMessage}`,
    );
    this.errorType = payload.errorType;
  }
}

/** Where and how the function runs, besides its template. */
export interface LambdaInstanceOptions {
  region: string;
  /**
   * Variables the platform sets besides Lambda's own: the execution
   * role's credentials, an endpoint such as `AWS_ENDPOINT_URL`.
   */
  env: Record<string, string>;
  /** Default moto's account. */
  accountId?: string;
}

/** A started execution environment. */
export interface LambdaInstance {
  readonly pid: number;
  readonly functionArn: string;
  /**
   * Runs the handler on `event` and resolves with its result; rejects
   * with a {@link LambdaFunctionError} when it throws or times out.
   */
  invoke(event: unknown): Promise<unknown>;
  /** The last of what the function printed. */
  logs(): string;
  /** Ends the environment and removes its task root. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts an execution environment for `fn` (deployed with `bundle`) and
 * resolves once its module is loaded, as a cold start does. Rejects
 * when the function's runtime is not this Node.js, or its module does
 * not load.
 *
 * @example
 * ```ts
 * const instance = await startLambdaInstance(deployed.functions.indexer, {
 *   region: 'us-east-1',
 *   env: { AWS_ENDPOINT_URL: moto.endpoint },
 * });
 * await instance.invoke({ Records: [] });
 * await instance.stop();
 * ```
 */
export async function startLambdaInstance(
  fn: DeployedFunction,
  options: LambdaInstanceOptions,
): Promise<LambdaInstance> {
  if (fn.code === undefined) {
    throw new Error(`function ${fn.functionName} was deployed without code`);
  }
  const major = process.versions.node.split('.')[0];
  if (fn.runtime !== `nodejs${major}.x`) {
    throw new Error(
      `function ${fn.functionName} runs on ${fn.runtime}, this is Node.js ${process.versions.node}`,
    );
  }
  const parent = join(REPOSITORY, 'cdk.out');
  mkdirSync(parent, { recursive: true });
  const taskRoot = mkdtempSync(join(parent, 'lambda-task-'));
  cpSync(fn.code, taskRoot, { recursive: true });
  const functionArn = `arn:aws:lambda:${options.region}:${options.accountId ?? MOTO_ACCOUNT}:function:${fn.functionName}`;

  const child = fork(RUNTIME, [], {
    cwd: taskRoot,
    env: lambdaEnvironment(fn, taskRoot, options),
    execArgv: [],
    execPath: process.execPath,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-KEPT_LOG);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const pending = new Map<string, (reply: InvocationReply) => void>();
  child.on('message', (reply: InvocationReply) => {
    pending.get(reply.requestId)?.(reply);
  });
  child.once('exit', (code) => {
    const error = {
      errorType: 'Runtime.ExitError',
      errorMessage: `the environment exited with ${code}: ${log}`,
    };
    for (const [requestId, settle] of pending) {
      settle({ type: 'error', requestId, error });
    }
  });

  const stop = async () => {
    await terminate(child);
    rmSync(taskRoot, { recursive: true, force: true });
  };
  try {
    await initialized(child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    pid: child.pid ?? 0,
    functionArn,
    logs: () => log,
    stop,
    async invoke(event) {
      const requestId = randomUUID();
      const timeoutMs = fn.timeoutSeconds * 1000;
      const invocation: Invocation = {
        type: 'invoke',
        requestId,
        event,
        invokedFunctionArn: functionArn,
        deadline: Date.now() + timeoutMs,
      };
      const reply = await new Promise<InvocationReply>((resolve) => {
        const timer = setTimeout(() => {
          // Lambda ends an environment whose invocation timed out.
          child.kill('SIGKILL');
          resolve({
            type: 'error',
            requestId,
            error: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `Task timed out after ${fn.timeoutSeconds} seconds`,
            },
          });
        }, timeoutMs);
        pending.set(requestId, (r) => {
          clearTimeout(timer);
          pending.delete(requestId);
          resolve(r);
        });
        child.send(invocation);
      });

      if (reply.type === 'error') {
        throw new LambdaFunctionError(fn.functionName, reply.error);
      }
      return reply.result;
    },
  };
}

/**
 * The environment of `fn` in Lambda: its own variables, then what the
 * platform adds, then the variables Lambda reserves.
 */
function lambdaEnvironment(
  fn: DeployedFunction,
  taskRoot: string,
  options: LambdaInstanceOptions,
): Record<string, string> {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    ...fn.environment,
    ...options.env,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    LAMBDA_TASK_ROOT: taskRoot,
    _HANDLER: fn.handler,
  };
}

function initialized(child: ChildProcess, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the function did not load: ${log()}`)),
      INIT_TIMEOUT_MS,
    );
    const settle = (reply: InitReply) => {
      clearTimeout(timer);
      child.off('message', settle);
      if (reply.type === 'ready') resolve();
      else {
        const { errorType, errorMessage } = reply.error;
        reject(new Error(`${errorType}: ${errorMessage}`));
      }
    };
    child.on('message', settle);
    child.once('exit', (code) =>
      reject(new Error(`the environment exited with ${code}: ${log()}`)),
    );
  });
}
