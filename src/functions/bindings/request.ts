/**
 * Request triggers: the function serves its subject, and its return value
 * is the reply.
 */
import type { Server } from '../../core/requests.ts';
import type { RequestTrigger } from '../types.ts';
import {
  type Binding,
  type BindingEnv,
  functionContext,
  settledWithin,
} from './binding.ts';

/**
 * Serves the subject. A handler that throws sends a `RemoteError` to the
 * requester and counts as failed.
 */
export async function bindRequest(
  env: BindingEnv,
  trigger: RequestTrigger,
): Promise<Binding> {
  const { stats } = env;
  const aborting = new AbortController();
  const running = new Set<Promise<unknown>>();

  const server: Server = await env.client.serve(
    trigger.subject,
    async (request: unknown) => {
      stats.delivered++;
      stats.runs++;
      stats.inFlight++;
      const run = (async () =>
        env.fn.handler(
          request,
          functionContext(env, { attempt: 1, signal: aborting.signal }),
        ))();
      running.add(run);
      try {
        const reply = await run;
        stats.succeeded++;
        return reply;
      } catch (error) {
        stats.failed++;
        throw error;
      } finally {
        running.delete(run);
        stats.inFlight--;
      }
    },
  );

  return {
    sync: () => {},
    busy: () => running.size > 0,
    async stop(timeoutMs) {
      await server.close();
      if (!(await settledWithin(Promise.allSettled(running), timeoutMs))) {
        aborting.abort();
      }
    },
  };
}
