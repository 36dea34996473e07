/**
 * One Lambda execution environment, the child process that
 * `lambda-runner.ts` starts: it loads the handler `_HANDLER` names from
 * `LAMBDA_TASK_ROOT` as the Node.js runtime does (`{file}.{export}`,
 * the file ending in `.js`, `.mjs` or `.cjs`), once, then runs one
 * invocation at a time for the messages of its parent.
 *
 * It sends `{ type: 'ready' }` or `{ type: 'init-error', error }` once
 * the module is loaded; for each {@link Invocation} it answers with an
 * {@link InvocationReply}. Results travel as JSON, as Lambda returns
 * them, and a function error as the `errorType` and `errorMessage` of
 * Lambda's error payload.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

/** An invocation, as the parent sends it. */
export interface Invocation {
  type: 'invoke';
  requestId: string;
  event: unknown;
  invokedFunctionArn: string;
  /** When the function's timeout ends, in ms since the epoch. */
  deadline: number;
}

/** What Lambda reports a failed invocation or start with. */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
}

/** The answer to one invocation. */
export type InvocationReply =
  | { type: 'result'; requestId: string; result: unknown }
  | { type: 'error'; requestId: string; error: FunctionErrorPayload };

/** What the environment says once its module is loaded, or not. */
export type InitReply =
  | { type: 'ready' }
  | { type: 'init-error'; error: FunctionErrorPayload };

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** File endings the Node.js runtime tries, in its order. */
const MODULE_ENDINGS = ['.js', '.mjs', '.cjs'];

async function loadHandler(): Promise<Handler> {
  const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const spec = process.env._HANDLER ?? '';
  const dot = spec.lastIndexOf('.');
  const file = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const path = MODULE_ENDINGS.map((e) => join(root, `${file}${e}`)).find((p) =>
    existsSync(p),
  );
  if (dot < 1 || path === undefined) {
    throw payloadError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${file}' of handler '${spec}' in ${root}`,
    );
  }

  const module = (await import(pathToFileURL(path).href)) as Record<
    string,
    unknown
  >;
  const handler = module[name];
  if (typeof handler !== 'function') {
    throw payloadError(
      'Runtime.HandlerNotFound',
      `${spec} is undefined or not exported`,
    );
  }
  return handler as Handler;
}

function contextOf(invocation: Invocation): Context {
  const env = process.env;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: invocation.invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    awsRequestId: invocation.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    getRemainingTimeInMillis: () =>
      Math.max(0, invocation.deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function payloadError(errorType: string, errorMessage: string): Error {
  return Object.assign(new Error(errorMessage), { errorType });
}

function payloadOf(error: unknown): FunctionErrorPayload {
  const e = error as { errorType?: unknown; name?: unknown };
  return {
    errorType: String(e?.errorType ?? e?.name ?? 'Error'),
    errorMessage: error instanceof Error ? error.message : String(error),
  };
}

function send(message: InitReply | InvocationReply): void {
  process.send?.(message);
}

const loading = loadHandler();
loading.then(
  () => send({ type: 'ready' }),
  (error: unknown) => send({ type: 'init-error', error: payloadOf(error) }),
);

process.on('message', async (invocation: Invocation) => {
  const { requestId } = invocation;
  try {
    const handler = await loading;
    const result = await handler(invocation.event, contextOf(invocation));
    send({ type: 'result', requestId, result: result ?? null });
  } catch (error) {
    send({ type: 'error', requestId, error: payloadOf(error) });
  }
});

// The parent owns this environment: without it, nothing invokes it.
process.on('disconnect', () => process.exit(0));
