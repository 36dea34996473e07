/**
 * Channel and broadcast triggers: a push subscription that runs the
 * handler with the function's delivery options.
 */
import type { SubscribeOptions } from '../../core/channel.ts';
import type { Message } from '../../core/message.ts';
import { declaredChannelOptions } from '../context.ts';
import { copySubscriptionStats } from '../stats.ts';
import type { BroadcastTrigger, ChannelTrigger } from '../types.ts';
import { type Binding, type BindingEnv, functionContext } from './binding.ts';

/**
 * Subscribes the function to its channel: as a member of its worker
 * group, or as this instance's broadcast consumer. The channel handle
 * carries the declaration and every group of the pipeline on it.
 */
export function bindChannel(
  env: BindingEnv,
  trigger: ChannelTrigger | BroadcastTrigger,
): Binding {
  const { fn, stats } = env;
  const channel = env.client.channel(
    trigger.channel,
    declaredChannelOptions(env.pipeline, trigger.channel),
  );
  const subscription = channel.subscribe(
    (message: Message<unknown>, context) => {
      stats.runs++;
      const logger = context.logger.child({ function: fn.name });
      return fn.handler(
        message,
        functionContext(env, {
          attempt: context.attempt,
          signal: context.signal,
          logger,
        }),
      );
    },
    subscribeOptions(env, trigger),
  );

  return {
    consumer: { channel: trigger.channel, name: subscription.group },
    sync: () => copySubscriptionStats(subscription.stats, stats),
    busy: () => subscription.stats.inFlight > 0,
    stop: (timeoutMs) => subscription.close({ timeoutMs }),
  };
}

function subscribeOptions(
  env: BindingEnv,
  trigger: ChannelTrigger | BroadcastTrigger,
): SubscribeOptions {
  const { fn } = env;
  const mode =
    trigger.type === 'channel'
      ? { group: trigger.group }
      : { broadcast: true as const };

  return {
    ...mode,
    ...(fn.guarantee !== undefined && { guarantee: fn.guarantee }),
    ...(fn.concurrency !== undefined && { concurrency: fn.concurrency }),
    ...(fn.maxAttempts !== undefined && { maxAttempts: fn.maxAttempts }),
    ...(fn.backoff !== undefined && { backoff: fn.backoff }),
    ...(fn.leaseMs !== undefined && { leaseMs: fn.leaseMs }),
  };
}
